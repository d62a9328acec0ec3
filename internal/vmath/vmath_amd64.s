#include "textflag.h"

// The kernels below perform, four values at a time, exactly the operations
// of tanh1, sigmoid1 and softplus1 in vmath.go, in the same order, so the
// results are bit-identical. Go operand order: sources first, destination
// last; VFMADD213PD c, b, a computes a = b·a + c, VFMADD231PD c, b, a
// computes a = b·c + a.

// EXPREDUCED: Y0 = y (expMin ≤ y ≤ 0) → Y1 = 2^k, Y2 = p = e^r − 1
// (expReduced): t = y/ln2 + magic, kf = t − magic, r = y − kf·ln2Hi −
// kf·ln2Lo, q by Horner, p = r²·q + r, 2^k = (bits(t) + 1023) << 52.
// Clobbers Y3–Y6.
#define EXPREDUCED \
	VMOVUPD invln2<>(SB), Y1; \
	VFMADD213PD magic<>(SB), Y0, Y1; \
	VSUBPD magic<>(SB), Y1, Y4; \
	VMOVAPD Y0, Y5; \
	VFNMADD231PD ln2hi<>(SB), Y4, Y5; \
	VFNMADD231PD ln2lo<>(SB), Y4, Y5; \
	VMOVUPD c13<>(SB), Y2; \
	VFMADD213PD c12<>(SB), Y5, Y2; \
	VFMADD213PD c11<>(SB), Y5, Y2; \
	VFMADD213PD c10<>(SB), Y5, Y2; \
	VFMADD213PD c9<>(SB), Y5, Y2; \
	VFMADD213PD c8<>(SB), Y5, Y2; \
	VFMADD213PD c7<>(SB), Y5, Y2; \
	VFMADD213PD c6<>(SB), Y5, Y2; \
	VFMADD213PD c5<>(SB), Y5, Y2; \
	VFMADD213PD c4<>(SB), Y5, Y2; \
	VFMADD213PD c3<>(SB), Y5, Y2; \
	VFMADD213PD c2<>(SB), Y5, Y2; \
	VMULPD Y5, Y5, Y6; \
	VFMADD213PD Y5, Y6, Y2; \
	VPADDQ bias<>(SB), Y1, Y1; \
	VPSLLQ $52, Y1, Y1

// EXPNEG: Y0 = y ≤ 0 → Y10 = e^y (0 below expMin), Y1 = 2^k, Y2 = p
// (expNeg): y is clamped at expMin (NaN kept: VMAXPD returns its first
// Go operand when either is NaN), e = 2^k·p + 2^k, then zeroed where
// y < expMin. Clobbers Y0, Y3–Y7, Y11.
#define EXPNEG \
	VMOVUPD expmin<>(SB), Y7; \
	VCMPPD $1, Y7, Y0, Y11; \
	VMAXPD Y0, Y7, Y0; \
	EXPREDUCED; \
	VMOVAPD Y1, Y10; \
	VFMADD231PD Y2, Y1, Y10; \
	VANDNPD Y10, Y11, Y10

// func tanhAsm(phi, dphi, x *float64, n int, _ float64)
TEXT ·tanhAsm(SB), NOSPLIT, $0-40
	MOVQ phi+0(FP), DI
	MOVQ dphi+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	JZ   tanhdone

tanhloop:
	VMOVUPD (DX), Y8
	VANDPD  absmask<>(SB), Y8, Y0
	VADDPD  Y0, Y0, Y0
	VXORPD  signbit<>(SB), Y0, Y0 // y = −2|x|
	VMOVUPD tanhmin<>(SB), Y7
	VMAXPD  Y0, Y7, Y0            // max(tanhMin, y), NaN kept
	EXPREDUCED
	VMOVUPD one<>(SB), Y3
	VSUBPD  Y3, Y1, Y4
	VFMADD231PD Y2, Y1, Y4        // m = 2^k·p + (2^k − 1)
	VADDPD  two<>(SB), Y4, Y5     // 2 + m
	VXORPD  signbit<>(SB), Y4, Y4 // −m
	VDIVPD  Y5, Y4, Y6            // −m/(2 + m)
	VANDPD  absmask<>(SB), Y6, Y6
	VANDPD  signbit<>(SB), Y8, Y7
	VORPD   Y7, Y6, Y6            // t with the sign of x
	VMOVUPD Y6, (DI)
	VFNMADD231PD Y6, Y6, Y3       // 1 − t·t
	VMOVUPD Y3, (SI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNZ  tanhloop

tanhdone:
	VZEROUPPER
	RET

// func sigmoidAsm(phi, dphi, x *float64, n int, _ float64)
TEXT ·sigmoidAsm(SB), NOSPLIT, $0-40
	MOVQ phi+0(FP), DI
	MOVQ dphi+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	JZ   sigmoiddone
	VXORPD Y15, Y15, Y15          // 0
	VMOVUPD one<>(SB), Y14        // 1

sigmoidloop:
	VMOVUPD (DX), Y8
	VORPD   signbit<>(SB), Y8, Y0 // y = −|x|
	EXPNEG
	VCMPPD  $13, Y15, Y8, Y12     // x ≥ 0
	VBLENDVPD Y12, Y14, Y10, Y5   // numerator: 1 where x ≥ 0, else e
	VADDPD  Y14, Y10, Y6          // 1 + e
	VDIVPD  Y6, Y5, Y5            // s
	VMOVUPD Y5, (DI)
	VSUBPD  Y5, Y14, Y6           // 1 − s
	VMULPD  Y6, Y5, Y6            // s(1 − s)
	VMOVUPD Y6, (SI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNZ  sigmoidloop

sigmoiddone:
	VZEROUPPER
	RET

// func softplusAsm(phi, dphi, x *float64, n int, threshold float64)
TEXT ·softplusAsm(SB), NOSPLIT, $0-40
	MOVQ phi+0(FP), DI
	MOVQ dphi+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	JZ   softplusdone
	VBROADCASTSD threshold+32(FP), Y15
	VMOVUPD one<>(SB), Y14

softplusloop:
	VMOVUPD (DX), Y8
	VORPD   signbit<>(SB), Y8, Y0 // y = −|x|
	EXPNEG
	// log1p(e): f = e, k = 0 below √2 − 1; f = (e − 1)/2, k = 1 above.
	VCMPPD  $13, sqrt2m1<>(SB), Y10, Y12 // e ≥ √2 − 1
	VSUBPD  Y14, Y1, Y4
	VFMADD231PD Y2, Y1, Y4        // e − 1 = 2^k·p + (2^k − 1)
	VMULPD  half<>(SB), Y4, Y4
	VBLENDVPD Y12, Y4, Y10, Y5    // f
	VANDPD  ln2hi<>(SB), Y12, Y13 // k·ln2Hi
	VANDPD  ln2lo<>(SB), Y12, Y9  // k·ln2Lo
	VADDPD  two<>(SB), Y5, Y6
	VDIVPD  Y6, Y5, Y6            // s = f/(2 + f)
	VMULPD  Y6, Y6, Y7            // z = s²
	VMOVUPD lg7<>(SB), Y3
	VFMADD213PD lg6<>(SB), Y7, Y3
	VFMADD213PD lg5<>(SB), Y7, Y3
	VFMADD213PD lg4<>(SB), Y7, Y3
	VFMADD213PD lg3<>(SB), Y7, Y3
	VFMADD213PD lg2<>(SB), Y7, Y3
	VFMADD213PD lg1<>(SB), Y7, Y3
	VMULPD  Y7, Y3, Y3            // R
	VMULPD  half<>(SB), Y5, Y11
	VMULPD  Y5, Y11, Y11          // hfsq = (f/2)·f
	VADDPD  Y3, Y11, Y3           // hfsq + R
	VFMADD213PD Y9, Y6, Y3        // s·(hfsq + R) + k·ln2Lo
	VSUBPD  Y3, Y11, Y3           // hfsq − …
	VSUBPD  Y3, Y5, Y3            // f − …
	VADDPD  Y3, Y13, Y3           // l = k·ln2Hi + …
	VXORPD  Y4, Y4, Y4
	VMAXPD  Y8, Y4, Y4            // max(x, 0), NaN kept
	VADDPD  Y3, Y4, Y4            // max(x, 0) + l
	VCMPPD  $14, Y15, Y8, Y12     // x > threshold
	VBLENDVPD Y12, Y8, Y4, Y4     // x itself above the threshold
	VMOVUPD Y4, (DI)
	VXORPD  Y4, Y4, Y4
	VCMPPD  $13, Y4, Y8, Y12      // x ≥ 0
	VBLENDVPD Y12, Y14, Y10, Y5   // numerator: 1 where x ≥ 0, else e
	VADDPD  Y14, Y10, Y6          // 1 + e
	VDIVPD  Y6, Y5, Y5            // σ(x)
	VMOVUPD Y5, (SI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNZ  softplusloop

softplusdone:
	VZEROUPPER
	RET

// func expNegAsm(dst, y *float64, n int)
TEXT ·expNegAsm(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ y+8(FP), DX
	MOVQ n+16(FP), CX
	SHRQ $2, CX
	JZ   expnegdone

expnegloop:
	VMOVUPD (DX), Y0
	EXPNEG
	VMOVUPD Y10, (DI)
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNZ  expnegloop

expnegdone:
	VZEROUPPER
	RET

// 1/ln 2
DATA invln2<>+0(SB)/8, $0x3ff71547652b82fe
DATA invln2<>+8(SB)/8, $0x3ff71547652b82fe
DATA invln2<>+16(SB)/8, $0x3ff71547652b82fe
DATA invln2<>+24(SB)/8, $0x3ff71547652b82fe
GLOBL invln2<>(SB), RODATA|NOPTR, $32

// 1.5·2⁵²
DATA magic<>+0(SB)/8, $0x4338000000000000
DATA magic<>+8(SB)/8, $0x4338000000000000
DATA magic<>+16(SB)/8, $0x4338000000000000
DATA magic<>+24(SB)/8, $0x4338000000000000
GLOBL magic<>(SB), RODATA|NOPTR, $32

// ln2Hi
DATA ln2hi<>+0(SB)/8, $0x3fe62e42fee00000
DATA ln2hi<>+8(SB)/8, $0x3fe62e42fee00000
DATA ln2hi<>+16(SB)/8, $0x3fe62e42fee00000
DATA ln2hi<>+24(SB)/8, $0x3fe62e42fee00000
GLOBL ln2hi<>(SB), RODATA|NOPTR, $32

// ln2Lo
DATA ln2lo<>+0(SB)/8, $0x3dea39ef35793c76
DATA ln2lo<>+8(SB)/8, $0x3dea39ef35793c76
DATA ln2lo<>+16(SB)/8, $0x3dea39ef35793c76
DATA ln2lo<>+24(SB)/8, $0x3dea39ef35793c76
GLOBL ln2lo<>(SB), RODATA|NOPTR, $32

// 1/2!
DATA c2<>+0(SB)/8, $0x3fe0000000000000
DATA c2<>+8(SB)/8, $0x3fe0000000000000
DATA c2<>+16(SB)/8, $0x3fe0000000000000
DATA c2<>+24(SB)/8, $0x3fe0000000000000
GLOBL c2<>(SB), RODATA|NOPTR, $32

// 1/3!
DATA c3<>+0(SB)/8, $0x3fc5555555555555
DATA c3<>+8(SB)/8, $0x3fc5555555555555
DATA c3<>+16(SB)/8, $0x3fc5555555555555
DATA c3<>+24(SB)/8, $0x3fc5555555555555
GLOBL c3<>(SB), RODATA|NOPTR, $32

// 1/4!
DATA c4<>+0(SB)/8, $0x3fa5555555555555
DATA c4<>+8(SB)/8, $0x3fa5555555555555
DATA c4<>+16(SB)/8, $0x3fa5555555555555
DATA c4<>+24(SB)/8, $0x3fa5555555555555
GLOBL c4<>(SB), RODATA|NOPTR, $32

// 1/5!
DATA c5<>+0(SB)/8, $0x3f81111111111111
DATA c5<>+8(SB)/8, $0x3f81111111111111
DATA c5<>+16(SB)/8, $0x3f81111111111111
DATA c5<>+24(SB)/8, $0x3f81111111111111
GLOBL c5<>(SB), RODATA|NOPTR, $32

// 1/6!
DATA c6<>+0(SB)/8, $0x3f56c16c16c16c17
DATA c6<>+8(SB)/8, $0x3f56c16c16c16c17
DATA c6<>+16(SB)/8, $0x3f56c16c16c16c17
DATA c6<>+24(SB)/8, $0x3f56c16c16c16c17
GLOBL c6<>(SB), RODATA|NOPTR, $32

// 1/7!
DATA c7<>+0(SB)/8, $0x3f2a01a01a01a01a
DATA c7<>+8(SB)/8, $0x3f2a01a01a01a01a
DATA c7<>+16(SB)/8, $0x3f2a01a01a01a01a
DATA c7<>+24(SB)/8, $0x3f2a01a01a01a01a
GLOBL c7<>(SB), RODATA|NOPTR, $32

// 1/8!
DATA c8<>+0(SB)/8, $0x3efa01a01a01a01a
DATA c8<>+8(SB)/8, $0x3efa01a01a01a01a
DATA c8<>+16(SB)/8, $0x3efa01a01a01a01a
DATA c8<>+24(SB)/8, $0x3efa01a01a01a01a
GLOBL c8<>(SB), RODATA|NOPTR, $32

// 1/9!
DATA c9<>+0(SB)/8, $0x3ec71de3a556c734
DATA c9<>+8(SB)/8, $0x3ec71de3a556c734
DATA c9<>+16(SB)/8, $0x3ec71de3a556c734
DATA c9<>+24(SB)/8, $0x3ec71de3a556c734
GLOBL c9<>(SB), RODATA|NOPTR, $32

// 1/10!
DATA c10<>+0(SB)/8, $0x3e927e4fb7789f5c
DATA c10<>+8(SB)/8, $0x3e927e4fb7789f5c
DATA c10<>+16(SB)/8, $0x3e927e4fb7789f5c
DATA c10<>+24(SB)/8, $0x3e927e4fb7789f5c
GLOBL c10<>(SB), RODATA|NOPTR, $32

// 1/11!
DATA c11<>+0(SB)/8, $0x3e5ae64567f544e4
DATA c11<>+8(SB)/8, $0x3e5ae64567f544e4
DATA c11<>+16(SB)/8, $0x3e5ae64567f544e4
DATA c11<>+24(SB)/8, $0x3e5ae64567f544e4
GLOBL c11<>(SB), RODATA|NOPTR, $32

// 1/12!
DATA c12<>+0(SB)/8, $0x3e21eed8eff8d898
DATA c12<>+8(SB)/8, $0x3e21eed8eff8d898
DATA c12<>+16(SB)/8, $0x3e21eed8eff8d898
DATA c12<>+24(SB)/8, $0x3e21eed8eff8d898
GLOBL c12<>(SB), RODATA|NOPTR, $32

// 1/13!
DATA c13<>+0(SB)/8, $0x3de6124613a86d09
DATA c13<>+8(SB)/8, $0x3de6124613a86d09
DATA c13<>+16(SB)/8, $0x3de6124613a86d09
DATA c13<>+24(SB)/8, $0x3de6124613a86d09
GLOBL c13<>(SB), RODATA|NOPTR, $32

// lg1
DATA lg1<>+0(SB)/8, $0x3fe5555555555593
DATA lg1<>+8(SB)/8, $0x3fe5555555555593
DATA lg1<>+16(SB)/8, $0x3fe5555555555593
DATA lg1<>+24(SB)/8, $0x3fe5555555555593
GLOBL lg1<>(SB), RODATA|NOPTR, $32

// lg2
DATA lg2<>+0(SB)/8, $0x3fd999999997fa04
DATA lg2<>+8(SB)/8, $0x3fd999999997fa04
DATA lg2<>+16(SB)/8, $0x3fd999999997fa04
DATA lg2<>+24(SB)/8, $0x3fd999999997fa04
GLOBL lg2<>(SB), RODATA|NOPTR, $32

// lg3
DATA lg3<>+0(SB)/8, $0x3fd2492494229359
DATA lg3<>+8(SB)/8, $0x3fd2492494229359
DATA lg3<>+16(SB)/8, $0x3fd2492494229359
DATA lg3<>+24(SB)/8, $0x3fd2492494229359
GLOBL lg3<>(SB), RODATA|NOPTR, $32

// lg4
DATA lg4<>+0(SB)/8, $0x3fcc71c51d8e78af
DATA lg4<>+8(SB)/8, $0x3fcc71c51d8e78af
DATA lg4<>+16(SB)/8, $0x3fcc71c51d8e78af
DATA lg4<>+24(SB)/8, $0x3fcc71c51d8e78af
GLOBL lg4<>(SB), RODATA|NOPTR, $32

// lg5
DATA lg5<>+0(SB)/8, $0x3fc7466496cb03de
DATA lg5<>+8(SB)/8, $0x3fc7466496cb03de
DATA lg5<>+16(SB)/8, $0x3fc7466496cb03de
DATA lg5<>+24(SB)/8, $0x3fc7466496cb03de
GLOBL lg5<>(SB), RODATA|NOPTR, $32

// lg6
DATA lg6<>+0(SB)/8, $0x3fc39a09d078c69f
DATA lg6<>+8(SB)/8, $0x3fc39a09d078c69f
DATA lg6<>+16(SB)/8, $0x3fc39a09d078c69f
DATA lg6<>+24(SB)/8, $0x3fc39a09d078c69f
GLOBL lg6<>(SB), RODATA|NOPTR, $32

// lg7
DATA lg7<>+0(SB)/8, $0x3fc2f112df3e5244
DATA lg7<>+8(SB)/8, $0x3fc2f112df3e5244
DATA lg7<>+16(SB)/8, $0x3fc2f112df3e5244
DATA lg7<>+24(SB)/8, $0x3fc2f112df3e5244
GLOBL lg7<>(SB), RODATA|NOPTR, $32

// 1
DATA one<>+0(SB)/8, $0x3ff0000000000000
DATA one<>+8(SB)/8, $0x3ff0000000000000
DATA one<>+16(SB)/8, $0x3ff0000000000000
DATA one<>+24(SB)/8, $0x3ff0000000000000
GLOBL one<>(SB), RODATA|NOPTR, $32

// 2
DATA two<>+0(SB)/8, $0x4000000000000000
DATA two<>+8(SB)/8, $0x4000000000000000
DATA two<>+16(SB)/8, $0x4000000000000000
DATA two<>+24(SB)/8, $0x4000000000000000
GLOBL two<>(SB), RODATA|NOPTR, $32

// 0.5
DATA half<>+0(SB)/8, $0x3fe0000000000000
DATA half<>+8(SB)/8, $0x3fe0000000000000
DATA half<>+16(SB)/8, $0x3fe0000000000000
DATA half<>+24(SB)/8, $0x3fe0000000000000
GLOBL half<>(SB), RODATA|NOPTR, $32

// expMin
DATA expmin<>+0(SB)/8, $0xc086200000000000
DATA expmin<>+8(SB)/8, $0xc086200000000000
DATA expmin<>+16(SB)/8, $0xc086200000000000
DATA expmin<>+24(SB)/8, $0xc086200000000000
GLOBL expmin<>(SB), RODATA|NOPTR, $32

// tanhMin
DATA tanhmin<>+0(SB)/8, $0xc044000000000000
DATA tanhmin<>+8(SB)/8, $0xc044000000000000
DATA tanhmin<>+16(SB)/8, $0xc044000000000000
DATA tanhmin<>+24(SB)/8, $0xc044000000000000
GLOBL tanhmin<>(SB), RODATA|NOPTR, $32

// √2 − 1
DATA sqrt2m1<>+0(SB)/8, $0x3fda827999fcef32
DATA sqrt2m1<>+8(SB)/8, $0x3fda827999fcef32
DATA sqrt2m1<>+16(SB)/8, $0x3fda827999fcef32
DATA sqrt2m1<>+24(SB)/8, $0x3fda827999fcef32
GLOBL sqrt2m1<>(SB), RODATA|NOPTR, $32

// sign bit
DATA signbit<>+0(SB)/8, $0x8000000000000000
DATA signbit<>+8(SB)/8, $0x8000000000000000
DATA signbit<>+16(SB)/8, $0x8000000000000000
DATA signbit<>+24(SB)/8, $0x8000000000000000
GLOBL signbit<>(SB), RODATA|NOPTR, $32

// all but the sign bit
DATA absmask<>+0(SB)/8, $0x7fffffffffffffff
DATA absmask<>+8(SB)/8, $0x7fffffffffffffff
DATA absmask<>+16(SB)/8, $0x7fffffffffffffff
DATA absmask<>+24(SB)/8, $0x7fffffffffffffff
GLOBL absmask<>(SB), RODATA|NOPTR, $32

// exponent bias (integer)
DATA bias<>+0(SB)/8, $0x00000000000003ff
DATA bias<>+8(SB)/8, $0x00000000000003ff
DATA bias<>+16(SB)/8, $0x00000000000003ff
DATA bias<>+24(SB)/8, $0x00000000000003ff
GLOBL bias<>(SB), RODATA|NOPTR, $32

