#include "textflag.h"

// func framePointer() uintptr
// The BP of the caller (or of an ABI wrapper, were there one between a Go caller and this ABI0 function): it has no
// frame of its own ($0, NOSPLIT), so it does not touch BP. Used only by the FPPROF_FIXTURE_CHECK self-check.
TEXT ·framePointer(SB), NOSPLIT, $0-8
	MOVQ	BP, ret+0(FP)
	RET
