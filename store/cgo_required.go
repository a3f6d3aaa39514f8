//go:build !cgo

package store

// go-sqlite3 is C compiled through cgo. Without cgo (CGO_ENABLED=0, or no C compiler on
// the machine, where Go turns cgo off by itself) its Go API is missing and the build would
// fail with a list of "undefined: sqlite3.ErrCorrupt" lines that do not say why. This file,
// built only then, makes the build stop first with one line that names the cause and the
// fix: the embed pattern below matches no file, and the go command prints the pattern.

import _ "embed"

//go:embed "seal needs cgo for go-sqlite3: install a C compiler (gcc or clang) and build with CGO_ENABLED=1"
var cgoRequired string
