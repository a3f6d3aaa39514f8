package cpu

// adamwVec is adamwScalars laid out for adamwAVX512 (adamw_amd64.s).
type adamwVec struct {
	decay, lerp, beta2, c2, bc2sqrt, eps, negStep float32
	small                                         uint32
}

//go:noescape
func adamwAVX512(n int, p, grad, mom, vel *float32, c *adamwVec)

// adamwFast runs adamwAVX512 over the longest prefix of whole groups of 16 where the CPU has
// AVX-512 (activeKernels.vecMath) and returns its length (0 otherwise); the caller does the rest.
func adamwFast(c adamwScalars, p, g, m, v []float32) int {
	n := len(p) &^ 15
	if !activeKernels.vecMath || n == 0 {
		return 0
	}
	_, _, _ = g[n-1], m[n-1], v[n-1]
	k := adamwVec{decay: 1, lerp: c.w - 1, beta2: c.beta2, c2: c.c2, bc2sqrt: c.bc2sqrt, eps: c.eps, negStep: c.negStep}
	if c.wd {
		k.decay = c.decay
	}
	if c.smallLerp {
		k.lerp, k.small = c.w, 1
	}
	adamwAVX512(n, &p[0], &g[0], &m[0], &v[0], &k)
	return n
}
