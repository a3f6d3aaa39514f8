#include "textflag.h"

// GEMM micro-kernels. Each computes one register tile C[mr×nr] = alpha·Ap·Bp + beta·C over kc steps
// from packed panels (see gemmKernel in gemm.go): at step p, Ap holds mr values of A (one per row of the
// tile) and Bp holds nr values of B (one per column). The accumulators never leave registers; C is read
// (only when beta != 0) and written once, at the end. VZEROUPPER before RET: dirty upper halves make the
// SSE code elsewhere in Go (math.Exp, ...) run several times slower.

// One k step of the 6×16 AVX2 tile: two 8-wide loads of B, six broadcasts of A, twelve FMAs into Y0..Y11
// (row i in Y(2i), Y(2i+1)). Y12..Y15 are the B and broadcast registers: all 16 YMM registers in use.
#define STEP6x16(ao, bo) \
	VMOVUPS      bo(BX), Y12;          \
	VMOVUPS      bo+32(BX), Y13;       \
	VBROADCASTSS ao(AX), Y14;          \
	VFMADD231PS  Y12, Y14, Y0;         \
	VFMADD231PS  Y13, Y14, Y1;         \
	VBROADCASTSS ao+4(AX), Y15;        \
	VFMADD231PS  Y12, Y15, Y2;         \
	VFMADD231PS  Y13, Y15, Y3;         \
	VBROADCASTSS ao+8(AX), Y14;        \
	VFMADD231PS  Y12, Y14, Y4;         \
	VFMADD231PS  Y13, Y14, Y5;         \
	VBROADCASTSS ao+12(AX), Y15;       \
	VFMADD231PS  Y12, Y15, Y6;         \
	VFMADD231PS  Y13, Y15, Y7;         \
	VBROADCASTSS ao+16(AX), Y14;       \
	VFMADD231PS  Y12, Y14, Y8;         \
	VFMADD231PS  Y13, Y14, Y9;         \
	VBROADCASTSS ao+20(AX), Y15;       \
	VFMADD231PS  Y12, Y15, Y10;        \
	VFMADD231PS  Y13, Y15, Y11

// C row = alpha·acc + beta·C row (Y12 = alpha, Y13 = beta), then advance DX by ldc bytes (R8).
#define ROWBETA16(r0, r1) \
	VMULPS      (DX), Y13, Y14;   \
	VMULPS      32(DX), Y13, Y15; \
	VFMADD231PS r0, Y12, Y14;     \
	VFMADD231PS r1, Y12, Y15;     \
	VMOVUPS     Y14, (DX);        \
	VMOVUPS     Y15, 32(DX);      \
	ADDQ        R8, DX

// C row = alpha·acc (C is not read: NaN in C must not survive beta = 0).
#define ROWZERO16(r0, r1) \
	VMULPS  r0, Y12, r0;  \
	VMULPS  r1, Y12, r1;  \
	VMOVUPS r0, (DX);     \
	VMOVUPS r1, 32(DX);   \
	ADDQ    R8, DX

// func gemmKernelAVX2_6x16(kc int, a *float32, b *float32, c *float32, ldc int, alpha float32, beta float32)
TEXT ·gemmKernelAVX2_6x16(SB), NOSPLIT, $0-48
	MOVQ   kc+0(FP), CX
	MOVQ   a+8(FP), AX
	MOVQ   b+16(FP), BX
	MOVQ   c+24(FP), DX
	MOVQ   ldc+32(FP), R8
	SHLQ   $2, R8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	MOVQ   CX, R9
	SHRQ   $2, R9
	JZ     tail6x16

loop6x16:
	STEP6x16(0, 0)
	STEP6x16(24, 64)
	STEP6x16(48, 128)
	STEP6x16(72, 192)
	ADDQ $96, AX
	ADDQ $256, BX
	DECQ R9
	JNZ  loop6x16

tail6x16:
	ANDQ $3, CX
	JZ   store6x16

loop1_6x16:
	STEP6x16(0, 0)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  loop1_6x16

store6x16:
	VBROADCASTSS alpha+40(FP), Y12
	MOVL         beta+44(FP), R10
	SHLL         $1, R10            // drop the sign: -0 is zero too
	JZ           zero6x16
	VBROADCASTSS beta+44(FP), Y13
	ROWBETA16(Y0, Y1)
	ROWBETA16(Y2, Y3)
	ROWBETA16(Y4, Y5)
	ROWBETA16(Y6, Y7)
	ROWBETA16(Y8, Y9)
	ROWBETA16(Y10, Y11)
	VZEROUPPER
	RET

zero6x16:
	ROWZERO16(Y0, Y1)
	ROWZERO16(Y2, Y3)
	ROWZERO16(Y4, Y5)
	ROWZERO16(Y6, Y7)
	ROWZERO16(Y8, Y9)
	ROWZERO16(Y10, Y11)
	VZEROUPPER
	RET

// One k step of the 12×32 AVX-512 tile: two 16-wide loads of B into Z24, Z25 and, for each of the 12
// rows, two FMAs with A's value broadcast straight from memory (embedded broadcast: no register, one
// instruction). Row i accumulates in Z(2i), Z(2i+1).
#define FMA2(ao, r0, r1) \
	VFMADD231PS.BCST ao(AX), Z24, r0; \
	VFMADD231PS.BCST ao(AX), Z25, r1

#define STEP12x32(ao, bo) \
	VMOVUPS bo(BX), Z24;     \
	VMOVUPS bo+64(BX), Z25;  \
	FMA2(ao, Z0, Z1);        \
	FMA2(ao+4, Z2, Z3);      \
	FMA2(ao+8, Z4, Z5);      \
	FMA2(ao+12, Z6, Z7);     \
	FMA2(ao+16, Z8, Z9);     \
	FMA2(ao+20, Z10, Z11);   \
	FMA2(ao+24, Z12, Z13);   \
	FMA2(ao+28, Z14, Z15);   \
	FMA2(ao+32, Z16, Z17);   \
	FMA2(ao+36, Z18, Z19);   \
	FMA2(ao+40, Z20, Z21);   \
	FMA2(ao+44, Z22, Z23)

// Z26 = alpha, Z27 = beta; DX advances by ldc bytes (R8).
#define ROWBETA32(r0, r1) \
	VMULPS      (DX), Z27, Z28;   \
	VMULPS      64(DX), Z27, Z29; \
	VFMADD231PS r0, Z26, Z28;     \
	VFMADD231PS r1, Z26, Z29;     \
	VMOVUPS     Z28, (DX);        \
	VMOVUPS     Z29, 64(DX);      \
	ADDQ        R8, DX

#define ROWZERO32(r0, r1) \
	VMULPS  r0, Z26, r0;  \
	VMULPS  r1, Z26, r1;  \
	VMOVUPS r0, (DX);     \
	VMOVUPS r1, 64(DX);   \
	ADDQ    R8, DX

// func gemmKernelAVX512_12x32(kc int, a *float32, b *float32, c *float32, ldc int, alpha float32, beta float32)
TEXT ·gemmKernelAVX512_12x32(SB), NOSPLIT, $0-48
	MOVQ   kc+0(FP), CX
	MOVQ   a+8(FP), AX
	MOVQ   b+16(FP), BX
	MOVQ   c+24(FP), DX
	MOVQ   ldc+32(FP), R8
	SHLQ   $2, R8
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	MOVQ   CX, R9
	SHRQ   $1, R9
	JZ     tail12x32

loop12x32:
	STEP12x32(0, 0)
	STEP12x32(48, 128)
	ADDQ $96, AX
	ADDQ $256, BX
	DECQ R9
	JNZ  loop12x32

tail12x32:
	ANDQ $1, CX
	JZ   store12x32
	STEP12x32(0, 0)

store12x32:
	VBROADCASTSS alpha+40(FP), Z26
	MOVL         beta+44(FP), R10
	SHLL         $1, R10
	JZ           zero12x32
	VBROADCASTSS beta+44(FP), Z27
	ROWBETA32(Z0, Z1)
	ROWBETA32(Z2, Z3)
	ROWBETA32(Z4, Z5)
	ROWBETA32(Z6, Z7)
	ROWBETA32(Z8, Z9)
	ROWBETA32(Z10, Z11)
	ROWBETA32(Z12, Z13)
	ROWBETA32(Z14, Z15)
	ROWBETA32(Z16, Z17)
	ROWBETA32(Z18, Z19)
	ROWBETA32(Z20, Z21)
	ROWBETA32(Z22, Z23)
	VZEROUPPER
	RET

zero12x32:
	ROWZERO32(Z0, Z1)
	ROWZERO32(Z2, Z3)
	ROWZERO32(Z4, Z5)
	ROWZERO32(Z6, Z7)
	ROWZERO32(Z8, Z9)
	ROWZERO32(Z10, Z11)
	ROWZERO32(Z12, Z13)
	ROWZERO32(Z14, Z15)
	ROWZERO32(Z16, Z17)
	ROWZERO32(Z18, Z19)
	ROWZERO32(Z20, Z21)
	ROWZERO32(Z22, Z23)
	VZEROUPPER
	RET
