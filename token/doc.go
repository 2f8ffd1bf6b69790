// Package token signs and verifies gatekeep's JSON Web Tokens: typed claims,
// explicit token types, algorithms pinned to keys, key rotation by kid, and
// JWKS.
//
// Tokens are compact JWS (RFC 7515) with typed [Claims], signed with HS256/384/512,
// RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA (Ed25519). Every [Key] is
// pinned to one [Algorithm]: a token whose header alg differs from its key's is
// refused (alg none, same-family swaps and HMAC/RSA confusion included). Keys
// are found by the header's kid among configured keys only; jku, x5u, jwk and
// x5c are never followed and crit is refused. The header typ states the kind
// of token ([Access], [Refresh], [Reset]) and verification names the kind it
// expects (RFC 8725 §3.11). Tokens interoperate with Node's jsonwebtoken:
// standard claims, unpadded base64url, aud as a string when it has one
// member.
//
// golang-jwt/jwt/v5 provides the signature primitives; it is never part of
// this package's API, and every error wraps one of this package's sentinels
// ([ErrExpired], [ErrSignature], ...).
//
// # Usage
//
// An issuer builds a [KeySet] with one active key and a [JWTSigner]:
//
//	key, err := token.NewHMACKey(token.HS256, "", []byte(os.Getenv("JWT_SECRET")))
//	// or token.ParsePEM(token.ES256, "", pemBytes), token.GenerateKey(token.EdDSA, "")
//	ks, err := token.NewKeySet(key)
//	signer, err := token.NewSigner(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"))
//	tok, err := signer.Sign(token.Access, &token.Claims{
//		Subject: user.ID, SessionID: sess.ID, Roles: user.Roles,
//		ExpiresAt: time.Now().Add(15 * time.Minute),
//	})
//
// A verifier names the kind of token it expects:
//
//	verifier, err := token.NewVerifier(ks, token.WithIssuer("gatekeep"), token.WithAudience("gatekeep"))
//	claims, err := verifier.Verify(ctx, token.Access, tok)
//	if errors.Is(err, token.ErrExpired) { ... }
//
// Application claims travel in [Claims.Extra] and come back typed with
// [VerifyInto].
//
// A resource server that must not be able to sign verifies with
// [KeySet.Public] (asymmetric keys only), or fetches the issuer's JWK Set
// with [NewRemoteKeySource]; the issuer serves it with [JWKSHandler]:
//
//	mux.Handle("GET /.well-known/jwks.json", token.JWKSHandler(ks))
//
//	src, err := token.NewRemoteKeySource("https://issuer.example/.well-known/jwks.json")
//	verifier, err := token.NewVerifier(src, token.WithIssuer("gatekeep"))
//
// A service that sees the same tokens again and again gives its verifier a
// [Cache] ([WithCache], or [JWTVerifier.Cached] for a verifier it was
// handed): a token verified once is then answered without signature or JSON
// work, while its type, exp, nbf and iat and its key's presence in the key
// set are checked again on every hit. Revocation stays the caller's job on
// every request. Tokens whose header is byte for byte the one [JWTSigner]
// writes skip header decoding, and claims are decoded without reflection
// when that gives encoding/json's answer.
//
//	cache, err := token.NewCache(0) // DefaultCacheCapacity entries, ~30 MiB
//	verifier, err := token.NewVerifier(ks, token.WithIssuer("gatekeep"), token.WithCache(cache))
//
// Rotation: [KeySet.Add] the new key, wait until verifiers have it (the JWKS
// handler lets caches keep the set five minutes), [KeySet.SetActive] it, and
// [KeySet.Remove] the old key once its last token has expired.
//
// Migrating from Node: a [LegacyVerifier] checks the access tokens an
// express application signed with jsonwebtoken (jwt.sign({id, admin},
// JWT_SECRET, {expiresIn})) with the same key, its algorithm pinned, for
// the time the migration takes; auth.WithLegacyTokens uses it.
package token
