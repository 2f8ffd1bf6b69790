package token

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzDecodeSeg checks the hand-written decoder against encoding/base64's
// strict unpadded base64url, which differs only in skipping \r and \n.
func FuzzDecodeSeg(f *testing.F) {
	for _, s := range []string{"", "A", "AA", "AB", "AAA", "AAB", "AAAA", "_-__", "a+b/", "YQ==", "YQ", "YR", "\nAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := decodeSeg(nil, s)
		want, werr := base64.RawURLEncoding.Strict().DecodeString(s)
		if strings.ContainsAny(s, "\r\n") {
			if err == nil {
				t.Fatalf("accepted a line break in %q", s)
			}
			return
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: ours %v, stdlib %v", s, err, werr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("%q: ours %x, stdlib %x", s, got, want)
		}
	})
}
