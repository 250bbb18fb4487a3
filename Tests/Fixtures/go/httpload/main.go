// Command httpload is the client half of fpprof's tests on a real server (Debian's caddy): it fetches one URL on
// the loopback interface over and over, from a few connections kept alive, for a bounded time, so that the server
// under test is busy the whole time. It refuses any host but 127.0.0.1 and ::1: a test must never load a network.
//
// Usage: httpload SECONDS [URL [WORKERS]]   (WORKERS defaults to 4)
//
// Without a URL it serves itself: a handler on 127.0.0.1 (a free port) that writes 64 KiB. At exit it prints
// `requests N errors M` on stdout.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"fpprof.test/fixtureargs"
)

func main() {
	seconds := fixtureargs.Seconds()
	address := ""
	if len(os.Args) > 2 {
		address = os.Args[2]
	} else {
		address = serveItself()
	}
	target, err := url.Parse(address)
	if err != nil || (target.Hostname() != "127.0.0.1" && target.Hostname() != "::1") {
		fmt.Fprintf(os.Stderr, "httpload: only loopback URLs (127.0.0.1, ::1): %q\n", address)
		os.Exit(2)
	}
	workers := 4
	if len(os.Args) > 3 {
		if n, err := strconv.Atoi(os.Args[3]); err == nil && n > 0 && n <= 64 {
			workers = n
		}
	}
	// No proxy from the environment: the request goes straight to the loopback server.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: workers}}
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	var requests, failures atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				response, err := client.Get(target.String())
				if err != nil {
					failures.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, response.Body)
				response.Body.Close()
				requests.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("requests %d errors %d\n", requests.Load(), failures.Load())
}

// serveItself starts a server on a free loopback port and returns its URL.
func serveItself() string {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpload:", err)
		os.Exit(1)
	}
	body := make([]byte, 64<<10)
	go http.Serve(listener, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	return "http://" + listener.Addr().String() + "/"
}
