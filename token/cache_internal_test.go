package token

import (
	"testing"
	"time"
)

// TestCacheCollisions forces what a keyed 64-bit hash makes rare: two
// tokens in one index slot, and two tokens with one hash. The exact string
// always decides.
func TestCacheCollisions(t *testing.T) {
	c, err := NewCache(64)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	entry := func(h uint64, tok string) *cacheEntry {
		return &cacheEntry{tok: tok, hash: h, expAt: now.Add(time.Hour)}
	}
	sh := c.shard(0)
	slots := uint64(len(sh.idx))
	a, b := entry(1, "token-a"), entry(1+slots, "token-b") // same shard, same slot
	c.put(a, now)
	c.put(b, now)
	if got := c.get(1, "token-a"); got != a {
		t.Fatalf("entry whose slot another took not found: %v", got)
	}
	if got := c.get(1+slots, "token-b"); got != b {
		t.Fatalf("slot holder not found: %v", got)
	}
	// Same hash, another string: a miss, never the other token's entry.
	if got := c.get(1, "token-x"); got != nil {
		t.Fatal("hash collision served another token's entry")
	}
	// Dropping clears the slot and the map.
	c.drop(b)
	if got := c.get(1+slots, "token-b"); got != nil {
		t.Fatal("dropped entry served")
	}
	if sh.slot(1+slots).Load() != nil {
		t.Fatal("dropped entry left in its slot")
	}
}
