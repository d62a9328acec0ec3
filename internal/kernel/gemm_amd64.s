#include "textflag.h"

// func gemm4x8(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int)
// C[r][0:8] += Σ_p A[r·aRow + p·aCol] · B[p·ldb + 0:8] for r = 0…3 (strides in elements).
TEXT ·gemm4x8(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ aRow+16(FP), R8
	SHLQ $3, R8            // aRow in bytes
	MOVQ aCol+24(FP), R11
	SHLQ $3, R11           // aCol in bytes
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R12
	SHLQ $3, R12           // ldb in bytes
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R13
	SHLQ $3, R13           // ldc in bytes
	LEAQ (R8)(R8*1), R9    // 2·aRow
	LEAQ (R9)(R8*1), R10   // 3·aRow

	// Load the 4×8 block of C.
	MOVQ DX, AX
	VMOVUPD (AX), Y0
	VMOVUPD 32(AX), Y1
	ADDQ R13, AX
	VMOVUPD (AX), Y2
	VMOVUPD 32(AX), Y3
	ADDQ R13, AX
	VMOVUPD (AX), Y4
	VMOVUPD 32(AX), Y5
	ADDQ R13, AX
	VMOVUPD (AX), Y6
	VMOVUPD 32(AX), Y7

	TESTQ CX, CX
	JE    store4x8

loop4x8:
	VMOVUPD      (DI), Y8
	VMOVUPD      32(DI), Y9
	VBROADCASTSD (SI), Y10
	VFMADD231PD  Y8, Y10, Y0
	VFMADD231PD  Y9, Y10, Y1
	VBROADCASTSD (SI)(R8*1), Y11
	VFMADD231PD  Y8, Y11, Y2
	VFMADD231PD  Y9, Y11, Y3
	VBROADCASTSD (SI)(R9*1), Y12
	VFMADD231PD  Y8, Y12, Y4
	VFMADD231PD  Y9, Y12, Y5
	VBROADCASTSD (SI)(R10*1), Y13
	VFMADD231PD  Y8, Y13, Y6
	VFMADD231PD  Y9, Y13, Y7
	ADDQ         R11, SI
	ADDQ         R12, DI
	DECQ         CX
	JNE          loop4x8

store4x8:
	MOVQ    DX, AX
	VMOVUPD Y0, (AX)
	VMOVUPD Y1, 32(AX)
	ADDQ    R13, AX
	VMOVUPD Y2, (AX)
	VMOVUPD Y3, 32(AX)
	ADDQ    R13, AX
	VMOVUPD Y4, (AX)
	VMOVUPD Y5, 32(AX)
	ADDQ    R13, AX
	VMOVUPD Y6, (AX)
	VMOVUPD Y7, 32(AX)
	VZEROUPPER
	RET

// func gemm4x12(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int)
// As gemm4x8 for 12 columns: twelve accumulators, enough independent FMA
// chains to cover the FMA latency on both pipes.
TEXT ·gemm4x12(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ aRow+16(FP), R8
	SHLQ $3, R8
	MOVQ aCol+24(FP), R11
	SHLQ $3, R11
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R12
	SHLQ $3, R12
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R13
	SHLQ $3, R13
	LEAQ (R8)(R8*1), R9
	LEAQ (R9)(R8*1), R10

	MOVQ DX, AX
	VMOVUPD (AX), Y0
	VMOVUPD 32(AX), Y1
	VMOVUPD 64(AX), Y2
	ADDQ R13, AX
	VMOVUPD (AX), Y3
	VMOVUPD 32(AX), Y4
	VMOVUPD 64(AX), Y5
	ADDQ R13, AX
	VMOVUPD (AX), Y6
	VMOVUPD 32(AX), Y7
	VMOVUPD 64(AX), Y8
	ADDQ R13, AX
	VMOVUPD (AX), Y9
	VMOVUPD 32(AX), Y10
	VMOVUPD 64(AX), Y11

	TESTQ CX, CX
	JE    store4x12

loop4x12:
	VMOVUPD      (DI), Y12
	VMOVUPD      32(DI), Y13
	VMOVUPD      64(DI), Y14
	VBROADCASTSD (SI), Y15
	VFMADD231PD  Y12, Y15, Y0
	VFMADD231PD  Y13, Y15, Y1
	VFMADD231PD  Y14, Y15, Y2
	VBROADCASTSD (SI)(R8*1), Y15
	VFMADD231PD  Y12, Y15, Y3
	VFMADD231PD  Y13, Y15, Y4
	VFMADD231PD  Y14, Y15, Y5
	VBROADCASTSD (SI)(R9*1), Y15
	VFMADD231PD  Y12, Y15, Y6
	VFMADD231PD  Y13, Y15, Y7
	VFMADD231PD  Y14, Y15, Y8
	VBROADCASTSD (SI)(R10*1), Y15
	VFMADD231PD  Y12, Y15, Y9
	VFMADD231PD  Y13, Y15, Y10
	VFMADD231PD  Y14, Y15, Y11
	ADDQ         R11, SI
	ADDQ         R12, DI
	DECQ         CX
	JNE          loop4x12

store4x12:
	MOVQ    DX, AX
	VMOVUPD Y0, (AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 64(AX)
	ADDQ    R13, AX
	VMOVUPD Y3, (AX)
	VMOVUPD Y4, 32(AX)
	VMOVUPD Y5, 64(AX)
	ADDQ    R13, AX
	VMOVUPD Y6, (AX)
	VMOVUPD Y7, 32(AX)
	VMOVUPD Y8, 64(AX)
	ADDQ    R13, AX
	VMOVUPD Y9, (AX)
	VMOVUPD Y10, 32(AX)
	VMOVUPD Y11, 64(AX)
	VZEROUPPER
	RET

// func gemm4x4(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int)
// As gemm4x8 for 4 columns.
TEXT ·gemm4x4(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ aRow+16(FP), R8
	SHLQ $3, R8
	MOVQ aCol+24(FP), R11
	SHLQ $3, R11
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R12
	SHLQ $3, R12
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R13
	SHLQ $3, R13
	LEAQ (R8)(R8*1), R9
	LEAQ (R9)(R8*1), R10

	MOVQ    DX, AX
	VMOVUPD (AX), Y0
	ADDQ    R13, AX
	VMOVUPD (AX), Y2
	ADDQ    R13, AX
	VMOVUPD (AX), Y4
	ADDQ    R13, AX
	VMOVUPD (AX), Y6

	TESTQ CX, CX
	JE    store4x4

loop4x4:
	VMOVUPD      (DI), Y8
	VBROADCASTSD (SI), Y10
	VFMADD231PD  Y8, Y10, Y0
	VBROADCASTSD (SI)(R8*1), Y11
	VFMADD231PD  Y8, Y11, Y2
	VBROADCASTSD (SI)(R9*1), Y12
	VFMADD231PD  Y8, Y12, Y4
	VBROADCASTSD (SI)(R10*1), Y13
	VFMADD231PD  Y8, Y13, Y6
	ADDQ         R11, SI
	ADDQ         R12, DI
	DECQ         CX
	JNE          loop4x4

store4x4:
	MOVQ    DX, AX
	VMOVUPD Y0, (AX)
	ADDQ    R13, AX
	VMOVUPD Y2, (AX)
	ADDQ    R13, AX
	VMOVUPD Y4, (AX)
	ADDQ    R13, AX
	VMOVUPD Y6, (AX)
	VZEROUPPER
	RET

// func gemm1x8(k int, a *float64, aCol int, b *float64, ldb int, c *float64)
// c[0:8] += Σ_p a[p·aCol] · B[p·ldb + 0:8].
TEXT ·gemm1x8(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ aCol+16(FP), R11
	SHLQ $3, R11
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R12
	SHLQ $3, R12
	MOVQ c+40(FP), DX
	VMOVUPD (DX), Y0
	VMOVUPD 32(DX), Y1
	TESTQ CX, CX
	JE    store1x8

loop1x8:
	VBROADCASTSD (SI), Y10
	VFMADD231PD  (DI), Y10, Y0
	VFMADD231PD  32(DI), Y10, Y1
	ADDQ         R11, SI
	ADDQ         R12, DI
	DECQ         CX
	JNE          loop1x8

store1x8:
	VMOVUPD Y0, (DX)
	VMOVUPD Y1, 32(DX)
	VZEROUPPER
	RET

// func gemm1x4(k int, a *float64, aCol int, b *float64, ldb int, c *float64)
TEXT ·gemm1x4(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ aCol+16(FP), R11
	SHLQ $3, R11
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R12
	SHLQ $3, R12
	MOVQ c+40(FP), DX
	VMOVUPD (DX), Y0
	TESTQ CX, CX
	JE    store1x4

loop1x4:
	VBROADCASTSD (SI), Y10
	VFMADD231PD  (DI), Y10, Y0
	ADDQ         R11, SI
	ADDQ         R12, DI
	DECQ         CX
	JNE          loop1x4

store1x4:
	VMOVUPD Y0, (DX)
	VZEROUPPER
	RET

// func gemm4x4mask(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int, mask *uint64)
// As gemm4x4 for the last columns of C, the lanes that mask selects
// (all-ones lanes first): C is read and written with masked moves, so
// nothing past those columns changes. B is read as whole vectors: the
// caller makes sure they lie inside B (their extra lanes are ignored).
TEXT ·gemm4x4mask(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ aRow+16(FP), R8
	SHLQ $3, R8
	MOVQ aCol+24(FP), R11
	SHLQ $3, R11
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R12
	SHLQ $3, R12
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R13
	SHLQ $3, R13
	MOVQ mask+64(FP), BX
	VMOVUPD (BX), Y15
	LEAQ (R8)(R8*1), R9
	LEAQ (R9)(R8*1), R10

	MOVQ       DX, AX
	VMASKMOVPD (AX), Y15, Y0
	ADDQ       R13, AX
	VMASKMOVPD (AX), Y15, Y2
	ADDQ       R13, AX
	VMASKMOVPD (AX), Y15, Y4
	ADDQ       R13, AX
	VMASKMOVPD (AX), Y15, Y6

	TESTQ CX, CX
	JE    store4x4mask

loop4x4mask:
	VMOVUPD      (DI), Y8
	VBROADCASTSD (SI), Y10
	VFMADD231PD  Y8, Y10, Y0
	VBROADCASTSD (SI)(R8*1), Y11
	VFMADD231PD  Y8, Y11, Y2
	VBROADCASTSD (SI)(R9*1), Y12
	VFMADD231PD  Y8, Y12, Y4
	VBROADCASTSD (SI)(R10*1), Y13
	VFMADD231PD  Y8, Y13, Y6
	ADDQ         R11, SI
	ADDQ         R12, DI
	DECQ         CX
	JNE          loop4x4mask

store4x4mask:
	MOVQ       DX, AX
	VMASKMOVPD Y0, Y15, (AX)
	ADDQ       R13, AX
	VMASKMOVPD Y2, Y15, (AX)
	ADDQ       R13, AX
	VMASKMOVPD Y4, Y15, (AX)
	ADDQ       R13, AX
	VMASKMOVPD Y6, Y15, (AX)
	VZEROUPPER
	RET

// func gemm8x4mask(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int, mask *uint64)
// As gemm4x4mask for 8 rows: eight accumulators, enough independent FMA
// chains to cover the FMA latency (four are not).
TEXT ·gemm8x4mask(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ aRow+16(FP), R8
	SHLQ $3, R8
	MOVQ aCol+24(FP), R11
	SHLQ $3, R11
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R12
	SHLQ $3, R12
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R13
	SHLQ $3, R13
	MOVQ mask+64(FP), BX
	VMOVUPD (BX), Y15
	LEAQ (R8)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (SI)(R8*4), BX    // rows 4–7

	MOVQ       DX, AX
	VMASKMOVPD (AX), Y15, Y0
	ADDQ       R13, AX
	VMASKMOVPD (AX), Y15, Y1
	ADDQ       R13, AX
	VMASKMOVPD (AX), Y15, Y2
	ADDQ       R13, AX
	VMASKMOVPD (AX), Y15, Y3
	ADDQ       R13, AX
	VMASKMOVPD (AX), Y15, Y4
	ADDQ       R13, AX
	VMASKMOVPD (AX), Y15, Y5
	ADDQ       R13, AX
	VMASKMOVPD (AX), Y15, Y6
	ADDQ       R13, AX
	VMASKMOVPD (AX), Y15, Y7

	TESTQ CX, CX
	JE    store8x4mask

loop8x4mask:
	VMOVUPD      (DI), Y8
	VBROADCASTSD (SI), Y9
	VFMADD231PD  Y8, Y9, Y0
	VBROADCASTSD (SI)(R8*1), Y10
	VFMADD231PD  Y8, Y10, Y1
	VBROADCASTSD (SI)(R9*1), Y11
	VFMADD231PD  Y8, Y11, Y2
	VBROADCASTSD (SI)(R10*1), Y12
	VFMADD231PD  Y8, Y12, Y3
	VBROADCASTSD (BX), Y9
	VFMADD231PD  Y8, Y9, Y4
	VBROADCASTSD (BX)(R8*1), Y10
	VFMADD231PD  Y8, Y10, Y5
	VBROADCASTSD (BX)(R9*1), Y11
	VFMADD231PD  Y8, Y11, Y6
	VBROADCASTSD (BX)(R10*1), Y12
	VFMADD231PD  Y8, Y12, Y7
	ADDQ         R11, SI
	ADDQ         R11, BX
	ADDQ         R12, DI
	DECQ         CX
	JNE          loop8x4mask

store8x4mask:
	MOVQ       DX, AX
	VMASKMOVPD Y0, Y15, (AX)
	ADDQ       R13, AX
	VMASKMOVPD Y1, Y15, (AX)
	ADDQ       R13, AX
	VMASKMOVPD Y2, Y15, (AX)
	ADDQ       R13, AX
	VMASKMOVPD Y3, Y15, (AX)
	ADDQ       R13, AX
	VMASKMOVPD Y4, Y15, (AX)
	ADDQ       R13, AX
	VMASKMOVPD Y5, Y15, (AX)
	ADDQ       R13, AX
	VMASKMOVPD Y6, Y15, (AX)
	ADDQ       R13, AX
	VMASKMOVPD Y7, Y15, (AX)
	VZEROUPPER
	RET

// func gemm1x4mask(k int, a *float64, aCol int, b *float64, ldb int, c *float64, mask *uint64)
// As gemm4x4mask for one row.
TEXT ·gemm1x4mask(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ aCol+16(FP), R11
	SHLQ $3, R11
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R12
	SHLQ $3, R12
	MOVQ c+40(FP), DX
	MOVQ mask+48(FP), BX
	VMOVUPD (BX), Y15
	VMASKMOVPD (DX), Y15, Y0
	TESTQ CX, CX
	JE    store1x4mask

loop1x4mask:
	VMOVUPD      (DI), Y8
	VBROADCASTSD (SI), Y10
	VFMADD231PD  Y8, Y10, Y0
	ADDQ         R11, SI
	ADDQ         R12, DI
	DECQ         CX
	JNE          loop1x4mask

store1x4mask:
	VMASKMOVPD Y0, Y15, (DX)
	VZEROUPPER
	RET

// func euler4(a *eulerArgs)
// The Euler step of kernel.Euler on one row of a.n neurons (a multiple of
// 4), with the same operations in the same order as eulerGo.
TEXT ·euler4(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), AX
	MOVQ 120(AX), CX
	SHRQ $2, CX
	JZ   eulerdone
	VBROADCASTSD 128(AX), Y14     // dt
	VBROADCASTSD 136(AX), Y15     // γ
	MOVQ 144(AX), R15             // prospective
	XORQ BX, BX                   // byte offset

eulerloop:
	MOVQ 0(AX), DX
	VMOVUPD (DX)(BX*1), Y0        // e
	MOVQ 8(AX), DX
	VMULPD  (DX)(BX*1), Y0, Y0    // inst = e·r′
	MOVQ 32(AX), DX
	VMOVUPD (DX)(BX*1), Y1        // v
	VMOVAPD Y0, Y2                // v′ = ê = inst without prospective errors
	VMOVAPD Y0, Y3
	TESTQ R15, R15
	JZ   eulerinst
	VSUBPD  Y1, Y0, Y4            // inst − v
	MOVQ 104(AX), DX
	VMULPD  (DX)(BX*1), Y4, Y4    // v̇ = (inst − v)/τr
	VMULPD  Y4, Y14, Y2           // dt v̇
	VADDPD  Y2, Y1, Y2            // v′ = v + dt v̇
	MOVQ 80(AX), DX
	VMULPD  (DX)(BX*1), Y4, Y3    // τm v̇
	VADDPD  Y3, Y1, Y3            // ê = v + τm v̇

eulerinst:
	MOVQ 48(AX), DX
	VMOVUPD Y2, (DX)(BX*1)        // v′
	MOVQ 56(AX), DX
	VMOVUPD Y3, (DX)(BX*1)        // ê
	MOVQ 16(AX), DX
	VMOVUPD (DX)(BX*1), Y5        // s
	MOVQ 112(AX), DX
	VADDPD  (DX)(BX*1), Y5, Y5    // s + b
	VMULPD  Y3, Y15, Y6           // γ ê
	VADDPD  Y6, Y5, Y5            // s + b + γ ê
	MOVQ 24(AX), DX
	VMOVUPD (DX)(BX*1), Y7        // u
	VSUBPD  Y7, Y5, Y5            // … − u
	MOVQ 96(AX), DX
	VMULPD  (DX)(BX*1), Y5, Y5    // u̇ = (…)/τm
	MOVQ 64(AX), DX
	VMOVUPD Y5, (DX)(BX*1)        // u̇
	VMULPD  Y5, Y14, Y8           // dt u̇
	VADDPD  Y8, Y7, Y8            // u′ = u + dt u̇
	MOVQ 40(AX), DX
	VMOVUPD Y8, (DX)(BX*1)
	MOVQ 88(AX), DX
	VMULPD  (DX)(BX*1), Y5, Y9    // τr u̇
	VADDPD  Y9, Y7, Y9            // ŭ = u + τr u̇
	MOVQ 72(AX), DX
	VMOVUPD Y9, (DX)(BX*1)
	ADDQ $32, BX
	DECQ CX
	JNZ  eulerloop

eulerdone:
	VZEROUPPER
	RET
