#include "textflag.h"

// func tanhF32Asm(phi, dphi, x *float32, n int)
// tanhF32 on n values (a multiple of 8), eight at a time, with the same
// float32 operations in the same order (no fused operations), so both
// paths agree bit for bit.
TEXT ·tanhF32Asm(SB), NOSPLIT, $0-32
	MOVQ phi+0(FP), DI
	MOVQ dphi+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   tanhf32done
	VBROADCASTSS f32abs<>(SB), Y15
	VBROADCASTSS f32sign<>(SB), Y14
	VBROADCASTSS f32tanhmin<>(SB), Y13
	VBROADCASTSS f32magic<>(SB), Y12
	VBROADCASTSS f32one<>(SB), Y11
	VPBROADCASTD f32bias<>(SB), Y10

tanhf32loop:
	VMOVUPS (DX), Y8
	VANDPS  Y15, Y8, Y0           // |x|
	VADDPS  Y0, Y0, Y0            // 2|x|
	VXORPS  Y14, Y0, Y0           // y = −2|x|
	VMAXPS  Y0, Y13, Y0           // max(−20, y), NaN kept
	VBROADCASTSS f32invln2<>(SB), Y1
	VMULPS  Y1, Y0, Y1            // y/ln2
	VADDPS  Y12, Y1, Y1           // t = y/ln2 + magic: k in the low bits
	VSUBPS  Y12, Y1, Y2           // kf = t − magic
	VBROADCASTSS f32ln2hi<>(SB), Y3
	VMULPS  Y3, Y2, Y3            // kf·ln2Hi (exact)
	VSUBPS  Y3, Y0, Y4            // y − kf·ln2Hi
	VBROADCASTSS f32ln2lo<>(SB), Y3
	VMULPS  Y3, Y2, Y3            // kf·ln2Lo
	VSUBPS  Y3, Y4, Y4            // r
	VBROADCASTSS f32c7<>(SB), Y5
	VMULPS  Y4, Y5, Y5
	VBROADCASTSS f32c6<>(SB), Y6
	VADDPS  Y6, Y5, Y5            // c7·r + c6
	VMULPS  Y4, Y5, Y5
	VBROADCASTSS f32c5<>(SB), Y6
	VADDPS  Y6, Y5, Y5
	VMULPS  Y4, Y5, Y5
	VBROADCASTSS f32c4<>(SB), Y6
	VADDPS  Y6, Y5, Y5
	VMULPS  Y4, Y5, Y5
	VBROADCASTSS f32c3<>(SB), Y6
	VADDPS  Y6, Y5, Y5
	VMULPS  Y4, Y5, Y5
	VBROADCASTSS f32c2<>(SB), Y6
	VADDPS  Y6, Y5, Y5            // q
	VMULPS  Y4, Y4, Y6            // r²
	VMULPS  Y6, Y5, Y5            // r²·q
	VADDPS  Y4, Y5, Y5            // p = r + r²·q = e^r − 1
	VPADDD  Y10, Y1, Y1
	VPSLLD  $23, Y1, Y1           // 2^k = (bits(t) + 127) << 23
	VMULPS  Y5, Y1, Y5            // 2^k·p
	VSUBPS  Y11, Y1, Y6           // 2^k − 1
	VADDPS  Y6, Y5, Y5            // m = e^y − 1
	VBROADCASTSS f32two<>(SB), Y6
	VADDPS  Y6, Y5, Y6            // 2 + m
	VXORPS  Y14, Y5, Y5           // −m
	VDIVPS  Y6, Y5, Y5            // −m/(2 + m) = tanh|x|
	VANDPS  Y15, Y5, Y5
	VANDPS  Y14, Y8, Y7
	VORPS   Y7, Y5, Y5            // with the sign of x
	VMOVUPS Y5, (DI)
	VMULPS  Y5, Y5, Y6            // t²
	VSUBPS  Y6, Y11, Y6           // 1 − t²
	VMOVUPS Y6, (SI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNZ  tanhf32loop

tanhf32done:
	VZEROUPPER
	RET

// |x| mask
DATA f32abs<>+0(SB)/4, $0x7fffffff
GLOBL f32abs<>(SB), RODATA|NOPTR, $4

// sign bit
DATA f32sign<>+0(SB)/4, $0x80000000
GLOBL f32sign<>(SB), RODATA|NOPTR, $4

// −20
DATA f32tanhmin<>+0(SB)/4, $0xc1a00000
GLOBL f32tanhmin<>(SB), RODATA|NOPTR, $4

// 1/ln 2
DATA f32invln2<>+0(SB)/4, $0x3fb8aa3b
GLOBL f32invln2<>(SB), RODATA|NOPTR, $4

// 1.5·2²³
DATA f32magic<>+0(SB)/4, $0x4b400000
GLOBL f32magic<>(SB), RODATA|NOPTR, $4

// ln 2, high part (9 bits)
DATA f32ln2hi<>+0(SB)/4, $0x3f318000
GLOBL f32ln2hi<>(SB), RODATA|NOPTR, $4

// ln 2, low part
DATA f32ln2lo<>+0(SB)/4, $0xb95e8083
GLOBL f32ln2lo<>(SB), RODATA|NOPTR, $4

// 1/7!
DATA f32c7<>+0(SB)/4, $0x39500d01
GLOBL f32c7<>(SB), RODATA|NOPTR, $4

// 1/6!
DATA f32c6<>+0(SB)/4, $0x3ab60b61
GLOBL f32c6<>(SB), RODATA|NOPTR, $4

// 1/5!
DATA f32c5<>+0(SB)/4, $0x3c088889
GLOBL f32c5<>(SB), RODATA|NOPTR, $4

// 1/4!
DATA f32c4<>+0(SB)/4, $0x3d2aaaab
GLOBL f32c4<>(SB), RODATA|NOPTR, $4

// 1/3!
DATA f32c3<>+0(SB)/4, $0x3e2aaaab
GLOBL f32c3<>(SB), RODATA|NOPTR, $4

// 1/2!
DATA f32c2<>+0(SB)/4, $0x3f000000
GLOBL f32c2<>(SB), RODATA|NOPTR, $4

// 1
DATA f32one<>+0(SB)/4, $0x3f800000
GLOBL f32one<>(SB), RODATA|NOPTR, $4

// 2
DATA f32two<>+0(SB)/4, $0x40000000
GLOBL f32two<>(SB), RODATA|NOPTR, $4

// exponent bias
DATA f32bias<>+0(SB)/4, $0x0000007f
GLOBL f32bias<>(SB), RODATA|NOPTR, $4
