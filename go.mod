module seal

go 1.26.8

require (
	github.com/ardanlabs/jinja v1.8.0
	golang.org/x/sys v0.43.0
	golang.org/x/text v0.23.0
)

require github.com/ebitengine/purego v0.11.3 // indirect
