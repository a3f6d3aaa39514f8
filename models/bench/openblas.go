package bench

import (
	"errors"
	"fmt"
	"os"

	"github.com/ebitengine/purego"
)

// blasLib is OpenBLAS loaded at run time, only to compare against: seal never computes
// with it. Install it for a comparison with `apt-get install libopenblas0`; set
// SEAL_OPENBLAS to a library path to use another build.
type blasLib struct {
	sgemm func(order, transA, transB, m, n, k int32, alpha float32, a *float32, lda int32, b *float32, ldb int32, beta float32, c *float32, ldc int32)
}

var blasPaths = []string{
	"libopenblas.so.0", "libopenblas.so",
	"/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
	"/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
}

func openBLAS() (*blasLib, error) {
	paths := blasPaths
	if p := os.Getenv("SEAL_OPENBLAS"); p != "" {
		paths = []string{p}
	}
	var errs []error
	for _, p := range paths {
		h, err := purego.Dlopen(p, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sym, err := purego.Dlsym(h, "cblas_sgemm")
		if err != nil {
			return nil, fmt.Errorf("%s has no cblas_sgemm: %w", p, err)
		}
		var lib blasLib
		purego.RegisterFunc(&lib.sgemm, sym)
		return &lib, nil
	}
	return nil, fmt.Errorf("libopenblas not found (apt-get install libopenblas0 to compare): %w", errors.Join(errs...))
}

// CBLAS constants.
const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

// sgemmNT is C[m×n] = A[m×k]·B[n×k]ᵀ, row-major, as seal's Sgemm(false, true, ...).
func (l *blasLib) sgemmNT(m, n, k int, a, b, c []float32) {
	l.sgemm(cblasRowMajor, cblasNoTrans, cblasTrans, int32(m), int32(n), int32(k), 1, &a[0], int32(k), &b[0], int32(k), 0, &c[0], int32(n))
}
