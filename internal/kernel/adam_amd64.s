#include "textflag.h"

// func adam4(p, grad, m, v *float64, n int, c *AdamParams)
// The Adam update of kernel.Adam on n elements (a multiple of 4), with
// the same operations in the same order.
TEXT ·adam4(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	SHRQ $2, CX
	JZ   adamdone
	VBROADCASTSD 0(AX), Y10       // β₁
	VBROADCASTSD 8(AX), Y11       // β₂
	VBROADCASTSD 16(AX), Y12      // step size
	VXORPD Y15, Y15, Y15
	VSUBPD Y12, Y15, Y12          // −step size
	VBROADCASTSD 24(AX), Y13      // √(1 − β₂ᵗ)
	VBROADCASTSD 32(AX), Y14      // ε
	MOVQ $0x3ff0000000000000, BX
	MOVQ BX, X0
	VBROADCASTSD X0, Y0           // 1
	VSUBPD Y10, Y0, Y8            // 1 − β₁
	VSUBPD Y11, Y0, Y9            // 1 − β₂

adamloop:
	VMOVUPD (SI), Y1              // g
	VMULPD  (R8), Y10, Y2         // β₁ m
	VMULPD  Y1, Y8, Y3            // (1 − β₁) g
	VADDPD  Y3, Y2, Y2            // m
	VMOVUPD Y2, (R8)
	VMULPD  (R9), Y11, Y4         // β₂ v
	VMULPD  Y1, Y9, Y5            // (1 − β₂) g
	VMULPD  Y1, Y5, Y5            // · g
	VADDPD  Y5, Y4, Y4            // v
	VMOVUPD Y4, (R9)
	VSQRTPD Y4, Y4
	VDIVPD  Y13, Y4, Y4           // √v / √(1 − β₂ᵗ)
	VADDPD  Y14, Y4, Y4           // + ε
	VDIVPD  Y4, Y2, Y2            // m / …
	VMULPD  Y2, Y12, Y2           // −step size · …
	VADDPD  (DI), Y2, Y2          // p + …
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ CX
	JNZ  adamloop

adamdone:
	VZEROUPPER
	RET

// func adam8f32(p *float64, grad, m, v *float32, n int, c *Adam32Params)
// The update of kernel.Adam32 on n elements (a multiple of 8), with the
// same operations in the same order: p converted to float32 on load and
// back (exactly) on store.
TEXT ·adam8f32(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	SHRQ $3, CX
	JZ   adam32done
	VBROADCASTSS 0(AX), Y10       // β₁
	VBROADCASTSS 4(AX), Y8        // 1 − β₁
	VBROADCASTSS 8(AX), Y11       // β₂
	VBROADCASTSS 12(AX), Y9       // 1 − β₂
	VBROADCASTSS 16(AX), Y12      // −step size
	VBROADCASTSS 20(AX), Y13      // √(1 − β₂ᵗ)
	VBROADCASTSS 24(AX), Y14      // ε

adam32loop:
	VMOVUPS (SI), Y1              // g
	VMULPS  (R8), Y10, Y2         // β₁ m
	VMULPS  Y1, Y8, Y3            // (1 − β₁) g
	VADDPS  Y3, Y2, Y2            // m
	VMOVUPS Y2, (R8)
	VMULPS  (R9), Y11, Y4         // β₂ v
	VMULPS  Y1, Y9, Y5            // (1 − β₂) g
	VMULPS  Y1, Y5, Y5            // · g
	VADDPS  Y5, Y4, Y4            // v
	VMOVUPS Y4, (R9)
	VSQRTPS Y4, Y4
	VDIVPS  Y13, Y4, Y4           // √v / √(1 − β₂ᵗ)
	VADDPS  Y14, Y4, Y4           // + ε
	VDIVPS  Y4, Y2, Y2            // m / …
	VMULPS  Y2, Y12, Y2           // −step size · …
	VCVTPD2PSY (DI), X6           // p, 8 values to float32
	VCVTPD2PSY 32(DI), X7
	VINSERTF128 $1, X7, Y6, Y6
	VADDPS  Y6, Y2, Y2            // p + …
	VCVTPS2PD X2, Y3
	VMOVUPD Y3, (DI)
	VEXTRACTF128 $1, Y2, X4
	VCVTPS2PD X4, Y4
	VMOVUPD Y4, 32(DI)
	ADDQ $64, DI
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ CX
	JNZ  adam32loop

adam32done:
	VZEROUPPER
	RET
