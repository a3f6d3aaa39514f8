#include "textflag.h"

// func adamwAVX512(n int, p, grad, mom, vel *float32, c *adamwVec)
// adamwRange (ops_adamw.go) 16 lanes at a time, n a multiple of 16 and > 0: each operation
// rounded to float32 where the scalar code rounds (VFMADD231PS is the one fused step, as torch's
// vectorised lerp). adamwVec: decay, lerp weight (w, or w - 1 for the large-weight form), beta2,
// 1 - beta2, sqrt(bc2), eps, -lr/bc1 as float32s, then the form flag as a uint32 (1: small).
TEXT ·adamwAVX512(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ p+8(FP), DI
	MOVQ grad+16(FP), SI
	MOVQ mom+24(FP), DX
	MOVQ vel+32(FP), R8
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Z31  // decay (1 without weight decay: an exact product)
	VBROADCASTSS 4(AX), Z30  // lerp weight
	VBROADCASTSS 8(AX), Z29  // beta2
	VBROADCASTSS 12(AX), Z28 // 1 - beta2
	VBROADCASTSS 16(AX), Z27 // sqrt(bc2)
	VBROADCASTSS 20(AX), Z26 // eps
	VBROADCASTSS 24(AX), Z25 // -lr/bc1
	MOVL 28(AX), BX          // 1: m + w·(g − m); 0: g + (w − 1)·(g − m)
	XORQ AX, AX

loop:
	VMOVUPS (DI)(AX*4), Z0
	VMULPS  Z31, Z0, Z0     // pv = p·decay
	VMOVUPS (SI)(AX*4), Z1  // g
	VMOVUPS (DX)(AX*4), Z2  // m
	VMOVUPS (R8)(AX*4), Z4  // v
	VSUBPS  Z2, Z1, Z3      // diff = g − m
	VMULPS  Z29, Z4, Z4     // v·beta2
	VMULPS  Z28, Z1, Z5     // (1 − beta2)·g
	VMULPS  Z1, Z5, Z5      // ·g
	VADDPS  Z5, Z4, Z4      // v
	TESTL   BX, BX
	JZ      large
	VFMADD231PS Z30, Z3, Z2 // m = w·diff + m
	JMP     update

large:
	VFMADD231PS Z30, Z3, Z1 // m = (w − 1)·diff + g
	VMOVAPS Z1, Z2

update:
	VSQRTPS Z4, Z6
	VDIVPS  Z27, Z6, Z6     // sqrt(v) / sqrt(bc2)
	VADDPS  Z26, Z6, Z6     // + eps
	VMULPS  Z25, Z2, Z7     // (−lr/bc1)·m
	VDIVPS  Z6, Z7, Z7      // / denom
	VADDPS  Z7, Z0, Z0
	VMOVUPS Z0, (DI)(AX*4)
	VMOVUPS Z2, (DX)(AX*4)
	VMOVUPS Z4, (R8)(AX*4)
	ADDQ    $16, AX
	CMPQ    AX, CX
	JLT     loop
	VZEROUPPER
	RET
