// Package bench measures gatekeep side by side with the JWT middlewares
// people use today, in one test binary: auth0/go-jwt-middleware,
// go-chi/jwtauth and appleboy/gin-jwt, beside two floors (a bare handler
// and golang-jwt's ParseWithClaims). It is a module of its own
// (github.com/gatekeep/gatekeep/bench), so the peers never enter
// gatekeep's dependency graph.
//
// Every row serves the same prebuilt request (one token, signed once per
// algorithm by gatekeep's signer with sub, iat, exp, nbf, iss, aud, jti,
// sid and three roles) through ServeHTTP with a fresh recorder, and the
// final handler reads the caller's identity through the library's own
// accessor; a row whose handler does not see the expected subject fails.
// TestRowsAgree checks that every row lets the valid token through and
// refuses a tampered one, one for another audience, one from another
// issuer and an expired one, and that every row credited with a
// revocation check refuses a token revoked after its first use.
//
// # Usage
//
//	bash bench/run.sh                     # 6 interleaved rounds, median table
//	cd bench && go test -run '^$' -bench . -benchtime=200ms .
//
// Rows (BenchmarkRoundTrip/alg=<alg>/row=<row>):
//
//   - bare: the final handler alone, no authentication.
//   - golang-jwt-floor: ParseWithClaims with typed claims, the method
//     pinned, iss, aud and exp required, plus the memory store's
//     IsRevoked: the thinnest correct golang-jwt middleware.
//   - gatekeep-<router>-<store>-<cache>: auth.Authenticator's Require on
//     net/http (and its chi and gin adapters), on the memory, bolt, Redis
//     and PostgreSQL stores; warm is a verified-token cache hit, cold a
//     miss on every request (256 tokens through a cache of one entry,
//     which, full, admits none of them: a token seen again only after
//     many others is not worth an insertion), off a verifier without a
//     cache. Redis and PostgreSQL rows skip
//     without a server (and fail when CI is set).
//   - gatekeep-gate-nethttp-memory-<cache>: the verify-only auth.Gate of a
//     resource server (auth.NewGate), warm and cold.
//   - auth0-go-jwt-middleware, go-chi-jwtauth, gin-jwt: each library as
//     its documentation configures it, pinned to the same algorithm, key,
//     issuer and audience. They check no revocation; gatekeep's rows and
//     the floor do.
package bench
