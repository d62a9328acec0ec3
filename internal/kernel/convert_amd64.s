#include "textflag.h"

// TRANSPOSE8X8 transposes the 8×8 float32 block in Y0…Y7 (a row each)
// into Y8…Y15 (a column each): pairs of rows interleaved, then
// quadruples, then the 128-bit halves exchanged.
#define TRANSPOSE8X8 \
	VUNPCKLPS Y1, Y0, Y8 \
	VUNPCKHPS Y1, Y0, Y9 \
	VUNPCKLPS Y3, Y2, Y10 \
	VUNPCKHPS Y3, Y2, Y11 \
	VUNPCKLPS Y5, Y4, Y12 \
	VUNPCKHPS Y5, Y4, Y13 \
	VUNPCKLPS Y7, Y6, Y14 \
	VUNPCKHPS Y7, Y6, Y15 \
	VSHUFPS $0x44, Y10, Y8, Y0 \
	VSHUFPS $0xEE, Y10, Y8, Y1 \
	VSHUFPS $0x44, Y11, Y9, Y2 \
	VSHUFPS $0xEE, Y11, Y9, Y3 \
	VSHUFPS $0x44, Y14, Y12, Y4 \
	VSHUFPS $0xEE, Y14, Y12, Y5 \
	VSHUFPS $0x44, Y15, Y13, Y6 \
	VSHUFPS $0xEE, Y15, Y13, Y7 \
	VPERM2F128 $0x20, Y4, Y0, Y8 \
	VPERM2F128 $0x20, Y5, Y1, Y9 \
	VPERM2F128 $0x20, Y6, Y2, Y10 \
	VPERM2F128 $0x20, Y7, Y3, Y11 \
	VPERM2F128 $0x31, Y4, Y0, Y12 \
	VPERM2F128 $0x31, Y5, Y1, Y13 \
	VPERM2F128 $0x31, Y6, Y2, Y14 \
	VPERM2F128 $0x31, Y7, Y3, Y15

// TRANSPOSE8X8STORE writes Y8…Y15 to the eight rows of dst from DI (row
// stride BX bytes, R9 = 3·BX), using R14.
#define TRANSPOSE8X8STORE \
	LEAQ (DI)(BX*4), R14 \
	VMOVUPS Y8, (DI) \
	VMOVUPS Y9, (DI)(BX*1) \
	VMOVUPS Y10, (DI)(BX*2) \
	VMOVUPS Y11, (DI)(R9*1) \
	VMOVUPS Y12, (R14) \
	VMOVUPS Y13, (R14)(BX*1) \
	VMOVUPS Y14, (R14)(BX*2) \
	VMOVUPS Y15, (R14)(R9*1)

// func cvt64to32(dst *float32, src *float64, n int)
// dst[i] = float32(src[i]) for n values (a multiple of 8), rounding to
// nearest even as a Go conversion does.
TEXT ·cvt64to32(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   cvt64done

cvt64loop:
	VCVTPD2PSY (SI), X0
	VCVTPD2PSY 32(SI), X1
	VMOVUPS    X0, (DI)
	VMOVUPS    X1, 16(DI)
	ADDQ       $64, SI
	ADDQ       $32, DI
	DECQ       CX
	JNZ        cvt64loop

cvt64done:
	VZEROUPPER
	RET

// func cvt32to64(dst *float64, src *float32, n int)
// dst[i] = float64(src[i]) (exact) for n values (a multiple of 8).
TEXT ·cvt32to64(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   cvt32done

cvt32loop:
	VCVTPS2PD (SI), Y0
	VCVTPS2PD 16(SI), Y1
	VMOVUPD   Y0, (DI)
	VMOVUPD   Y1, 32(DI)
	ADDQ      $32, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       cvt32loop

cvt32done:
	VZEROUPPER
	RET

// func transpose4x4f64(src *float64, lds int, dst *float64, ldd int, n int)
// n blocks of 4×4: block b moves src[r·lds + 4b + c] to dst[(4b + c)·ldd + r]
// for r, c < 4.
TEXT ·transpose4x4f64(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	SHLQ $3, AX
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), BX
	SHLQ $3, BX
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JZ   t4done
	LEAQ (AX)(AX*2), R8
	LEAQ (BX)(BX*2), R9

t4loop:
	VMOVUPD (SI), Y0                // a0 a1 a2 a3
	VMOVUPD (SI)(AX*1), Y1          // b0 b1 b2 b3
	VMOVUPD (SI)(AX*2), Y2          // c…
	VMOVUPD (SI)(R8*1), Y3          // d…
	VUNPCKLPD Y1, Y0, Y4            // a0 b0 a2 b2
	VUNPCKHPD Y1, Y0, Y5            // a1 b1 a3 b3
	VUNPCKLPD Y3, Y2, Y6            // c0 d0 c2 d2
	VUNPCKHPD Y3, Y2, Y7            // c1 d1 c3 d3
	VPERM2F128 $0x20, Y6, Y4, Y0    // a0 b0 c0 d0
	VPERM2F128 $0x20, Y7, Y5, Y1    // a1 b1 c1 d1
	VPERM2F128 $0x31, Y6, Y4, Y2    // a2 b2 c2 d2
	VPERM2F128 $0x31, Y7, Y5, Y3    // a3 b3 c3 d3
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, (DI)(BX*1)
	VMOVUPD Y2, (DI)(BX*2)
	VMOVUPD Y3, (DI)(R9*1)
	ADDQ $32, SI
	LEAQ (DI)(BX*4), DI
	DECQ CX
	JNZ  t4loop

t4done:
	VZEROUPPER
	RET

// func transpose8x8f64to32(src *float64, lds int, dst *float32, ldd int, cp *float32, ldc int, n int)
// n blocks of 8×8: block b converts src[r·lds + 8b + c] to float32 (as
// VCVTPD2PS rounds: to nearest even) and writes it to cp[r·ldc + 8b + c]
// and dst[(8b + c)·ldd + r] for r, c < 8.
TEXT ·transpose8x8f64to32(SB), NOSPLIT, $0-56
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	SHLQ $3, AX
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), BX
	SHLQ $2, BX
	MOVQ cp+32(FP), DX
	MOVQ ldc+40(FP), R10
	SHLQ $2, R10
	MOVQ n+48(FP), CX
	TESTQ CX, CX
	JZ   t8done
	LEAQ (AX)(AX*2), R8             // 3 rows of src
	LEAQ (BX)(BX*2), R9             // 3 rows of dst
	LEAQ (R10)(R10*2), R12          // 3 rows of cp

t8loop:
	LEAQ (SI)(AX*4), R11            // src row 4
	LEAQ (DX)(R10*4), R13           // cp row 4
	// Rows 0…7, converted: Y0…Y7.
	VCVTPD2PSY (SI), X0
	VCVTPD2PSY 32(SI), X8
	VINSERTF128 $1, X8, Y0, Y0
	VCVTPD2PSY (SI)(AX*1), X1
	VCVTPD2PSY 32(SI)(AX*1), X8
	VINSERTF128 $1, X8, Y1, Y1
	VCVTPD2PSY (SI)(AX*2), X2
	VCVTPD2PSY 32(SI)(AX*2), X8
	VINSERTF128 $1, X8, Y2, Y2
	VCVTPD2PSY (SI)(R8*1), X3
	VCVTPD2PSY 32(SI)(R8*1), X8
	VINSERTF128 $1, X8, Y3, Y3
	VCVTPD2PSY (R11), X4
	VCVTPD2PSY 32(R11), X8
	VINSERTF128 $1, X8, Y4, Y4
	VCVTPD2PSY (R11)(AX*1), X5
	VCVTPD2PSY 32(R11)(AX*1), X8
	VINSERTF128 $1, X8, Y5, Y5
	VCVTPD2PSY (R11)(AX*2), X6
	VCVTPD2PSY 32(R11)(AX*2), X8
	VINSERTF128 $1, X8, Y6, Y6
	VCVTPD2PSY (R11)(R8*1), X7
	VCVTPD2PSY 32(R11)(R8*1), X8
	VINSERTF128 $1, X8, Y7, Y7
	// The converted rows.
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, (DX)(R10*1)
	VMOVUPS Y2, (DX)(R10*2)
	VMOVUPS Y3, (DX)(R12*1)
	VMOVUPS Y4, (R13)
	VMOVUPS Y5, (R13)(R10*1)
	VMOVUPS Y6, (R13)(R10*2)
	VMOVUPS Y7, (R13)(R12*1)
	TRANSPOSE8X8
	TRANSPOSE8X8STORE
	ADDQ $64, SI
	ADDQ $32, DX
	LEAQ (DI)(BX*8), DI
	DECQ CX
	JNZ  t8loop

t8done:
	VZEROUPPER
	RET

// func scaleFinite64(x *float64, n int, alpha float64) (ok bool)
// x[i] *= alpha for n values (a multiple of 8); ok reports whether every
// product is finite (Σ x·0 stays 0; NaN and ±Inf make it NaN).
TEXT ·scaleFinite64(SB), NOSPLIT, $0-25
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSD alpha+16(FP), Y15
	VXORPD Y14, Y14, Y14            // 0
	VXORPD Y12, Y12, Y12            // Σ x·0, two chains
	VXORPD Y13, Y13, Y13
	SHRQ $3, CX
	JZ   sf64end

sf64loop:
	VMULPD (SI), Y15, Y0
	VMULPD 32(SI), Y15, Y1
	VMOVUPD Y0, (SI)
	VMOVUPD Y1, 32(SI)
	VMULPD Y14, Y0, Y0
	VMULPD Y14, Y1, Y1
	VADDPD Y0, Y12, Y12
	VADDPD Y1, Y13, Y13
	ADDQ $64, SI
	DECQ CX
	JNZ  sf64loop

sf64end:
	VADDPD Y13, Y12, Y12
	VCMPPD $4, Y14, Y12, Y12        // ≠ 0 (unordered: NaN counts)
	VMOVMSKPD Y12, AX
	TESTQ AX, AX
	SETEQ ok+24(FP)
	VZEROUPPER
	RET

// func scaleFinite32(x *float32, n int, alpha float32) (ok bool)
// scaleFinite64 for float32: n a multiple of 16.
TEXT ·scaleFinite32(SB), NOSPLIT, $0-25
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS alpha+16(FP), Y15
	VXORPS Y14, Y14, Y14
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	SHRQ $4, CX
	JZ   sf32end

sf32loop:
	VMULPS (SI), Y15, Y0
	VMULPS 32(SI), Y15, Y1
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, 32(SI)
	VMULPS Y14, Y0, Y0
	VMULPS Y14, Y1, Y1
	VADDPS Y0, Y12, Y12
	VADDPS Y1, Y13, Y13
	ADDQ $64, SI
	DECQ CX
	JNZ  sf32loop

sf32end:
	VADDPS Y13, Y12, Y12
	VCMPPS $4, Y14, Y12, Y12
	VMOVMSKPS Y12, AX
	TESTQ AX, AX
	SETEQ ok+24(FP)
	VZEROUPPER
	RET

// func transpose8x8f32(src *float32, lds int, dst *float32, ldd int, n int)
// n blocks of 8×8: block b moves src[r·lds + 8b + c] to dst[(8b + c)·ldd + r]
// for r, c < 8.
TEXT ·transpose8x8f32(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	SHLQ $2, AX
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), BX
	SHLQ $2, BX
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JZ   t8sdone
	LEAQ (AX)(AX*2), R8
	LEAQ (BX)(BX*2), R9

t8sloop:
	LEAQ (SI)(AX*4), R11
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(AX*1), Y1
	VMOVUPS (SI)(AX*2), Y2
	VMOVUPS (SI)(R8*1), Y3
	VMOVUPS (R11), Y4
	VMOVUPS (R11)(AX*1), Y5
	VMOVUPS (R11)(AX*2), Y6
	VMOVUPS (R11)(R8*1), Y7
	TRANSPOSE8X8
	TRANSPOSE8X8STORE
	ADDQ $32, SI
	LEAQ (DI)(BX*8), DI
	DECQ CX
	JNZ  t8sloop

t8sdone:
	VZEROUPPER
	RET
