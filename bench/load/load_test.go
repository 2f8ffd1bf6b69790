package load_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/bench/load"
)

func TestPercentileNearestRank(t *testing.T) {
	r := &load.Result{}
	for i := 1; i <= 1000; i++ {
		r.Latencies = append(r.Latencies, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 500 * time.Millisecond}, {99, 990 * time.Millisecond}, {99.9, 999 * time.Millisecond}, {100, time.Second}, {0.01, time.Millisecond}} {
		if got := r.Percentile(tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := (&load.Result{}).Percentile(99); got != 0 {
		t.Errorf("p99 of nothing = %v", got)
	}
}

// TestRunCountsEveryAnswer: every request the server answered is one
// latency sample, refused statuses are errors, and each worker keeps its
// one connection alive.
func TestRunCountsEveryAnswer(t *testing.T) {
	var served, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	res := load.Run(context.Background(), 300*time.Millisecond, load.Scenario{
		Name: "get", Conns: 4,
		Do: func(ctx context.Context, c *http.Client, _ int) (int, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			if err != nil {
				return 0, err
			}
			return load.Send(c, req)
		},
		OK: load.Status(http.StatusNoContent),
	})[0]
	if int64(res.Requests()) != served.Load() {
		t.Errorf("%d samples for %d requests served", res.Requests(), served.Load())
	}
	if res.Requests() < 10 || res.Errors != res.Statuses[http.StatusTeapot] || res.Errors == 0 {
		t.Errorf("requests %d, errors %d, statuses %v", res.Requests(), res.Errors, res.Statuses)
	}
	if c := conns.Load(); c != 4 {
		t.Errorf("%d connections for 4 workers", c)
	}
}

func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	res := load.Run(context.Background(), 100*time.Millisecond, load.Scenario{
		Name: "GET /", Conns: 2,
		Do: func(ctx context.Context, c *http.Client, _ int) (int, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			if err != nil {
				return 0, err
			}
			return load.Send(c, req)
		},
		OK: load.Status(http.StatusOK),
	})
	r := res[0]
	fmt.Println(r.Name, r.Requests() > 0, r.Errors, r.Percentile(50) <= r.Percentile(99))
	// Output: GET / true 0 true
}
