// Package rotation rotates token-signing keys by themselves, shared by
// every instance through the store they already use.
//
// A [Rotator] keeps a [token.KeySet] in step with the key ring of a
// [store.KeyStore] (memory, bolt, Redis and PostgreSQL implement it). Every
// rotation period a new key is created in state next and published (in
// the JWK Set and in every verifier) for the pre-publication time before
// any instance signs with it; then it becomes active and the old active
// key turns retiring; a retiring key keeps verifying until every token it
// signed has expired, then it is deleted. Each step is one
// compare-and-swap in the store, so exactly one instance performs it and
// the others adopt its result at their next reload; there is no leader.
//
// Private keys are sealed at rest with a [token.KEK] (AES-256-GCM, the kid
// bound as associated data). A key that does not open is never used, and
// an instance that cannot open the ring refuses to sign and writes
// nothing rather than invent a key of its own.
//
// # Usage
//
//	kek, _ := token.ParseKEK(os.Getenv("JWT_KEY_ENCRYPTION_KEY"))
//	r, err := rotation.New(ctx, st, kek, token.ES256, 30*24*time.Hour,
//		rotation.WithRetain(refreshTTL+leeway))
//	if err != nil { ... }
//	defer r.Close()
//	signer, _ := token.NewSigner(r.KeySet())
//	verifier, _ := token.NewVerifier(r) // unknown kids reload, at most once per interval
//	mux.Handle("GET /.well-known/jwks.json", token.JWKSHandler(r.KeySet()))
package rotation
