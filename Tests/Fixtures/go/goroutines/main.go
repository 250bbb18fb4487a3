// Command goroutines is a Go fixture of fpprof's end-to-end tests: three goroutines, each spinning in a function of
// its own, each printing its own goroutine id (from runtime.Stack) before it starts:
//
//	spinA 18
//	spinB 19
//	spinC 20
//
//	runtime.goexit;main.main.func1;main.spinA   (goroutine 18), likewise spinB and spinC
//
// With "alloc", each spin function also allocates a large slice per round: the allocator takes a span from the heap
// on the thread's g0 stack (runtime.(*mheap).alloc -> runtime.systemstack), below the goroutine's own frames, so
// those samples run on g0 for that goroutine. With "clock", each round also reads the clock many times: time.Now
// calls the kernel's vdso on g0's stack (runtime.nanotime1/walltime -> __vdso_clock_gettime), code outside the Go
// binary that may use R14 for its own purposes.
//
// Usage: goroutines [SECONDS [alloc|clock]]   (default 3; 0 = run until killed)
package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"fpprof.test/fixtureargs"
)

var stop atomic.Bool
var allocate bool
var readClock bool
var garbage atomic.Pointer[[]byte]

// round is one unit of a spin function's work: churn, and with "alloc" a large allocation.
func round(x uint64) uint64 {
	x = churn(x)
	if allocate {
		b := make([]byte, 256<<10)
		b[x%uint64(len(b))] = byte(x)
		garbage.Store(&b)
	}
	if readClock {
		for i := 0; i < 200; i++ {
			x ^= uint64(time.Now().UnixNano())
		}
	}
	return x
}

// goid is the calling goroutine's id, from the first line of its stack trace: "goroutine N [running]:".
func goid() int64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	if i := bytes.IndexByte(buf, ' '); i > 0 {
		buf = buf[:i]
	}
	id, err := strconv.ParseInt(string(buf), 10, 64)
	if err != nil {
		return -1
	}
	return id
}

//go:noinline
func churn(x uint64) uint64 {
	for i := 0; i < 2000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

//go:noinline
func spinA(x uint64) uint64 {
	for !stop.Load() {
		x = round(x)
	}
	return x
}

//go:noinline
func spinB(x uint64) uint64 {
	for !stop.Load() {
		x = round(x)
	}
	return x
}

//go:noinline
func spinC(x uint64) uint64 {
	for !stop.Load() {
		x = round(x)
	}
	return x
}

func main() {
	seconds := fixtureargs.Seconds()
	allocate = len(os.Args) > 2 && os.Args[2] == "alloc"
	readClock = len(os.Args) > 2 && os.Args[2] == "clock"
	runtime.GOMAXPROCS(2)
	var printing sync.Mutex
	var wg sync.WaitGroup
	var sink atomic.Uint64
	for _, spin := range []struct {
		name string
		f    func(uint64) uint64
	}{{"spinA", spinA}, {"spinB", spinB}, {"spinC", spinC}} {
		wg.Add(1)
		go func(name string, f func(uint64) uint64) {
			defer wg.Done()
			printing.Lock()
			fmt.Printf("%s %d\n", name, goid())
			printing.Unlock()
			sink.Add(f(1))
		}(spin.name, spin.f)
	}
	if seconds > 0 {
		time.Sleep(time.Duration(seconds * float64(time.Second)))
		stop.Store(true)
	}
	wg.Wait()
	if sink.Load() == 42 {
		fmt.Println()
	}
}
