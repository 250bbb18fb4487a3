// Command chanheavy is a Go fixture of fpprof's end-to-end tests: a ring of goroutines passing a token over
// unbuffered channels, so that most of the CPU goes to the scheduler: chansend/chanrecv park the goroutine
// (gopark -> runtime.mcall -> park_m on g0) and wake the next one (goready -> runtime.systemstack -> ready).
//
// Usage: chanheavy [SECONDS]   (default 3; 0 = run until killed)
package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"fpprof.test/fixtureargs"
)

var stop atomic.Bool

//go:noinline
func relay(in <-chan int, out chan<- int) {
	for v := range in {
		out <- v + 1
	}
	close(out)
}

func main() {
	seconds := fixtureargs.Seconds()
	const ring = 8
	first := make(chan int)
	in := first
	for i := 0; i < ring; i++ {
		out := make(chan int)
		go relay(in, out)
		in = out
	}
	last := in
	if seconds > 0 {
		go func() {
			time.Sleep(time.Duration(seconds * float64(time.Second)))
			stop.Store(true)
		}()
	}
	rounds := 0
	for !stop.Load() {
		first <- rounds
		<-last
		rounds++
	}
	close(first)
	for range last {
	}
	fmt.Println("rounds", rounds)
}
