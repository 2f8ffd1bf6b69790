// Package load is a small closed-loop HTTP load generator: each worker
// holds one keep-alive connection of its own and sends its next request
// only when the previous answer has been read, for a fixed duration.
// Every latency sample is kept, so percentiles are exact (nearest rank),
// not estimated from buckets. It uses the standard library only and is
// meant for servers on loopback.
//
// # Usage
//
//	res := load.Run(ctx, 20*time.Second, load.Scenario{
//		Name: "GET /me", Conns: 64,
//		Do: func(ctx context.Context, c *http.Client, worker int) (int, error) {
//			req, _ := http.NewRequestWithContext(ctx, "GET", base+"/me", nil)
//			req.Header.Set("Authorization", "Bearer "+tokens[worker%len(tokens)])
//			return load.Send(c, req)
//		},
//		OK: load.Status(http.StatusOK),
//	})
//	fmt.Println(res[0])
package load

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Scenario is one kind of traffic: Conns workers, each calling Do in a
// closed loop with a client whose transport keeps one connection.
type Scenario struct {
	// Name labels the result.
	Name string
	// Conns is the number of workers (connections); at least 1.
	Conns int
	// Do sends one request and returns the response's status, or an
	// error for a transport failure. worker is in [0, Conns).
	Do func(ctx context.Context, c *http.Client, worker int) (int, error)
	// OK reports whether a status counts as a success; nil means any
	// 2xx. Other statuses and transport errors count as errors.
	OK func(status int) bool
}

// Status returns an OK function accepting exactly the given statuses.
func Status(ok ...int) func(int) bool {
	return func(s int) bool { return slices.Contains(ok, s) }
}

// Send does req on c, reads and discards the body (so the connection is
// reused) and returns the status.
func Send(c *http.Client, req *http.Request) (int, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	return resp.StatusCode, err
}

// Result is what one scenario measured.
type Result struct {
	Name  string
	Conns int
	// Elapsed is the wall time from the start to the scenario's last
	// answer (the last request started before the end is waited for).
	Elapsed time.Duration
	// Latencies holds every request's latency, sorted ascending.
	Latencies []time.Duration
	// Errors counts transport errors and statuses OK refused.
	Errors int
	// Statuses counts each status; 0 stands for a transport error.
	Statuses map[int]int
}

// Requests is the number of requests completed.
func (r *Result) Requests() int { return len(r.Latencies) }

// Rate is requests per second over Elapsed.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Latencies)) / r.Elapsed.Seconds()
}

// Percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of the
// latencies, or 0 when there are none.
func (r *Result) Percentile(p float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(float64(n)*p/100)) - 1 // the ceil(n·p/100)-th, 1-based
	rank = max(0, min(rank, n-1))
	return r.Latencies[rank]
}

// String is one line: requests/s, p50, p99, p99.9, max, errors, statuses.
func (r *Result) String() string {
	var sts []string
	keys := make([]int, 0, len(r.Statuses))
	for s := range r.Statuses {
		keys = append(keys, s)
	}
	sort.Ints(keys)
	for _, s := range keys {
		sts = append(sts, fmt.Sprintf("%d:%d", s, r.Statuses[s]))
	}
	return fmt.Sprintf("%-28s conns=%-3d req=%-8d req/s=%-9.0f p50=%-9s p99=%-9s p99.9=%-9s max=%-9s errors=%d statuses=%s",
		r.Name, r.Conns, r.Requests(), r.Rate(), round(r.Percentile(50)), round(r.Percentile(99)),
		round(r.Percentile(99.9)), round(r.Percentile(100)), r.Errors, strings.Join(sts, ","))
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// NewClient returns a client whose transport keeps at most one
// connection, alive between requests, and never follows redirects.
func NewClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			MaxConnsPerHost:     1,
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

// Run runs every scenario at once for d (or until ctx ends) and returns
// their results in order. A request still in flight at the end is waited
// for and counted.
func Run(ctx context.Context, d time.Duration, scenarios ...Scenario) []*Result {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type sample struct {
		lat    []time.Duration
		status map[int]int
		errs   int
		done   time.Time // when the worker's last answer came
	}
	per := make([][]sample, len(scenarios))
	var wg sync.WaitGroup
	start := make(chan struct{})
	var deadline time.Time // set before start is closed, read after
	for si, sc := range scenarios {
		per[si] = make([]sample, max(sc.Conns, 1))
		ok := sc.OK
		if ok == nil {
			ok = func(s int) bool { return s >= 200 && s < 300 }
		}
		for w := range per[si] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := NewClient()
				defer c.CloseIdleConnections()
				s := &per[si][w]
				s.lat = make([]time.Duration, 0, 1<<14)
				s.status = map[int]int{}
				<-start
				end := deadline
				s.done = time.Now()
				defer func() { s.done = time.Now() }()
				for ctx.Err() == nil {
					t0 := time.Now()
					if !t0.Before(end) {
						return
					}
					st, err := sc.Do(ctx, c, w)
					if ctx.Err() != nil && err != nil {
						return // cancelled, not an answer
					}
					s.lat = append(s.lat, time.Since(t0))
					s.status[st]++
					if err != nil || !ok(st) {
						s.errs++
					}
				}
			}()
		}
	}
	t0 := time.Now()
	deadline = t0.Add(d)
	close(start)
	wg.Wait()
	out := make([]*Result, len(scenarios))
	for si, sc := range scenarios {
		r := &Result{Name: sc.Name, Conns: len(per[si]), Statuses: map[int]int{}}
		for _, s := range per[si] {
			r.Elapsed = max(r.Elapsed, s.done.Sub(t0))
			r.Latencies = append(r.Latencies, s.lat...)
			r.Errors += s.errs
			for k, v := range s.status {
				r.Statuses[k] += v
			}
		}
		slices.Sort(r.Latencies)
		out[si] = r
	}
	return out
}
