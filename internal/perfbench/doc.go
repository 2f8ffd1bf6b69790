// Package perfbench holds the benchmarks behind gatekeep's performance
// claims: one authenticated request, a full round trip through ServeHTTP,
// measured side by side with a bare handler and with golang-jwt's
// ParseWithClaims middleware (the floor) in one run.
//
// It has no code of its own, only benchmarks.
//
// # Usage
//
//	go test -run '^$' -bench . -benchmem -count 5 ./internal/perfbench/
//	go test -run '^$' -bench . -benchmem -count 5 -cpu 1,2 ./internal/perfbench/
//
// Compare runs with benchstat (golang.org/x/perf/cmd/benchstat). Rows:
//
//   - Bare: the final handler alone.
//   - Floor/HS256: golang-jwt's ParseWithClaims with typed claims, pinned
//     method, iss, aud and exp required, plus the memory store's
//     IsRevoked and a context value: the thinnest correct golang-jwt
//     middleware.
//   - Token/<alg>/warm: a middleware over [token.JWTVerifier] with a
//     [token.Cache] answering from the cache; Token/<alg>/cold: the same
//     with every request carrying a token the cache does not hold (256
//     tokens through a full cache of one entry: a miss, full verification
//     on the fast path, and no insertion, since the cache admits a token
//     only when it comes back soon); Token/<alg>/admit: each token twice
//     in a row, so that every other request is a miss that is admitted (an
//     insertion and an eviction); Token/<alg>/nocache: the cold row's
//     tokens with no cache at all.
//   - Auth/...: auth's Require middleware, with and without a cached
//     verifier.
//
// Each request is prebuilt and gets a fresh httptest.ResponseRecorder.
package perfbench
