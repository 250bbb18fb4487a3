// Command cgo is a Go fixture of fpprof's end-to-end tests: almost all of its CPU goes to C code, built without
// frame pointers, that Go calls through cgo. The C runs on the thread's g0 stack (runtime.asmcgocall switches to
// it); a walk from c_leaf must cross the C frames by their call frame information and the switch back to the
// goroutine's frames:
//
//	runtime.goexit;runtime.main;main.main;main.worker;main.callC;main._Cfunc_c_outer;runtime.cgocall;
//	runtime.asmcgocall;c_outer;c_middle;c_leaf                                                     ~100 %
//
// Usage: cgo [SECONDS]   (default 3; 0 = run until killed)
package main

// #cgo CFLAGS: -O2 -g -fomit-frame-pointer
// #include "burn.h"
import "C"

import (
	"fmt"
	"time"

	"fpprof.test/fixtureargs"
)

// callC makes one cgo call: about 4 ms of C.
//
//go:noinline
func callC(x uint64) uint64 {
	return uint64(C.c_outer(C.ulong(x)))
}

//go:noinline
func worker(deadline time.Time, forever bool) uint64 {
	var x uint64 = 1
	for forever || time.Now().Before(deadline) {
		x = callC(x)
	}
	return x
}

func main() {
	seconds := fixtureargs.Seconds()
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	fmt.Println("x", worker(deadline, seconds == 0))
}
