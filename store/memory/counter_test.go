package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatekeep/gatekeep/store/memory"
)

// Issue 22 finding 3: one counter per made-up name grew the heap without
// bound. The windows are capped; ended ones go first, then those nearest
// their end, and a window far from its end survives the flood.
func TestCountersBounded(t *testing.T) {
	clk := newFakeClock()
	s := memory.New(memory.WithClock(clk.Now), memory.WithMaxCounters(160))
	t.Cleanup(func() { _ = s.Close() })
	c := context.Background()

	for i := range 3 {
		if _, _, err := s.Incr(c, "victim", 24*time.Hour); err != nil {
			t.Fatal(err, i)
		}
	}
	for i := range 100 {
		if _, _, err := s.Incr(c, fmt.Sprint("ended", i), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(2 * time.Minute)
	// The ended windows make the room: none of the live ones is dropped.
	for i := range 150 {
		if _, _, err := s.Incr(c, fmt.Sprint("live", i), time.Hour+time.Duration(i)*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if n, _, _ := s.Count(c, "live0"); n != 1 {
		t.Errorf("a live window was dropped while ended ones could go: live0 = %d", n)
	}
	for i := range 100_000 {
		if _, _, err := s.Incr(c, fmt.Sprint("flood", i), time.Hour); err != nil {
			t.Fatal(err)
		}
		if n := memory.CounterLen(s); n > 160 {
			t.Fatalf("after %d new keys the store holds %d windows, above its bound of 160", i+1, n)
		}
	}
	if n, _, _ := s.Count(c, "victim"); n != 3 {
		t.Errorf("the window farthest from its end was dropped: victim = %d, want 3", n)
	}
}
