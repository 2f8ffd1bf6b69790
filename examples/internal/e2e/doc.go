// Package e2e is the one end-to-end table every example server runs: the
// same rows (docs/http-api.md, request by request) against examples/nethttp,
// examples/chi and examples/gin, on each store (memory, bolt in a temporary
// folder, Redis under a key prefix of the row's own, PostgreSQL in a schema
// of the row's own).
//
// # Usage
//
// In an example's main_test.go:
//
//	func TestE2E(t *testing.T) { e2e.Run(t, newHandler) }
//	func TestMain(t *testing.T) { e2e.RunMain(t, run) }
//
// Each row asserts the contract directly (status, headers, exact error
// shape) and records every exchange as a normalised transcript: status,
// the headers the API specifies, and the body's shape (keys and types,
// with constant values such as error codes kept). The transcript must
// equal testdata/<row>.golden, the same file for every router and every
// store, so two routers that differ in any of those fail one of them.
// After a deliberate change of the API, regenerate the files with
//
//	go test ./examples/nethttp -run TestE2E/memory -e2e.update
package e2e
