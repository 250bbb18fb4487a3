// Command gcheavy is a Go fixture of fpprof's end-to-end tests: goroutines that allocate short-lived trees as fast
// as they can, so that a large part of the CPU goes to the garbage collector and the allocator's slow paths, which
// run on the thread's g0 stack under runtime.systemstack (and mark assists from the goroutines' own allocations).
//
//	runtime.goexit;main.worker;main.build;...            the goroutines' own work (allocation)
//	runtime.goexit;main.worker;...;runtime.systemstack;... the runtime on g0, below the goroutine's frames
//	runtime.goexit;runtime.gcBgMarkWorker;...             background marking
//
// Usage: gcheavy [SECONDS]   (default 3; 0 = run until killed)
package main

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"fpprof.test/fixtureargs"
)

type node struct {
	left, right *node
	payload     [4]uint64
}

var stop atomic.Bool
var sink atomic.Pointer[node]

//go:noinline
func build(depth int) *node {
	if depth == 0 {
		return &node{}
	}
	return &node{left: build(depth - 1), right: build(depth - 1)}
}

//go:noinline
func check(n *node) int {
	if n == nil {
		return 0
	}
	return 1 + check(n.left) + check(n.right)
}

func worker(wg *sync.WaitGroup, total *atomic.Int64) {
	defer wg.Done()
	for !stop.Load() {
		t := build(10)
		total.Add(int64(check(t)))
		sink.Store(t)
	}
}

func main() {
	seconds := fixtureargs.Seconds()
	// A small heap target: collections run back to back.
	debug.SetGCPercent(10)
	var wg sync.WaitGroup
	var total atomic.Int64
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go worker(&wg, &total)
	}
	if seconds > 0 {
		time.Sleep(time.Duration(seconds * float64(time.Second)))
		stop.Store(true)
	} else {
		select {}
	}
	wg.Wait()
	fmt.Println("nodes", total.Load())
}
