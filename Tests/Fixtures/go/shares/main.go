// Command shares is the Go fixture of fpprof's end-to-end tests: goroutines spending known shares of the CPU in
// named functions.
//
//	runtime.goexit;main.worker;main.workA    50 %
//	runtime.goexit;main.worker;main.workB    30 %
//	runtime.goexit;main.worker;main.workC    20 %
//
// Three worker goroutines run the same round: 5 units in workA, 3 in workB, 2 in workC, a unit being a fixed
// count of multiply-adds (about 1 ms of CPU). Shares are set by counting work, not by reading a clock, so they
// hold for any profile length and any number of goroutines or threads. GOMAXPROCS is 1 unless the environment
// sets it, so the fixture takes one core; the runtime preempts the goroutines between each other.
//
// The work functions spin in their own bodies and call the tiny main.account once per unit: that call makes them
// non-leaf functions, which Go always gives a frame record (push BP), so even a naive frame-pointer walk from a
// sample in workA finds main.worker. main.account is rarely sampled.
//
// main.worker takes no arguments: `go f(args)` would start a compiler-made wrapper closure (main.main.func1)
// between runtime.goexit and main.worker.
//
// Usage: shares [SECONDS]   (default 3; 0 = run until killed)
package main

import (
	"os"
	"runtime"
	"sync"
	"time"

	"fpprof.test/fixtureargs"
)

// unitIterations is one unit of work, about 1 ms of CPU on the development VM.
const unitIterations = 1_000_000

var units [3]uint64

//go:noinline
func account(slot int) uint64 {
	units[slot%3]++
	return units[slot%3]
}

//go:noinline
func workA(n int, x uint64) uint64 {
	for u := 0; u < n; u++ {
		for i := 0; i < unitIterations; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		x += account(0)
	}
	return x
}

//go:noinline
func workB(n int, x uint64) uint64 {
	for u := 0; u < n; u++ {
		for i := 0; i < unitIterations; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		x += account(1)
	}
	return x
}

//go:noinline
func workC(n int, x uint64) uint64 {
	for u := 0; u < n; u++ {
		for i := 0; i < unitIterations; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		x += account(2)
	}
	return x
}

var (
	sink     uint64
	deadline time.Time
	forever  bool
	wg       sync.WaitGroup

	sinkMutex sync.Mutex
)

//go:noinline
func worker() {
	defer wg.Done()
	x := uint64(1)
	for forever || time.Now().Before(deadline) {
		x = workA(5, x)
		x = workB(3, x)
		x = workC(2, x)
	}
	sinkMutex.Lock()
	sink += x
	sinkMutex.Unlock()
}

func main() {
	seconds := fixtureargs.Seconds()
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	deadline = time.Now().Add(time.Duration(seconds * float64(time.Second)))
	forever = seconds == 0
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go worker()
	}
	wg.Wait()
}
