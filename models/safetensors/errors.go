package safetensors

import (
	"fmt"
	"strings"
)

// Error describes a file or tensor that cannot be used. It carries the path
// and tensor name so a message points straight at the offending entry.
type Error struct {
	Path   string // file, empty for errors from ParseHeader or Encode
	Tensor string // tensor name, empty when the problem is file-wide
	Msg    string
	Err    error // underlying cause, if any (an *os.PathError, ...)
}

// Error formats as "safetensors: <path>: tensor \"<name>\": <problem>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("safetensors: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Tensor != "" {
		fmt.Fprintf(&b, "tensor %q: ", e.Tensor)
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		if e.Msg != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes the cause so callers can use errors.Is(err, fs.ErrNotExist).
func (e *Error) Unwrap() error { return e.Err }

func errf(tensor, format string, args ...any) *Error {
	return &Error{Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
}

// withPath stamps a path onto an *Error (or wraps any other error) so that
// errors from pure helpers name the file they came from.
func withPath(path string, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		c := *e
		if c.Path == "" {
			c.Path = path
		}
		return &c
	}
	return &Error{Path: path, Err: err}
}
