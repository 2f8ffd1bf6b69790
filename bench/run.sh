#!/usr/bin/env bash
# Side-by-side benchmarks of gatekeep and its peers, in one binary: builds
# the test binary once, runs ROUNDS interleaved rounds (every row once per
# round, -test.count=1) so that noise spreads over all rows instead of
# hitting a few, then prints the medians with benchstat (pinned in
# bench/go.mod as a tool), or with awk when benchstat cannot be built.
#
#   bash bench/run.sh                      # 6 rounds, -benchtime 1s
#   ROUNDS=3 BENCHTIME=200ms BENCH='RoundTrip/alg=HS256' bash bench/run.sh
#
# ROUNDS (default 6), BENCHTIME (default 1s), BENCH (a -bench pattern,
# default .), OUT (a directory for bench.test and raw.txt; default a new
# temporary one). Redis and PostgreSQL rows skip without a server at
# 127.0.0.1:6379 / 127.0.0.1:5432 (REDIS_URL, DATABASE_URL).
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

for i in $(seq 1 "$rounds"); do
  echo "bench: round $i of $rounds" >&2
  "$out/bench.test" -test.run '^$' -test.bench "$pattern" -test.benchtime "$benchtime" -test.count 1 >>"$raw"
done
echo "bench: raw results in $raw" >&2

{ grep -E '^(goos|goarch|cpu):' "$raw" || true; } | sort -u
echo "nproc: $(nproc), rounds: $rounds, benchtime: $benchtime"
if [ -n "$benchstat" ]; then
  "$benchstat" -col /alg -row /row "$raw"
else
  # name value-per-op... lines; median of each metric per benchmark name.
  awk '/^Benchmark/ {
      name = $1; sub(/-[0-9]+$/, "", name)
      for (i = 3; i < NF; i += 2) { key = name SUBSEP $(i+1); vals[key] = vals[key] " " $i }
      if (!(name in seen)) { seen[name] = 1; order[++n] = name }
    }
    function median(s,   a, m, i, j, t) {
      m = split(s, a, " ")
      for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j+1] = a[j]; a[j+1] = t }
      return (m % 2) ? a[(m+1)/2] : (a[m/2] + a[m/2+1]) / 2
    }
    END {
      printf "%-70s %12s %10s %10s\n", "benchmark (median)", "ns/op", "B/op", "allocs/op"
      for (k = 1; k <= n; k++) {
        nm = order[k]
        printf "%-70s %12s %10s %10s\n", nm, median(vals[nm SUBSEP "ns/op"]), median(vals[nm SUBSEP "B/op"]), median(vals[nm SUBSEP "allocs/op"])
      }
    }' "$raw"
fi
