#include "textflag.h"

// GEMV kernels. Matrix-vector products read every element of A once and do one FMA with it, so they are
// bound by memory bandwidth: the kernels only have to keep enough loads in flight (8 independent
// accumulators) and, for bf16, widen in registers (zero-extend to 32 bits, shift left 16) so that A
// crosses the memory bus at 2 bytes per element.

// Horizontal sums of Y0, Y2, Y4, Y6 into X0 = [sum Y0, sum Y2, sum Y4, sum Y6].
#define HSUM4 \
	VHADDPS      Y2, Y0, Y0;  \
	VHADDPS      Y6, Y4, Y4;  \
	VHADDPS      Y4, Y0, Y0;  \
	VEXTRACTF128 $1, Y0, X1;  \
	VADDPS       X1, X0, X0

// func gemvDot4(n int, a *float32, lda int, x *float32, out *float32)
// out[r] = Σ_{j<n} a[r·lda + j]·x[j] for r < 4; n is a multiple of 16 and > 0.
TEXT ·gemvDot4(SB), NOSPLIT, $0-40
	MOVQ   n+0(FP), CX
	MOVQ   a+8(FP), SI
	MOVQ   lda+16(FP), R8
	SHLQ   $2, R8
	LEAQ   (R8)(R8*2), R9
	MOVQ   x+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

dot4loop:
	VMOVUPS     (DI), Y8
	VMOVUPS     32(DI), Y9
	VFMADD231PS (SI), Y8, Y0
	VFMADD231PS 32(SI), Y9, Y1
	VFMADD231PS (SI)(R8*1), Y8, Y2
	VFMADD231PS 32(SI)(R8*1), Y9, Y3
	VFMADD231PS (SI)(R8*2), Y8, Y4
	VFMADD231PS 32(SI)(R8*2), Y9, Y5
	VFMADD231PS (SI)(R9*1), Y8, Y6
	VFMADD231PS 32(SI)(R9*1), Y9, Y7
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JNZ         dot4loop

	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y5, Y4, Y4
	VADDPS Y7, Y6, Y6
	HSUM4
	MOVQ    out+32(FP), DX
	VMOVUPS X0, (DX)
	VZEROUPPER
	RET

// func gemvDot4BF16(n int, a *uint16, lda int, x *float32, out *float32)
// As gemvDot4 with A in bfloat16.
TEXT ·gemvDot4BF16(SB), NOSPLIT, $0-40
	MOVQ   n+0(FP), CX
	MOVQ   a+8(FP), SI
	MOVQ   lda+16(FP), R8
	SHLQ   $1, R8
	LEAQ   (R8)(R8*2), R9
	MOVQ   x+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

dot4bloop:
	VMOVUPS     (DI), Y8
	VMOVUPS     32(DI), Y9
	VPMOVZXWD   (SI), Y10
	VPMOVZXWD   16(SI), Y11
	VPMOVZXWD   (SI)(R8*1), Y12
	VPMOVZXWD   16(SI)(R8*1), Y13
	VPSLLD      $16, Y10, Y10
	VPSLLD      $16, Y11, Y11
	VPSLLD      $16, Y12, Y12
	VPSLLD      $16, Y13, Y13
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y11, Y9, Y1
	VFMADD231PS Y12, Y8, Y2
	VFMADD231PS Y13, Y9, Y3
	VPMOVZXWD   (SI)(R8*2), Y10
	VPMOVZXWD   16(SI)(R8*2), Y11
	VPMOVZXWD   (SI)(R9*1), Y12
	VPMOVZXWD   16(SI)(R9*1), Y13
	VPSLLD      $16, Y10, Y10
	VPSLLD      $16, Y11, Y11
	VPSLLD      $16, Y12, Y12
	VPSLLD      $16, Y13, Y13
	VFMADD231PS Y10, Y8, Y4
	VFMADD231PS Y11, Y9, Y5
	VFMADD231PS Y12, Y8, Y6
	VFMADD231PS Y13, Y9, Y7
	ADDQ        $32, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JNZ         dot4bloop

	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y5, Y4, Y4
	VADDPS Y7, Y6, Y6
	HSUM4
	MOVQ    out+32(FP), DX
	VMOVUPS X0, (DX)
	VZEROUPPER
	RET

// Horizontal sum of Y0 into X0's low element.
#define HSUM1 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VHADDPS      X0, X0, X0; \
	VHADDPS      X0, X0, X0

// func gemvDot1(n int, a *float32, x *float32) float32
// Σ_{j<n} a[j]·x[j]; n is a multiple of 16 and > 0.
TEXT ·gemvDot1(SB), NOSPLIT, $0-28
	MOVQ   n+0(FP), CX
	MOVQ   a+8(FP), SI
	MOVQ   x+16(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

dot1loop:
	VMOVUPS     (SI), Y8
	VMOVUPS     32(SI), Y9
	VFMADD231PS (DI), Y8, Y0
	VFMADD231PS 32(DI), Y9, Y1
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JNZ         dot1loop

	VADDPS Y1, Y0, Y0
	HSUM1
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func gemvDot1BF16(n int, a *uint16, x *float32) float32
TEXT ·gemvDot1BF16(SB), NOSPLIT, $0-28
	MOVQ   n+0(FP), CX
	MOVQ   a+8(FP), SI
	MOVQ   x+16(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

dot1bloop:
	VPMOVZXWD   (SI), Y8
	VPMOVZXWD   16(SI), Y9
	VPSLLD      $16, Y8, Y8
	VPSLLD      $16, Y9, Y9
	VFMADD231PS (DI), Y8, Y0
	VFMADD231PS 32(DI), Y9, Y1
	ADDQ        $32, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JNZ         dot1bloop

	VADDPS Y1, Y0, Y0
	HSUM1
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func gemvAxpy4(n int, a *float32, lda int, x *float32, y *float32)
// y[j] += Σ_{r<4} x[r]·a[r·lda + j] for j < n; n is a multiple of 16 and > 0. (Aᵀ·x, four rows of A at
// a time, so that y is loaded and stored once per four rows.)
TEXT ·gemvAxpy4(SB), NOSPLIT, $0-40
	MOVQ         n+0(FP), CX
	MOVQ         a+8(FP), SI
	MOVQ         lda+16(FP), R8
	SHLQ         $2, R8
	LEAQ         (R8)(R8*2), R9
	MOVQ         x+24(FP), DI
	VBROADCASTSS (DI), Y12
	VBROADCASTSS 4(DI), Y13
	VBROADCASTSS 8(DI), Y14
	VBROADCASTSS 12(DI), Y15
	MOVQ         y+32(FP), DX

axpy4loop:
	VMOVUPS     (DX), Y0
	VMOVUPS     32(DX), Y1
	VMULPS      (SI), Y12, Y2
	VMULPS      32(SI), Y12, Y3
	VFMADD231PS (SI)(R8*1), Y13, Y0
	VFMADD231PS 32(SI)(R8*1), Y13, Y1
	VFMADD231PS (SI)(R8*2), Y14, Y2
	VFMADD231PS 32(SI)(R8*2), Y14, Y3
	VFMADD231PS (SI)(R9*1), Y15, Y0
	VFMADD231PS 32(SI)(R9*1), Y15, Y1
	VADDPS      Y2, Y0, Y0
	VADDPS      Y3, Y1, Y1
	VMOVUPS     Y0, (DX)
	VMOVUPS     Y1, 32(DX)
	ADDQ        $64, SI
	ADDQ        $64, DX
	SUBQ        $16, CX
	JNZ         axpy4loop
	VZEROUPPER
	RET

// func gemvAxpy4BF16(n int, a *uint16, lda int, x *float32, y *float32)
TEXT ·gemvAxpy4BF16(SB), NOSPLIT, $0-40
	MOVQ         n+0(FP), CX
	MOVQ         a+8(FP), SI
	MOVQ         lda+16(FP), R8
	SHLQ         $1, R8
	LEAQ         (R8)(R8*2), R9
	MOVQ         x+24(FP), DI
	VBROADCASTSS (DI), Y12
	VBROADCASTSS 4(DI), Y13
	VBROADCASTSS 8(DI), Y14
	VBROADCASTSS 12(DI), Y15
	MOVQ         y+32(FP), DX

axpy4bloop:
	VPMOVZXWD   (SI), Y4
	VPMOVZXWD   16(SI), Y5
	VPMOVZXWD   (SI)(R8*1), Y6
	VPMOVZXWD   16(SI)(R8*1), Y7
	VPMOVZXWD   (SI)(R8*2), Y8
	VPMOVZXWD   16(SI)(R8*2), Y9
	VPMOVZXWD   (SI)(R9*1), Y10
	VPMOVZXWD   16(SI)(R9*1), Y11
	VPSLLD      $16, Y4, Y4
	VPSLLD      $16, Y5, Y5
	VPSLLD      $16, Y6, Y6
	VPSLLD      $16, Y7, Y7
	VPSLLD      $16, Y8, Y8
	VPSLLD      $16, Y9, Y9
	VPSLLD      $16, Y10, Y10
	VPSLLD      $16, Y11, Y11
	VMOVUPS     (DX), Y0
	VMOVUPS     32(DX), Y1
	VMULPS      Y4, Y12, Y2
	VMULPS      Y5, Y12, Y3
	VFMADD231PS Y6, Y13, Y0
	VFMADD231PS Y7, Y13, Y1
	VFMADD231PS Y8, Y14, Y2
	VFMADD231PS Y9, Y14, Y3
	VFMADD231PS Y10, Y15, Y0
	VFMADD231PS Y11, Y15, Y1
	VADDPS      Y2, Y0, Y0
	VADDPS      Y3, Y1, Y1
	VMOVUPS     Y0, (DX)
	VMOVUPS     Y1, 32(DX)
	ADDQ        $32, SI
	ADDQ        $64, DX
	SUBQ        $16, CX
	JNZ         axpy4bloop
	VZEROUPPER
	RET
