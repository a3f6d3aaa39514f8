module seal

go 1.26.8

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/ardanlabs/jinja v1.8.0
	github.com/ebitengine/purego v0.11.3
	github.com/mattn/go-sqlite3 v1.14.32
	golang.org/x/sys v0.43.0
	golang.org/x/text v0.23.0
)
