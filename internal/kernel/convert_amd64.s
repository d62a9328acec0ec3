#include "textflag.h"

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
