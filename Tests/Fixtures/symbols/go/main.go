// Command symbolsfixture is the Go program of fpprof's symbolizer tests: plain functions, a method, a closure and
// small helpers the compiler inlines, so that names, lines and inline chains can be compared with
// `go tool addr2line` for DWARF builds and for builds with `-ldflags=-s -w`.
package main

import (
	"fmt"
	"os"
)

type accumulator struct{ total int }

//go:noinline
func (a *accumulator) add(v int) { a.total = a.total*31 + v }

func square(x int) int { return x * x } // inlined

func addSquares(n int) int { // inlined into mainWork
	s := 0
	for i := 0; i < n; i++ {
		s += square(i)
	}
	return s
}

//go:noinline
func mainWork(n int) int {
	acc := &accumulator{}
	for i := 0; i < n; i++ {
		acc.add(addSquares(i % 17))
	}
	return acc.total
}

//go:noinline
func withClosure(n int) int {
	f := func(x int) int { return x*3 + n }
	total := 0
	for i := 0; i < n; i++ {
		total += f(i)
	}
	return total
}

func main() {
	n := len(os.Args) * 1000
	fmt.Println(mainWork(n), withClosure(n))
}
