// Package safetensors reads and writes Hugging Face safetensors files.
//
// A file is an 8-byte little-endian header length N, N bytes of JSON header,
// then the tensor bytes. Reading maps the file into memory so tensors can be
// used in place; writing reproduces the Python/Rust writer byte for byte so
// files made here and files made there compare equal.
package safetensors
