// Command mcallbug re-creates, when built by a Go 1.19 whose runtime carries ../mcall-frame-loop.patch, the
// frame-pointer loop of the 2023 Go mcall bug (fixed upstream by Go commit b52f6d3, "runtime: fix frame pointer
// loop on amd64"). Built by stock Go 1.19 it is an ordinary, healthy program.
//
// Two phases, one after the other, each half of the run time, on one core (GOMAXPROCS=1 unless the environment
// sets it):
//
//	runtime.goexit;main.yieldLoop;main.yieldWork      first half: yields, then works
//	runtime.goexit;main.steadyLoop;main.steadyWork    second half: works, never yields
//
// main.yieldLoop calls runtime.Gosched (inlined: mcall(gosched_m)) and then the non-leaf main.yieldWork. With the
// patch, mcall saves its own frame pointer in g.sched.bp, so gogo resumes yieldLoop with BP pointing at the dead
// mcall frame just below SP; yieldWork's prologue pushes that BP at the very address it holds. yieldWork's frame
// record then reads [BP] == BP with [BP+8] the return address into yieldLoop, and a frame-pointer walk from any
// sample in yieldWork (or its callee main.account) repeats yieldLoop forever: perf repeats it to its limit of 127
// frames. Every call yieldLoop makes after its first Gosched (time.Now too) gets that record, until yieldLoop
// returns (its epilogue reloads the good BP from its own frame). The bug needs the function that called mcall to go
// on and make a call: gopark-based operations (channels, locks) return first, and their callers' chains stay whole.
//
// The work functions spin in their own bodies and call main.account once per unit of work: the call makes them
// non-leaf functions, which Go always gives a frame record (a leaf with no frame would push no BP, and the bad BP
// would never be stored). A unit is a fixed count of multiply-adds (about 0.3 ms of CPU), long against one
// Gosched (about a microsecond), so the scheduler's own samples stay well under 1 % of the yielding phase.
//
// Usage: mcallbug [SECONDS]   (default 3; a malformed argument exits with status 2)
//
// With FPPROF_FIXTURE_CHECK=1 it prints at exit, for each work function, in how many of its calls its own frame
// record pointed at itself ([BP] == BP, read through the assembly helper framePointer):
//
//	yieldWork selfloop N/M
//	steadyWork selfloop N/M
//
// The patched build must show N == M > 0 for yieldWork and N == 0 for steadyWork; the stock build 0 for both.
// (amd64 only, as the patch is.)
package main

import (
	"os"
	"runtime"
	"strconv"
	"time"
	"unsafe"
)

// unitIterations is one unit of work, about 0.3 ms of CPU.
const unitIterations = 300_000

var (
	units    [2]uint64
	sink     uint64
	deadline time.Time
	done     = make(chan struct{})

	// Calls of yieldWork and steadyWork, and how many of them found their frame record pointing at itself.
	calls, selfLoops [2]uint64
)

// framePointer returns the BP of its caller (framepointer_amd64.s). Go 1.19 calls this ABI0 function directly; an
// ABI wrapper, had the compiler put one in between, would add one record whose saved BP is the caller's.
func framePointer() uintptr

// noteRecord counts a call of work function `slot`, and a self-loop when one of the first frame records from bp,
// the frame-pointer chain from framePointer called in that function, holds its own address. The first record is
// the work function's own, or the ABI wrapper's, whose saved BP is the work function's. The walk stops at a record
// that does not lead upward (0 at the goroutine's first frame): every record it reads is live.
func noteRecord(slot int, bp uintptr) {
	calls[slot]++
	for i := 0; i < 3 && bp != 0; i++ {
		next := *(*uintptr)(unsafe.Pointer(bp))
		if next == bp {
			selfLoops[slot]++
			return
		}
		if next < bp {
			return
		}
		bp = next
	}
}

//go:noinline
func account(slot int) uint64 {
	units[slot&1]++
	return units[slot&1]
}

//go:noinline
func yieldWork(x uint64) uint64 {
	noteRecord(0, framePointer())
	for i := 0; i < unitIterations; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x + account(0)
}

//go:noinline
func steadyWork(x uint64) uint64 {
	noteRecord(1, framePointer())
	for i := 0; i < unitIterations; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x + account(1)
}

// yieldLoop is the looping function: the one that calls mcall (through the inlined Gosched) and then makes a call.
//
//go:noinline
func yieldLoop() {
	x := uint64(1)
	for time.Now().Before(deadline) {
		runtime.Gosched()
		x = yieldWork(x)
	}
	sink += x
	done <- struct{}{}
}

//go:noinline
func steadyLoop() {
	x := uint64(2)
	for time.Now().Before(deadline) {
		x = steadyWork(x)
	}
	sink += x
	done <- struct{}{}
}

func main() {
	seconds := 3.0
	if len(os.Args) > 1 {
		value, err := strconv.ParseFloat(os.Args[1], 64)
		if err != nil || value < 0 {
			os.Stderr.WriteString(os.Args[0] + ": bad number of seconds: " + os.Args[1] + "\n")
			os.Exit(2)
		}
		seconds = value
	}
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	half := time.Duration(seconds / 2 * float64(time.Second))

	// The goroutines take no arguments: `go f(args)` would start a compiler-made wrapper between runtime.goexit
	// and the function.
	deadline = time.Now().Add(half)
	go yieldLoop()
	<-done
	deadline = time.Now().Add(half)
	go steadyLoop()
	<-done

	if os.Getenv("FPPROF_FIXTURE_CHECK") == "1" {
		for slot, name := range []string{"yieldWork", "steadyWork"} {
			os.Stdout.WriteString(name + " selfloop " + strconv.FormatUint(selfLoops[slot], 10) + "/" +
				strconv.FormatUint(calls[slot], 10) + "\n")
		}
	}
}
