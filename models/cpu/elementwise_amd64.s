#include "textflag.h"

// The memory-bound element loops of training in AVX-512F (elementwise_amd64.go): n a multiple of 16,
// > 0. Each gives the Go loop's numbers (addF32AVX512, scaleF32AVX512) or its sum in another order
// (sumSqAVX512).

// func addF32AVX512(dst, src *float32, n int, alpha float32)
// dst[i] += alpha*src[i], the product rounded before the sum as the Go loop does it (no FMA); alpha 1
// leaves src as it is, so that case is the plain sum.
TEXT ·addF32AVX512(SB), NOSPLIT, $0-28
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    n+16(FP), CX
	VBROADCASTSS alpha+24(FP), Z2

addloop:
	VMOVUPS (SI), Z0
	VMULPS  Z2, Z0, Z0
	VADDPS  (DI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JNZ     addloop
	VZEROUPPER
	RET

// func scaleF32AVX512(a *float32, n int, s float32)
// a[i] *= s.
TEXT ·scaleF32AVX512(SB), NOSPLIT, $0-20
	MOVQ    a+0(FP), DI
	MOVQ    n+8(FP), CX
	VBROADCASTSS s+16(FP), Z2

scaleloop:
	VMULPS  (DI), Z2, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	SUBQ    $16, CX
	JNZ     scaleloop
	VZEROUPPER
	RET

// func sumSqAVX512(x *float32, n int) float64
// Σ x[i]² in float64: each x widened exactly, its square exact in float64 (24-bit mantissas), so
// the fused multiply-add rounds once per term as the Go loop's square-then-add does; only the order
// of the sum differs (16 lanes, then the halves folded).
TEXT ·sumSqAVX512(SB), NOSPLIT, $0-24
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	VXORPD  Z0, Z0, Z0
	VXORPD  Z1, Z1, Z1

sumsqloop:
	VCVTPS2PD (SI), Z2
	VCVTPS2PD 32(SI), Z3
	VFMADD231PD Z2, Z2, Z0
	VFMADD231PD Z3, Z3, Z1
	ADDQ    $64, SI
	SUBQ    $16, CX
	JNZ     sumsqloop

	VADDPD  Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD  Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD  X1, X0, X0
	VPERMILPD $1, X0, X1
	VADDSD  X1, X0, X0
	MOVSD   X0, ret+16(FP)
	VZEROUPPER
	RET
