package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecodeSeg checks the hand-written decoder against encoding/base64's
// strict unpadded base64url, which differs only in skipping \r and \n.
func FuzzDecodeSeg(f *testing.F) {
	for _, s := range []string{"", "A", "AA", "AB", "AAA", "AAB", "AAAA", "_-__", "a+b/", "YQ==", "YQ", "YR", "\nAA"} {
		f.Add(s)
	}
	// Every length mod 4, past the 8-character blocks too, and an invalid
	// character at each position of a block, at the start and mid-segment.
	const valid = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo-_0123"
	for n := 0; n <= len(valid); n++ {
		f.Add(valid[:n])
	}
	for _, bad := range []byte{'=', '+', '/', '.', '\r', '\n', ' ', 0x80, 0xff} {
		for pos := 0; pos < 16; pos++ {
			b := []byte(valid[:32])
			b[pos] = bad
			f.Add(string(b))
			f.Add(string(b[:11]))
		}
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

// FuzzDecodeClaims holds the hand-written claims decoder to encoding/json:
// whenever it answers, its result is exactly what json.Unmarshal gives
// (which must then succeed).
func FuzzDecodeClaims(f *testing.F) {
	for _, s := range []string{
		`{"iss":"gatekeep","sub":"u1","aud":"gatekeep","exp":1767323945,"iat":1767323045,"jti":"j","sid":"s","roles":["a","b","c"]}`,
		`{"aud":["x","gatekeep"],"exp":-5,"nbf":0,"preferred_username":"al\u00efce","x":{"y":[1,2.5e3,true,null,{}]}}`,
		` { } `, `{"exp":1.5}`, `{"exp":01}`, `{"EXP":1}`, `{"exp":1,"exp":2}`, `{"sub":"\u0061"}`,
		`{"roles":[]}`, `{"roles":null}`, `{"aud":""}`, `{"aud":[]}`, `{"aud":["",1]}`, `{"x":"\ud800"}`,
		`{"x":-}`, `{"x":1.}`, `{"x":1e}`, `{"x":"a` + "\x01" + `"}`, `{"sub":"` + "\xff" + `"}`, `null`, `[]`, `{"a":1}x`,
		`{"ſub":"x"}`, `{"preferred_username":"bob","tenant":"acme"}`, `{"Preferred_Username":"x"}`,
		`{"preferred_username":"a","preferred_username":"b"}`, `{"preferred_username":1}`, `{"plan":{"a":[1]}}`, `{"roles":["a",]}`, `{"a":[1,]}`, `{,}`, `{"exp":12345678901234567}`,
	} {
		f.Add([]byte(s))
	}
	// The word-at-a-time scans: a byte that ends or spoils a string, or a
	// non-digit in a date, at each position of the first two words.
	for i := range 17 {
		for _, c := range []string{`"`, `\`, "\u0041", "\x01", "\xc3\xa9", "\xff", "."} {
			body := strings.Repeat("a", i) + c + "bcdefghijklmnopq"
			f.Add([]byte(`{"sub":"` + body + `","roles":["` + body + `"],"x` + body + `":1}`))
		}
		f.Add([]byte(`{"exp":` + strings.Repeat("1", i) + `.5}`))
		f.Add([]byte(`{"exp":` + strings.Repeat("7", i) + `,"nbf":-` + strings.Repeat("9", i) + `}`))
		f.Add([]byte(`{"exp":1` + strings.Repeat("0", i) + `:` + `}`))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast inClaims
		if !decodeClaims(b, &fast) {
			return
		}
		var ref inClaims
		if err := json.Unmarshal(b, &ref); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json: %v", b, err)
		}
		ref.extra = hasExtraMembers(b)
		if !reflect.DeepEqual(fast, ref) {
			t.Fatalf("%q:\nfast %#v\njson %#v", b, fast, ref)
		}
		// The verifier's own call, with arrays to fill: the same result,
		// and no slice a caller could append into the arrays through.
		var boxed inClaims
		var arr claimArrays
		if !decodeClaimsString(string(b), &boxed, &arr) || !reflect.DeepEqual(boxed, ref) {
			t.Fatalf("%q with arrays:\nfast %#v\njson %#v", b, boxed, ref)
		}
		if cap(boxed.Roles) != len(boxed.Roles) || cap(boxed.Aud) != len(boxed.Aud) {
			t.Fatalf("%q: uncapped slices: roles %d/%d, aud %d/%d", b, len(boxed.Roles), cap(boxed.Roles), len(boxed.Aud), cap(boxed.Aud))
		}
	})
}

// BenchmarkDecodeSeg decodes segments the size of an HS256 signature, a
// typical payload and an RS256 signature into a reused buffer.
func BenchmarkDecodeSeg(b *testing.B) {
	for _, n := range []int{32, 187, 256} { // 43, 250 and 342 characters
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i*151 + 7)
		}
		seg := base64.RawURLEncoding.EncodeToString(src)
		b.Run(strconv.Itoa(len(seg)), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(seg)))
			buf, err := decodeSeg(nil, seg)
			if err != nil || !bytes.Equal(buf, src) {
				b.Fatalf("decodeSeg: %x, %v", buf, err)
			}
			for b.Loop() {
				buf, _ = decodeSeg(buf, seg)
			}
		})
	}
}
