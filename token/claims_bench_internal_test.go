package token

import "testing"

// BenchmarkDecodeClaims is the fast claims decoder on a typical access
// token's payload: the whole of it (copy and arrays included) and the
// parse alone.
func BenchmarkDecodeClaims(b *testing.B) {
	payload := []byte(`{"iss":"gatekeep","sub":"3f2b9c1e-8d4a-4b7e-9a1f-000000000001","aud":"gatekeep","exp":1767323945,"nbf":1767323045,"iat":1767323045,"jti":"8a1b2c3d4e5f60718293a4b5","sid":"s-9d1c2b7a5e","roles":["user","editor","billing"]}`)
	b.Run("copy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var in inClaims
			if !decodeClaims(payload, &in) {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("parse", func(b *testing.B) {
		s := string(payload)
		var arr claimArrays
		b.ReportAllocs()
		for b.Loop() {
			var in inClaims
			if !decodeClaimsString(s, &in, &arr) {
				b.Fatal("not decoded")
			}
		}
	})
}
