#include "textflag.h"

// Vector forms of expf (backend_math.go) for AVX-512F, eight elements at a time, giving expf's bits:
// the same Tang table method in float64 lanes (separate multiplies and adds, as the Go code compiles
// for GOAMD64=v1, so no fused rounding), the table read with a gather, one rounding to float32.
// n is a multiple of 8 and > 0; the callers do the rest with the Go code.
//
// Registers: Z16-Z21 the float64 constants of expConstants.c (64/ln2, 1.5·2^52, ln2/64, 1, 1/2, 1/6),
// Z22 the index mask 63, Y11 = -104, Y12 = 89, Y13 = 1 (float32), Y14 the float32 sign bit;
// R8 the expConstants (its table 2^(j/64) first). EXP8 takes x in Y0 (clamped to [-104, 89]) and leaves e^x in Y0; it uses
// Z1-Z7 and K1.

#define LOADCONSTS \
	VBROADCASTSD 512(R8), Z16; \
	VBROADCASTSD 520(R8), Z17; \
	VBROADCASTSD 528(R8), Z18; \
	VBROADCASTSD 536(R8), Z19; \
	VBROADCASTSD 544(R8), Z20; \
	VBROADCASTSD 552(R8), Z21; \
	MOVQ    $63, AX; \
	VPBROADCASTQ AX, Z22; \
	MOVL    $0xc2d00000, AX; \
	VMOVD   AX, X11; \
	VBROADCASTSS X11, Y11; \
	MOVL    $0x42b20000, AX; \
	VMOVD   AX, X12; \
	VBROADCASTSS X12, Y12; \
	MOVL    $0x3f800000, AX; \
	VMOVD   AX, X13; \
	VBROADCASTSS X13, Y13; \
	MOVL    $0x80000000, AX; \
	VMOVD   AX, X14; \
	VBROADCASTSS X14, Y14

#define CLAMP \
	VMAXPS  Y0, Y11, Y0; \
	VMINPS  Y0, Y12, Y0

#define EXP8 \
	VCVTPS2PD Y0, Z1; \
	VMULPD  Z16, Z1, Z2; \
	VADDPD  Z17, Z2, Z2; \
	VSUBPD  Z17, Z2, Z3; \
	VMULPD  Z18, Z3, Z3; \
	VSUBPD  Z3, Z1, Z3; \
	VMULPD  Z21, Z3, Z4; \
	VADDPD  Z20, Z4, Z4; \
	VMULPD  Z3, Z4, Z4; \
	VADDPD  Z19, Z4, Z4; \
	VMULPD  Z3, Z4, Z4; \
	VADDPD  Z19, Z4, Z4; \
	VPANDQ  Z22, Z2, Z5; \
	KXNORW  K1, K1, K1; \
	VGATHERQPD (R8)(Z5*8), K1, Z6; \
	VPSRLQ  $6, Z2, Z7; \
	VPSLLQ  $52, Z7, Z7; \
	VPADDQ  Z7, Z6, Z6; \
	VMULPD  Z6, Z4, Z4; \
	VCVTPD2PS Z4, Y0

// func expShiftSumAVX512(dst, src *float32, n int, shift float32, k *expConstants) float64
// dst[j] = expf(src[j] - shift); returns the float64 sum of the float32 results.
TEXT ·expShiftSumAVX512(SB), NOSPLIT, $0-48
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    n+16(FP), CX
	VBROADCASTSS shift+24(FP), Y9
	MOVQ    k+32(FP), R8
	LOADCONSTS
	VPXORQ  Z10, Z10, Z10

sumloop:
	VMOVUPS (SI), Y0
	VSUBPS  Y9, Y0, Y0
	CLAMP
	EXP8
	VMOVUPS Y0, (DI)
	VCVTPS2PD Y0, Z1
	VADDPD  Z1, Z10, Z10
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     sumloop

	VEXTRACTF64X4 $1, Z10, Y1
	VADDPD  Y1, Y10, Y10
	VEXTRACTF128 $1, Y10, X1
	VADDPD  X1, X10, X10
	VPERMILPD $1, X10, X1
	VADDSD  X1, X10, X10
	MOVSD   X10, ret+40(FP)
	VZEROUPPER
	RET

// func swiGLUAVX512(o, gate, u *float32, n int, k *expConstants)
// o[j] = g[j] / (1 + expf(-g[j])) * u[j]; o may be g or u.
TEXT ·swiGLUAVX512(SB), NOSPLIT, $0-40
	MOVQ    o+0(FP), DI
	MOVQ    gate+8(FP), SI
	MOVQ    u+16(FP), DX
	MOVQ    n+24(FP), CX
	MOVQ    k+32(FP), R8
	LOADCONSTS

fwdloop:
	VMOVUPS (SI), Y8
	VXORPS  Y14, Y8, Y0
	CLAMP
	EXP8
	VADDPS  Y13, Y0, Y0
	VDIVPS  Y0, Y8, Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     fwdloop
	VZEROUPPER
	RET

// func swiGLUBackwardAVX512(gate, u, d, dg, du *float32, n int, k *expConstants)
// With den = 1 + expf(-g) and s = 1/den: dg = d·u·(s·(1 + g·(1 − s))), du = d·(g/den); dg or du may be d.
TEXT ·swiGLUBackwardAVX512(SB), NOSPLIT, $0-56
	MOVQ    gate+0(FP), SI
	MOVQ    u+8(FP), DX
	MOVQ    d+16(FP), BX
	MOVQ    dg+24(FP), DI
	MOVQ    du+32(FP), R10
	MOVQ    n+40(FP), CX
	MOVQ    k+48(FP), R8
	LOADCONSTS

bwdloop:
	VMOVUPS (SI), Y8
	VXORPS  Y14, Y8, Y0
	CLAMP
	EXP8
	VADDPS  Y13, Y0, Y0
	VDIVPS  Y0, Y13, Y1
	VSUBPS  Y1, Y13, Y2
	VMULPS  Y2, Y8, Y2
	VADDPS  Y13, Y2, Y2
	VMULPS  Y2, Y1, Y2
	VMOVUPS (BX), Y3
	VMULPS  (DX), Y3, Y5
	VMULPS  Y2, Y5, Y5
	VDIVPS  Y0, Y8, Y6
	VMULPS  Y6, Y3, Y6
	VMOVUPS Y5, (DI)
	VMOVUPS Y6, (R10)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, BX
	ADDQ    $32, DI
	ADDQ    $32, R10
	SUBQ    $8, CX
	JNZ     bwdloop
	VZEROUPPER
	RET

// func maxF32AVX512(p *float32, n int, first float32) float32
// The largest of first and p[0..n) (n a multiple of 16, > 0), as maxF32 finds it: each lane keeps its
// value unless a new one is greater (VMAXPS returns its second source on equality and on NaN), so NaNs
// are skipped unless first is one.
TEXT ·maxF32AVX512(SB), NOSPLIT, $0-28
	MOVQ    p+0(FP), SI
	MOVQ    n+8(FP), CX
	VBROADCASTSS first+16(FP), Z0

maxloop:
	VMOVUPS (SI), Z1
	VMAXPS  Z0, Z1, Z0
	ADDQ    $64, SI
	SUBQ    $16, CX
	JNZ     maxloop

	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS  Y0, Y1, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS  X0, X1, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS  X0, X1, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS  X0, X1, X0
	MOVSS   X0, ret+24(FP)
	VZEROUPPER
	RET
