package safetensors

import (
	"errors"
	"fmt"
)

// DType is the element type named in a header ("F32", "BF16", ...). It is a
// string so files with dtypes this package does not know can still be listed.
type DType string

// The dtypes of the reference format. Sub-byte float types (F4, F6_*) are
// listed so their files validate, but they have no per-element byte size.
const (
	BOOL   DType = "BOOL"
	F4     DType = "F4"
	F6E2M3 DType = "F6_E2M3"
	F6E3M2 DType = "F6_E3M2"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
	F8E8M0 DType = "F8_E8M0"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	C64    DType = "C64"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
)

// dtypeInfo holds the bit width and the rank of each dtype in the Rust
// `Dtype` enum. The Python writer orders tensors by that rank (descending),
// not by size alone, so the rank must follow the enum declaration exactly.
var dtypeInfo = map[DType]struct{ bits, rank int }{
	BOOL:   {8, 0},
	F4:     {4, 1},
	F6E2M3: {6, 2},
	F6E3M2: {6, 3},
	U8:     {8, 4},
	I8:     {8, 5},
	F8E5M2: {8, 6},
	F8E4M3: {8, 7},
	F8E8M0: {8, 8},
	I16:    {16, 9},
	U16:    {16, 10},
	F16:    {16, 11},
	BF16:   {16, 12},
	I32:    {32, 13},
	U32:    {32, 14},
	F32:    {32, 15},
	C64:    {64, 16},
	F64:    {64, 17},
	I64:    {64, 18},
	U64:    {64, 19},
}

// Known reports whether the dtype is one the reference format defines.
func (d DType) Known() bool {
	_, ok := dtypeInfo[d]
	return ok
}

// Bits is the width of one element in bits (4 and 6 for the packed float
// types), or 0 for an unknown dtype.
func (d DType) Bits() int { return dtypeInfo[d].bits }

// Size is the number of bytes per element, or 0 when the dtype is unknown or
// packs several elements per byte.
func (d DType) Size() int {
	b := d.Bits()
	if b%8 != 0 {
		return 0
	}
	return b / 8
}

// IsFloat reports whether Float32 can convert this dtype.
func (d DType) IsFloat() bool {
	switch d {
	case F32, F16, BF16, F64:
		return true
	}
	return false
}

// IsInt reports whether Int64 can widen this dtype.
func (d DType) IsInt() bool {
	switch d {
	case I64, I32, I16, I8, U8, U16, U32, U64, BOOL:
		return true
	}
	return false
}

// byteLen is the byte size of n elements. It fails when the size
// overflows, when n elements of a packed type leave a partial byte, or when
// the dtype is unknown.
func (d DType) byteLen(n int64) (int64, error) {
	bits := int64(d.Bits())
	switch {
	case bits == 0:
		return 0, fmt.Errorf("unknown dtype %q", string(d))
	case n < 0 || n > (1<<62)/bits:
		return 0, errors.New("byte size overflows")
	case n*bits%8 != 0:
		return 0, errors.New("does not fill a whole number of bytes")
	}
	return n * bits / 8, nil
}
