// Package gatekeeptest is a test kit for applications that use gatekeep:
// an in-memory stack (memory store, a fresh HS256 key, an [auth.Authenticator]
// on an injected [Clock]) with a fast password hasher, and helpers that
// give a test a logged-in user in microseconds instead of an argon2id
// hash: [Kit.MintAccess], [Kit.Login], [Kit.Register], plus request
// helpers ([Request], [Serve]) that work with net/http, chi and gin alike
// (all three are http.Handlers).
//
// # Usage
//
//	func TestMyHandler(t *testing.T) {
//		kit := gatekeeptest.New(t)
//		h := kit.Auth.Require(myHandler)
//		w := gatekeeptest.Serve(h, kit.RequestAs(t, "GET", "/me", "user-1", "editor"))
//		if w.Code != http.StatusOK { ... }
//	}
//
// # Safety
//
// The fast hasher is an unexported type of this package: nothing outside
// it (config included) can name or select it, and production code never
// imports this package (a test of the module checks the import graph).
// Its hashes are in a format of their own ("$gatekeeptest$"), which the
// production hashers refuse, so a kit hash that reached a real store would
// let nobody log in. Keys are generated per Kit, so a token the kit mints
// verifies nowhere else. [New] refuses to run outside a test binary
// (testing.Testing), and so does the hasher.
package gatekeeptest
