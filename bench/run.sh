#!/usr/bin/env bash
# Side-by-side benchmarks of gatekeep and its peers, in one binary: builds
# the test binary once, runs ROUNDS interleaved rounds (every row once per
# round, -test.count=1) so that noise spreads over all rows instead of
# hitting a few, then prints the medians with benchstat (pinned in
# bench/go.mod as a tool, skipped when it cannot be built) and a Markdown
# table of medians (awk).
#
#   bash bench/run.sh                      # 6 rounds, -benchtime 1s
#   ROUNDS=3 BENCHTIME=200ms BENCH='RoundTrip/alg=HS256' bash bench/run.sh
#
# ROUNDS (default 6), BENCHTIME (default 1s), BENCH (a -bench pattern,
# default .), OUT (a directory for bench.test and raw.txt; default a new
# temporary one). Redis and PostgreSQL rows skip without a server at
# 127.0.0.1:6379 / 127.0.0.1:5432 (REDIS_URL, DATABASE_URL). The exit status
# is 1 when a round had a failing benchmark (the table is printed anyway).
set -euo pipefail
cd "$(dirname "$0")"

rounds="${ROUNDS:-6}"
benchtime="${BENCHTIME:-1s}"
pattern="${BENCH:-.}"
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/gatekeep-bench.XXXXXX")}"
mkdir -p "$out"
raw="$out/raw.txt"
: >"$raw"

echo "bench: building the test binary into $out" >&2
go test -c -o "$out/bench.test" .
benchstat=""
if go build -o "$out/benchstat" golang.org/x/perf/cmd/benchstat 2>"$out/benchstat-build.log"; then
  benchstat="$out/benchstat"
else
  echo "bench: benchstat does not build (see $out/benchstat-build.log); medians by awk" >&2
fi

failed=0
for i in $(seq 1 "$rounds"); do
  echo "bench: round $i of $rounds" >&2
  # A failing row (a 503 from a store that timed out, say) loses its sample
  # of this round only; the other rows and rounds go on, and it is reported.
  if ! "$out/bench.test" -test.run '^$' -test.bench "$pattern" -test.benchtime "$benchtime" -test.count 1 >>"$raw"; then
    failed=$((failed + 1))
  fi
done
echo "bench: raw results in $raw" >&2
if [ "$failed" -gt 0 ]; then
  echo "bench: $failed of $rounds rounds had a failing benchmark; their rows have fewer samples:" >&2
  grep -A1 -- '--- FAIL: .*/' "$raw" >&2 || true
fi

{ grep -E '^(goos|goarch|cpu):' "$raw" || true; } | sort -u
echo "nproc: $(nproc), rounds: $rounds, benchtime: $benchtime"
if [ -n "$benchstat" ]; then
  "$benchstat" -col /alg -row /row "$raw"
  echo
fi
# The summary: per row, the median time and allocations of each algorithm,
# as a Markdown table (bench/README.md and the README's Performance section).
awk '/^Benchmark[^ ]*\/alg=[^\/]+\/row=/ {
    name = $1; sub(/-[0-9]+$/, "", name)
    alg = name; sub(/^.*\/alg=/, "", alg); sub(/\/.*$/, "", alg)
    row = name; sub(/^.*\/row=/, "", row)
    for (i = 3; i < NF; i += 2) { key = row SUBSEP alg SUBSEP $(i+1); vals[key] = vals[key] " " $i }
    if (!(row in seenrow)) { seenrow[row] = 1; rows[++nr] = row }
    if (!(alg in seenalg)) { seenalg[alg] = 1; algs[++na] = alg }
  }
  function median(s,   a, m, i, j, t) {
    m = split(s, a, " ")
    if (m == 0) return ""
    for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j+1] = a[j]; a[j+1] = t }
    return (m % 2) ? a[(m+1)/2] : (a[m/2] + a[m/2+1]) / 2
  }
  function us(ns) { return ns == "" ? "–" : sprintf("%.2f", ns / 1000) }
  function n(v) { return v == "" ? "–" : sprintf("%g", v) }
  END {
    if (nr == 0) exit
    printf "| median of %s rounds |", rounds
    for (k = 1; k <= na; k++) printf " %s µs | allocs |", algs[k]
    printf "\n|---|"
    for (k = 1; k <= na; k++) printf "---:|---:|"
    printf "\n"
    for (r = 1; r <= nr; r++) {
      printf "| %s |", rows[r]
      for (k = 1; k <= na; k++) {
        printf " %s | %s |", us(median(vals[rows[r] SUBSEP algs[k] SUBSEP "ns/op"])), n(median(vals[rows[r] SUBSEP algs[k] SUBSEP "allocs/op"]))
      }
      printf "\n"
    }
  }' rounds="$rounds" "$raw"
[ "$failed" -eq 0 ]
