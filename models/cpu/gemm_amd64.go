package cpu

// Assembly micro-kernels, in kernel_amd64.s. a and b point into packed panels of at least kc·mr and
// kc·nr floats; c points at the tile's top-left element of C, whose mr rows of nr floats at stride ldc
// must all be inside the matrix (the driver sends edge tiles to a scratch tile instead).

//go:noescape
func gemmKernelAVX2_6x16(kc int, a *float32, b *float32, c *float32, ldc int, alpha float32, beta float32)

//go:noescape
func gemmKernelAVX512_12x32(kc int, a *float32, b *float32, c *float32, ldc int, alpha float32, beta float32)

// Blocking, measured on the 2-core Zen 4 EPYC (1 MiB L2 per core, 32 MiB shared L3) with
// BenchmarkSgemm: deep k blocks pay best (fewer passes over C, longer sequential runs when packing a
// transposed B). The 12×32 kernel needs only ~7 bytes per cycle for its operands, so its kc×32 B
// micro-panel (128 KiB at kc = 1024) can live in L2 rather than L1; the 6×16 kernel needs about twice
// that, and is kept to kc = 512 and an mc×kc A block of 192 KiB so that it also suits a Zen 3 (512 KiB
// L2). The B block shared by the threads (kc×ncPar) is 8 MiB (4 MiB for 6×16), a quarter of the L3.
var (
	avx2Gemm   = gemmKernel{mr: 6, nr: 16, kc: 512, mc: 96, nc: 1024, ncPar: 2048, full: gemmKernelAVX2_6x16}
	avx512Gemm = gemmKernel{mr: 12, nr: 32, kc: 1024, mc: 144, nc: 1024, ncPar: 2048, full: gemmKernelAVX512_12x32}
)

// Packing in assembly (gemm_pack_amd64.s): in-register transposes, see there.

//go:noescape
func packBTransAVX2(d *float32, b *float32, ldb int, nr int, kc8 int)

//go:noescape
func packBTransBF16AVX2(d *float32, b *uint16, ldb int, nr int, kc8 int)

//go:noescape
func packBRowsAVX2(d *float32, b *float32, ldb int, nr int, kc int, strips int)

//go:noescape
func packBRowsBF16AVX2(d *float32, b *uint16, ldb int, nr int, kc int, strips int)

//go:noescape
func packATransAVX(d *float32, a *float32, lda int, mr int, kc int)

//go:noescape
func packARowsAVX(d *float32, a *float32, lda int, mr int, kc4 int)

// The fast packers below do the part of a micro-panel that suits the assembly and return how many of the
// kc steps they did (0 when the generic path is forced or the shape does not suit); the caller packs the
// rest. Each first indexes the last element it will touch, so that a wrong caller gets a bounds panic,
// not a wild read or write in the assembly.

// packARowsFast packs mr full rows of A (not transposed), d[q·mr+i] = a[(i0+i)·lda + p0+q].
func packARowsFast(d, a []float32, lda, i0, p0, kc, mr int) int {
	kc4 := kc &^ 3
	if !activeKernels.asmPack || kc4 == 0 || mr%2 != 0 {
		return 0
	}
	_ = a[(i0+mr-1)*lda+p0+kc-1]
	_ = d[mr*kc-1]
	packARowsAVX(&d[0], &a[i0*lda+p0], lda, mr, kc4)
	return kc4
}

// packATransFast packs mr (6 or 12) full columns of A stored k×m: d[q·mr+i] = a[(p0+q)·lda + i0+i].
func packATransFast(d, a []float32, lda, i0, p0, kc, mr int) bool {
	if !activeKernels.asmPack || (mr != 6 && mr != 12) {
		return false
	}
	_ = a[(p0+kc-1)*lda+i0+mr-1]
	_ = d[mr*kc-1]
	packATransAVX(&d[0], &a[p0*lda+i0], lda, mr, kc)
	return true
}

// packBTransFast packs nr full columns of op(B) from B stored n×k: d[q·nr+j] = b[(j0+j)·ldb + p0+q].
func packBTransFast(d, b []float32, ldb, j0, p0, kc, nr int) int {
	kc8 := kc &^ 7
	if !activeKernels.asmPack || kc8 == 0 || nr%8 != 0 {
		return 0
	}
	_ = b[(j0+nr-1)*ldb+p0+kc-1]
	_ = d[nr*kc-1]
	packBTransAVX2(&d[0], &b[j0*ldb+p0], ldb, nr, kc8)
	return kc8
}

// packBTransBF16Fast is packBTransFast for bf16 B.
func packBTransBF16Fast(d []float32, b []uint16, ldb, j0, p0, kc, nr int) int {
	kc8 := kc &^ 7
	if !activeKernels.asmPack || kc8 == 0 || nr%8 != 0 {
		return 0
	}
	_ = b[(j0+nr-1)*ldb+p0+kc-1]
	_ = d[nr*kc-1]
	packBTransBF16AVX2(&d[0], &b[j0*ldb+p0], ldb, nr, kc8)
	return kc8
}

// packBRowsFast packs the full nr-column micro-panels of op(B)[p0:p0+kc, j0:j0+nc] from B stored k×n
// (f32 or bf16), reading B row by row, and returns how many columns it did (a multiple of nr).
func packBRowsFast(d, b []float32, bh []uint16, ldb, p0, kc, j0, nc, nr int) int {
	strips := nc / nr
	if !activeKernels.asmPack || strips == 0 || nr%16 != 0 {
		return 0
	}
	_ = d[strips*nr*kc-1]
	if b != nil {
		_ = b[(p0+kc-1)*ldb+j0+strips*nr-1]
		packBRowsAVX2(&d[0], &b[p0*ldb+j0], ldb, nr, kc, strips)
	} else {
		_ = bh[(p0+kc-1)*ldb+j0+strips*nr-1]
		packBRowsBF16AVX2(&d[0], &bh[p0*ldb+j0], ldb, nr, kc, strips)
	}
	return strips * nr
}

type namedKernel struct {
	name string
	*gemmKernel
}

func kernelsForBench() []namedKernel {
	ks := []namedKernel{{"generic4x4", &genericGemm}}
	if hostFeatures.avx2FMA {
		ks = append(ks, namedKernel{"avx2_6x16", &avx2Gemm})
	}
	if hostFeatures.avx512 {
		ks = append(ks, namedKernel{"avx512_12x32", &avx512Gemm})
	}
	return ks
}
