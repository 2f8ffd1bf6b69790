package config

import (
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
)

// knownVars are the variables gatekeep reads: every name [FromLookup]
// asks its lookup for, found by running it once over an empty
// environment. FromLookup is thus the one place that names them, and a
// variable added there is known here without a list to keep; it must ask
// for each variable whatever the others hold.
var knownVars = sync.OnceValue(func() map[string]bool {
	known := map[string]bool{}
	_, _ = FromLookup(func(k string) (string, bool) {
		known[k] = true
		return "", false
	})
	return known
})

// ignoredPrefixes name variables other parts of gatekeep read, or will,
// that no warning is about.
var ignoredPrefixes = []string{"OIDC_"}

// watchedPrefixes make a variable look like ours whatever its distance to
// a known name.
var watchedPrefixes = []string{"JWT_", "AUTH_"}

// unknownVarNotes returns a warning for each name in names (set in the
// environment or .env) that gatekeep does not read but that looks like a
// name it does: the same in another case, at most 2 edits away (1 for
// names under 8 characters; a swap of two neighbours is one edit), or
// under JWT_ or AUTH_. Each names the likely intended variable, never a
// value.
func unknownVarNotes(names []string, known map[string]bool) []note {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	knownList := make([]string, 0, len(known))
	for k := range known {
		knownList = append(knownList, k)
	}
	slices.Sort(knownList)

	var out []note
	for _, name := range names {
		if known[name] || hasAnyPrefix(name, ignoredPrefixes) {
			continue
		}
		upper := strings.ToUpper(name)
		if known[upper] {
			out = append(out, note{slog.LevelWarn, "config: " + name + " is set but gatekeep does not read it: names are case-sensitive; did you mean " + upper + "?"})
			continue
		}
		best, bestD := "", -1
		for _, k := range knownList {
			if d := editDistance(upper, k); bestD < 0 || d < bestD {
				best, bestD = k, d
			}
		}
		limit := 2
		if len(best) < 8 {
			limit = 1
		}
		switch {
		case best != "" && bestD <= limit:
			out = append(out, note{slog.LevelWarn, "config: " + name + " is set but gatekeep does not read it; did you mean " + best + "?"})
		case best != "" && hasAnyPrefix(upper, watchedPrefixes):
			out = append(out, note{slog.LevelWarn, "config: " + name + " is set but gatekeep does not read it; the nearest variable it reads is " + best})
		}
	}
	return out
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and swaps of two neighbouring
// bytes (JWT_SECERT for JWT_SECRET) each count one.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// environNames returns the names of the process environment with a
// non-empty value.
func environNames() []string {
	var out []string
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" && v != "" {
			out = append(out, k)
		}
	}
	return out
}
