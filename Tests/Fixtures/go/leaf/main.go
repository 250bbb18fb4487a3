// Command leaf is a Go fixture of fpprof's end-to-end tests: almost all of its CPU goes to main.leaf, a small
// function that calls nothing and so gets no frame record from the Go compiler (no PUSHQ BP): a frame-pointer walk
// from a sample in it skips its caller, main.caller, unless it finds the return address at [SP].
//
//	runtime.goexit;main.worker;main.caller;main.leaf   ~100 %
//
// Usage: leaf [SECONDS]   (default 3; 0 = run until killed)
package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"fpprof.test/fixtureargs"
)

var stop atomic.Bool

// leaf is the hot frameless function: a few thousand multiply-adds per call, no calls, no stack frame.
//
//go:noinline
func leaf(x uint64) uint64 {
	for i := 0; i < 4000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

//go:noinline
func caller(x uint64) uint64 {
	return leaf(x) ^ leaf(x+1)
}

func worker(done chan<- uint64) {
	var x uint64 = 1
	for !stop.Load() {
		x = caller(x)
	}
	done <- x
}

func main() {
	seconds := fixtureargs.Seconds()
	done := make(chan uint64)
	go worker(done)
	if seconds > 0 {
		time.Sleep(time.Duration(seconds * float64(time.Second)))
		stop.Store(true)
	} else {
		select {}
	}
	fmt.Println("x", <-done)
}
