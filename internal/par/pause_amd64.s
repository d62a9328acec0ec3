#include "textflag.h"

// func pause()
// PAUSE: a spin-wait hint that lets a core's other hardware thread (or,
// in a VM, the vCPU sharing its physical core) run; ≈ 40 ns here.
TEXT ·pause(SB), NOSPLIT, $0-0
	PAUSE
	RET
