#include "textflag.h"

// Packing routines: they copy (and transpose, and widen from bf16) blocks of A and B into the
// micro-panel layouts that the GEMM kernels stream (see packA and packB in gemm.go). Transposes are done
// in registers, 8×8 (AVX2) or 4×4 (AVX) at a time, so that both the reads and the writes are whole
// vectors; a scalar loop doing the same scatters every element and was the bottleneck of Y = X·Wᵀ.

// Transpose the 8×8 block in Y0..Y7 (row r in Yr) into Y8..Y15 (column c in Y(8+c)). Clobbers Y0..Y7.
#define TRANSPOSE8x8 \
	VUNPCKLPS  Y1, Y0, Y8;         \
	VUNPCKHPS  Y1, Y0, Y9;         \
	VUNPCKLPS  Y3, Y2, Y10;        \
	VUNPCKHPS  Y3, Y2, Y11;        \
	VUNPCKLPS  Y5, Y4, Y12;        \
	VUNPCKHPS  Y5, Y4, Y13;        \
	VUNPCKLPS  Y7, Y6, Y14;        \
	VUNPCKHPS  Y7, Y6, Y15;        \
	VSHUFPS    $0x44, Y10, Y8, Y0; \
	VSHUFPS    $0xEE, Y10, Y8, Y1; \
	VSHUFPS    $0x44, Y11, Y9, Y2; \
	VSHUFPS    $0xEE, Y11, Y9, Y3; \
	VSHUFPS    $0x44, Y14, Y12, Y4; \
	VSHUFPS    $0xEE, Y14, Y12, Y5; \
	VSHUFPS    $0x44, Y15, Y13, Y6; \
	VSHUFPS    $0xEE, Y15, Y13, Y7; \
	VPERM2F128 $0x20, Y4, Y0, Y8;  \
	VPERM2F128 $0x20, Y5, Y1, Y9;  \
	VPERM2F128 $0x20, Y6, Y2, Y10; \
	VPERM2F128 $0x20, Y7, Y3, Y11; \
	VPERM2F128 $0x31, Y4, Y0, Y12; \
	VPERM2F128 $0x31, Y5, Y1, Y13; \
	VPERM2F128 $0x31, Y6, Y2, Y14; \
	VPERM2F128 $0x31, Y7, Y3, Y15

// Store Y8..Y15 to the 8 packed rows at DX, DX+R11, ... (R11 = row stride in bytes, R12 = 3·R11);
// uses R13 as the pointer to the second four.
#define STORE8ROWS \
	VMOVUPS Y8, (DX);          \
	VMOVUPS Y9, (DX)(R11*1);   \
	VMOVUPS Y10, (DX)(R11*2);  \
	VMOVUPS Y11, (DX)(R12*1);  \
	LEAQ    (DX)(R11*4), R13;  \
	VMOVUPS Y12, (R13);        \
	VMOVUPS Y13, (R13)(R11*1); \
	VMOVUPS Y14, (R13)(R11*2); \
	VMOVUPS Y15, (R13)(R12*1)

// func packBTransAVX2(d *float32, b *float32, ldb int, nr int, kc8 int)
// d[p·nr + j] = b[j·ldb + p] for j < nr (a multiple of 8) and p < kc8 (a multiple of 8, > 0).
TEXT ·packBTransAVX2(SB), NOSPLIT, $0-40
	MOVQ d+0(FP), CX
	MOVQ b+8(FP), BX
	MOVQ ldb+16(FP), R8
	SHLQ $2, R8                 // row stride of b in bytes
	LEAQ (R8)(R8*2), R9         // 3 rows
	MOVQ nr+24(FP), R11
	SHLQ $2, R11                // row stride of d in bytes
	LEAQ (R11)(R11*2), R12
	MOVQ nr+24(FP), R10
	SHRQ $3, R10                // groups of 8 columns (rows of b)

colgroup:
	MOVQ BX, SI                 // row 0 of this group of b
	LEAQ (BX)(R8*4), DI         // row 4
	MOVQ CX, DX                 // d for p = 0 of this group
	MOVQ kc8+32(FP), AX
	SHRQ $3, AX

pchunk:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (SI)(R9*1), Y3
	VMOVUPS (DI), Y4
	VMOVUPS (DI)(R8*1), Y5
	VMOVUPS (DI)(R8*2), Y6
	VMOVUPS (DI)(R9*1), Y7
	TRANSPOSE8x8
	STORE8ROWS
	ADDQ $32, SI
	ADDQ $32, DI
	LEAQ (DX)(R11*8), DX
	DECQ AX
	JNZ  pchunk

	LEAQ (BX)(R8*8), BX         // next 8 rows of b
	ADDQ $32, CX                // next 8 columns of d
	DECQ R10
	JNZ  colgroup
	VZEROUPPER
	RET

// func packBTransBF16AVX2(d *float32, b *uint16, ldb int, nr int, kc8 int)
// As packBTransAVX2 with b in bfloat16: each value is widened (zero-extend to 32 bits, shift left 16).
TEXT ·packBTransBF16AVX2(SB), NOSPLIT, $0-40
	MOVQ d+0(FP), CX
	MOVQ b+8(FP), BX
	MOVQ ldb+16(FP), R8
	SHLQ $1, R8
	LEAQ (R8)(R8*2), R9
	MOVQ nr+24(FP), R11
	SHLQ $2, R11
	LEAQ (R11)(R11*2), R12
	MOVQ nr+24(FP), R10
	SHRQ $3, R10

bcolgroup:
	MOVQ BX, SI
	LEAQ (BX)(R8*4), DI
	MOVQ CX, DX
	MOVQ kc8+32(FP), AX
	SHRQ $3, AX

bpchunk:
	VPMOVZXWD (SI), Y0
	VPMOVZXWD (SI)(R8*1), Y1
	VPMOVZXWD (SI)(R8*2), Y2
	VPMOVZXWD (SI)(R9*1), Y3
	VPMOVZXWD (DI), Y4
	VPMOVZXWD (DI)(R8*1), Y5
	VPMOVZXWD (DI)(R8*2), Y6
	VPMOVZXWD (DI)(R9*1), Y7
	VPSLLD    $16, Y0, Y0
	VPSLLD    $16, Y1, Y1
	VPSLLD    $16, Y2, Y2
	VPSLLD    $16, Y3, Y3
	VPSLLD    $16, Y4, Y4
	VPSLLD    $16, Y5, Y5
	VPSLLD    $16, Y6, Y6
	VPSLLD    $16, Y7, Y7
	TRANSPOSE8x8
	STORE8ROWS
	ADDQ $16, SI
	ADDQ $16, DI
	LEAQ (DX)(R11*8), DX
	DECQ AX
	JNZ  bpchunk

	LEAQ (BX)(R8*8), BX
	ADDQ $32, CX
	DECQ R10
	JNZ  bcolgroup
	VZEROUPPER
	RET

// func packBRowsAVX2(d *float32, b *float32, ldb int, nr int, kc int, strips int)
// B not transposed: d[t·nr·kc + p·nr + j] = b[p·ldb + t·nr + j] for p < kc, t < strips, j < nr (16 or
// 32). B is read 8 rows at a time across all the panels. Going down one nr-wide panel for all kc rows
// touched a new page at every row (TLB misses); writing one row across all panels wrote to addresses
// nr·kc·4 bytes apart, a power of two, that all fell in one L1 set. With 8 rows, each panel gets a
// contiguous 8·nr·4 bytes and B is read as 8 sequential streams.
TEXT ·packBRowsAVX2(SB), NOSPLIT, $8-48
	MOVQ  d+0(FP), DX
	MOVQ  b+8(FP), SI
	MOVQ  ldb+16(FP), R8
	SHLQ  $2, R8                   // row stride of b in bytes
	MOVQ  nr+24(FP), R14
	SHLQ  $2, R14               // panel row in bytes (float32)
	MOVQ  nr+24(FP), BX
	SHLQ  $2, BX
	MOVQ  BX, nrsrc-8(SP)
	MOVQ  kc+32(FP), AX         // rows left
	MOVQ  AX, R11
	IMULQ R14, R11              // panel size in bytes

fgroup:
	MOVQ    $8, R9
	CMPQ    AX, R9
	CMOVQLT AX, R9              // rows in this group
	MOVQ    SI, DI
	MOVQ    DX, BX
	MOVQ    strips+40(FP), R10

fstrip:
	MOVQ DI, CX
	MOVQ BX, R13
	MOVQ R9, R12
	CMPQ R14, $128
	JEQ  frow32

frow16:
	VMOVUPS 0(CX), Y0
	VMOVUPS 32(CX), Y1
	VMOVUPS Y0, 0(R13)
	VMOVUPS Y1, 32(R13)
	ADDQ R8, CX
	ADDQ R14, R13
	DECQ R12
	JNZ  frow16
	JMP  fnext

frow32:
	VMOVUPS 0(CX), Y0
	VMOVUPS 32(CX), Y1
	VMOVUPS Y0, 0(R13)
	VMOVUPS Y1, 32(R13)
	VMOVUPS 64(CX), Y0
	VMOVUPS 96(CX), Y1
	VMOVUPS Y0, 64(R13)
	VMOVUPS Y1, 96(R13)
	ADDQ R8, CX
	ADDQ R14, R13
	DECQ R12
	JNZ  frow32

fnext:
	ADDQ nrsrc-8(SP), DI        // the next panel's columns of b
	ADDQ R11, BX                // the next panel
	DECQ R10
	JNZ  fstrip

	LEAQ (SI)(R8*8), SI         // the next 8 rows
	LEAQ (DX)(R14*8), DX
	SUBQ R9, AX
	JNZ  fgroup
	VZEROUPPER
	RET

// func packBRowsBF16AVX2(d *float32, b *uint16, ldb int, nr int, kc int, strips int)
// packBRowsAVX2 with B in bfloat16, widened on the way.
TEXT ·packBRowsBF16AVX2(SB), NOSPLIT, $8-48
	MOVQ  d+0(FP), DX
	MOVQ  b+8(FP), SI
	MOVQ  ldb+16(FP), R8
	SHLQ  $1, R8                   // row stride of b in bytes
	MOVQ  nr+24(FP), R14
	SHLQ  $2, R14               // panel row in bytes (float32)
	MOVQ  nr+24(FP), BX
	SHLQ  $1, BX
	MOVQ  BX, nrsrc-8(SP)
	MOVQ  kc+32(FP), AX         // rows left
	MOVQ  AX, R11
	IMULQ R14, R11              // panel size in bytes

hgroup:
	MOVQ    $8, R9
	CMPQ    AX, R9
	CMOVQLT AX, R9              // rows in this group
	MOVQ    SI, DI
	MOVQ    DX, BX
	MOVQ    strips+40(FP), R10

hstrip:
	MOVQ DI, CX
	MOVQ BX, R13
	MOVQ R9, R12
	CMPQ R14, $128
	JEQ  hrow32

hrow16:
	VPMOVZXWD 0(CX), Y0
	VPMOVZXWD 16(CX), Y1
	VPSLLD    $16, Y0, Y0
	VPSLLD    $16, Y1, Y1
	VMOVUPS   Y0, 0(R13)
	VMOVUPS   Y1, 32(R13)
	ADDQ R8, CX
	ADDQ R14, R13
	DECQ R12
	JNZ  hrow16
	JMP  hnext

hrow32:
	VPMOVZXWD 0(CX), Y0
	VPMOVZXWD 16(CX), Y1
	VPSLLD    $16, Y0, Y0
	VPSLLD    $16, Y1, Y1
	VMOVUPS   Y0, 0(R13)
	VMOVUPS   Y1, 32(R13)
	VPMOVZXWD 32(CX), Y0
	VPMOVZXWD 48(CX), Y1
	VPSLLD    $16, Y0, Y0
	VPSLLD    $16, Y1, Y1
	VMOVUPS   Y0, 64(R13)
	VMOVUPS   Y1, 96(R13)
	ADDQ R8, CX
	ADDQ R14, R13
	DECQ R12
	JNZ  hrow32

hnext:
	ADDQ nrsrc-8(SP), DI        // the next panel's columns of b
	ADDQ R11, BX                // the next panel
	DECQ R10
	JNZ  hstrip

	LEAQ (SI)(R8*8), SI         // the next 8 rows
	LEAQ (DX)(R14*8), DX
	SUBQ R9, AX
	JNZ  hgroup
	VZEROUPPER
	RET

// Transpose the 4×4 block in X0..X3 (row r in Xr) into X4..X7 (column c in X(4+c)).
#define TRANSPOSE4x4 \
	VUNPCKLPS X1, X0, X8;       \
	VUNPCKHPS X1, X0, X9;       \
	VUNPCKLPS X3, X2, X10;      \
	VUNPCKHPS X3, X2, X11;      \
	VSHUFPS   $0x44, X10, X8, X4; \
	VSHUFPS   $0xEE, X10, X8, X5; \
	VSHUFPS   $0x44, X11, X9, X6; \
	VSHUFPS   $0xEE, X11, X9, X7

// func packARowsAVX(d *float32, a *float32, lda int, mr int, kc4 int)
// d[p·mr + i] = a[i·lda + p] for i < mr (a multiple of 2) and p < kc4 (a multiple of 4, > 0): A not
// transposed. Rows go four at a time through a 4×4 transpose; a last pair through unpack low/high.
TEXT ·packARowsAVX(SB), NOSPLIT, $0-40
	MOVQ d+0(FP), CX
	MOVQ a+8(FP), BX
	MOVQ lda+16(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	MOVQ mr+24(FP), R11
	SHLQ $2, R11                // row stride of d in bytes
	LEAQ (R11)(R11*2), R12
	MOVQ mr+24(FP), R10         // rows left

arows4:
	CMPQ R10, $4
	JLT  arows2
	MOVQ BX, SI
	MOVQ CX, DX
	MOVQ kc4+32(FP), AX
	SHRQ $2, AX

apchunk4:
	VMOVUPS (SI), X0
	VMOVUPS (SI)(R8*1), X1
	VMOVUPS (SI)(R8*2), X2
	VMOVUPS (SI)(R9*1), X3
	TRANSPOSE4x4
	VMOVUPS X4, (DX)
	VMOVUPS X5, (DX)(R11*1)
	VMOVUPS X6, (DX)(R11*2)
	VMOVUPS X7, (DX)(R12*1)
	ADDQ    $16, SI
	LEAQ    (DX)(R11*4), DX
	DECQ    AX
	JNZ     apchunk4

	LEAQ (BX)(R8*4), BX
	ADDQ $16, CX
	SUBQ $4, R10
	JMP  arows4

arows2:
	CMPQ R10, $2
	JLT  adone
	MOVQ BX, SI
	MOVQ CX, DX
	MOVQ kc4+32(FP), AX
	SHRQ $2, AX

apchunk2:
	VMOVUPS   (SI), X0
	VMOVUPS   (SI)(R8*1), X1
	VUNPCKLPS X1, X0, X8        // a0[0] a1[0] a0[1] a1[1]
	VUNPCKHPS X1, X0, X9        // a0[2] a1[2] a0[3] a1[3]
	VMOVLPS   X8, (DX)
	VMOVHPS   X8, (DX)(R11*1)
	VMOVLPS   X9, (DX)(R11*2)
	VMOVHPS   X9, (DX)(R12*1)
	ADDQ      $16, SI
	LEAQ      (DX)(R11*4), DX
	DECQ      AX
	JNZ       apchunk2

	LEAQ (BX)(R8*2), BX
	ADDQ $8, CX
	SUBQ $2, R10
	JMP  arows2

adone:
	VZEROUPPER
	RET

// func packATransAVX(d *float32, a *float32, lda int, mr int, kc int)
// A transposed (stored k×m): d[p·mr + i] = a[p·lda + i] for i < mr (6 or 12) and p < kc: one short
// contiguous copy per k step, which copy() did at a call per 24 or 48 bytes.
TEXT ·packATransAVX(SB), NOSPLIT, $0-40
	MOVQ d+0(FP), DX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	SHLQ $2, R8
	MOVQ kc+32(FP), AX
	MOVQ mr+24(FP), R9
	CMPQ R9, $12
	JEQ  at12

at6:
	VMOVUPS (SI), X0
	VMOVSD  16(SI), X1
	VMOVUPS X0, (DX)
	VMOVSD  X1, 16(DX)
	ADDQ    R8, SI
	ADDQ    $24, DX
	DECQ    AX
	JNZ     at6
	VZEROUPPER
	RET

at12:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), X1
	VMOVUPS Y0, (DX)
	VMOVUPS X1, 32(DX)
	ADDQ    R8, SI
	ADDQ    $48, DX
	DECQ    AX
	JNZ     at12
	VZEROUPPER
	RET

// func packBPairRowsAVX2(d *float32, b *uint16, ldb int, kd int, panel int, strips int)
// The bf16 pair layout of the dot kernel (gemm_bf16dot.go) from B stored k×n: d[t·panel + q·32 + j] =
// b[2q·ldb + t·32 + j] | b[(2q+1)·ldb + t·32 + j]<<16 for q < kd, t < strips, j < 32 (panel in words).
// VPUNPCKL/HWD interleave the two rows within 128-bit lanes, VPERM2I128 puts the lanes in column order.
// Rows go 8 at a time (4 pairs) across all the panels, for the reasons given at packBRowsAVX2.
TEXT ·packBPairRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ d+0(FP), DX
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), R8
	SHLQ $1, R8                 // row stride of b in bytes
	MOVQ panel+32(FP), R11
	SHLQ $2, R11                // panel size in bytes
	MOVQ kd+24(FP), AX          // pairs left

pgroup:
	MOVQ    $4, R9
	CMPQ    AX, R9
	CMOVQLT AX, R9              // pairs in this group
	MOVQ    SI, DI
	MOVQ    DX, BX
	MOVQ    strips+40(FP), R10

pstrip:
	MOVQ DI, CX
	MOVQ BX, R13
	MOVQ R9, R12

ppair:
	VMOVDQU    (CX), Y0
	VMOVDQU    (CX)(R8*1), Y1
	VPUNPCKLWD Y1, Y0, Y2       // columns 0-3 | 8-11, as (row 2q, row 2q+1) words
	VPUNPCKHWD Y1, Y0, Y3       // columns 4-7 | 12-15
	VPERM2I128 $0x20, Y3, Y2, Y4
	VPERM2I128 $0x31, Y3, Y2, Y5
	VMOVDQU    Y4, (R13)
	VMOVDQU    Y5, 32(R13)
	VMOVDQU    32(CX), Y0
	VMOVDQU    32(CX)(R8*1), Y1
	VPUNPCKLWD Y1, Y0, Y2
	VPUNPCKHWD Y1, Y0, Y3
	VPERM2I128 $0x20, Y3, Y2, Y4
	VPERM2I128 $0x31, Y3, Y2, Y5
	VMOVDQU    Y4, 64(R13)
	VMOVDQU    Y5, 96(R13)
	LEAQ       (CX)(R8*2), CX
	ADDQ       $128, R13
	DECQ       R12
	JNZ        ppair

	ADDQ $64, DI                // the next panel's columns of b
	ADDQ R11, BX                // the next panel
	DECQ R10
	JNZ  pstrip

	LEAQ (SI)(R8*8), SI         // the next 4 pairs of rows
	ADDQ $512, DX
	SUBQ R9, AX
	JNZ  pgroup
	VZEROUPPER
	RET

// Round the 8 float32 in Y0 to bfloat16 in the low halves of their dwords (nearest, ties to even; a NaN
// becomes 0x7fc0 with its sign, as roundBF16): Y12 = 0x7fc0, Y13 = 0x8000, Y14 = 0x7fff, Y15 = 1.
// Result in r; clobbers Y1, Y2, Y4, Y5.
#define ROUNDBF16(r) \
	VPSRLD    $16, Y0, Y1;     \
	VPAND     Y15, Y1, Y2;     \
	VPADDD    Y14, Y0, r;      \
	VPADDD    Y2, r, r;        \
	VPSRLD    $16, r, r;       \
	VPAND     Y13, Y1, Y4;     \
	VPOR      Y12, Y4, Y4;     \
	VCMPPS    $3, Y0, Y0, Y5;  \
	VBLENDVPS Y5, Y4, r, r

// func roundBF16PairsAVX2(dst *float32, src *float32, n16 int)
// Rounds 16·n16 float32 of src to bfloat16, written in order to dst (8·n16 32-bit words, each a pair
// src[2q] | src[2q+1]<<16: the A side of the dot kernel).
TEXT ·roundBF16PairsAVX2(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n16+16(FP), CX
	MOVL         $0x7fc0, AX
	VMOVD        AX, X12
	VPBROADCASTD X12, Y12
	MOVL         $0x8000, AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13
	MOVL         $0x7fff, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $1, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15

round16:
	VMOVUPS   (SI), Y0
	ROUNDBF16(Y3)
	VMOVUPS   32(SI), Y0
	ROUNDBF16(Y6)
	VPACKUSDW Y6, Y3, Y7        // dwords to words (all <= 0xffff): lanes [Y3 0-3, Y6 0-3 | Y3 4-7, Y6 4-7]
	VPERMQ    $0xD8, Y7, Y7     // into element order
	VMOVDQU   Y7, (DI)
	ADDQ      $64, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       round16
	VZEROUPPER
	RET
