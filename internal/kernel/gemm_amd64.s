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
