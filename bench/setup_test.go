package bench

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/internal/pgtest"
	"github.com/gatekeep/gatekeep/internal/redistest"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/bolt"
	"github.com/gatekeep/gatekeep/store/memory"
	"github.com/gatekeep/gatekeep/store/postgres"
	redisstore "github.com/gatekeep/gatekeep/store/redis"
	"github.com/gatekeep/gatekeep/token"
)

const (
	issuer   = "https://auth.example.test/"
	audience = "bench-api"
	// subjectPrefix starts every token's sub; handlers check it.
	subjectPrefix = "3f2b9c1e-8d4a-4b7e-9a1f-"
	sessionID     = "s-9d1c2b7a5e"
	// coldTokens distinct tokens cycle through a cache of one entry, so
	// every request of a cold row misses.
	coldTokens = 256
	// leeway is the clock skew every library is given.
	leeway = 30 * time.Second
)

var roles = []string{"user", "editor", "billing"}

var algs = []token.Algorithm{token.HS256, token.RS256, token.EdDSA}

// keys is one algorithm's key, shared by every row: gatekeep signs the
// tokens, and every library verifies them with pub.
type keys struct {
	alg    token.Algorithm
	priv   any // the HMAC secret or the private key
	pub    any // the HMAC secret or the public key
	ks     *token.KeySet
	signer *token.JWTSigner
}

var (
	keysMu sync.Mutex
	keysOf = map[token.Algorithm]*keys{}
)

// keysFor generates alg's key once per process.
func keysFor(tb testing.TB, alg token.Algorithm) *keys {
	tb.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	if k, ok := keysOf[alg]; ok {
		return k
	}
	var priv any
	var err error
	switch alg {
	case token.HS256:
		s := make([]byte, 32)
		_, err = rand.Read(s)
		priv = s
	case token.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case token.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		err = fmt.Errorf("no key for %s", alg)
	}
	if err != nil {
		tb.Fatal(err)
	}
	pub := priv
	if s, ok := priv.(crypto.Signer); ok {
		pub = s.Public()
	}
	key, err := token.NewKey(alg, "bench-1", priv)
	if err != nil {
		tb.Fatal(err)
	}
	ks, err := token.NewKeySet(key)
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := token.NewSigner(ks, token.WithIssuer(issuer), token.WithAudience(audience))
	if err != nil {
		tb.Fatal(err)
	}
	k := &keys{alg: alg, priv: priv, pub: pub, ks: ks, signer: signer}
	keysOf[alg] = k
	return k
}

// sign issues access token i: sub, iat, exp, nbf, iss, aud, jti, sid and
// three roles, valid for an hour.
func (k *keys) sign(tb testing.TB, i int) string {
	tb.Helper()
	now := time.Now()
	return k.signClaims(tb, &token.Claims{
		Subject: fmt.Sprintf("%s%012d", subjectPrefix, i), SessionID: sessionID,
		Roles: roles, NotBefore: now, ExpiresAt: now.Add(time.Hour),
	})
}

func (k *keys) signClaims(tb testing.TB, c *token.Claims) string {
	tb.Helper()
	tok, err := k.signer.Sign(token.Access, c)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// cacheMode is how a gatekeep row uses the verified-token cache.
type cacheMode string

const (
	warm cacheMode = "warm" // every request a cache hit
	cold cacheMode = "cold" // every request a miss, which the full cache does not admit
	off  cacheMode = "off"  // no cache behind the verifier
)

var benchHasher = sync.OnceValues(func() (auth.Hasher, error) {
	return auth.NewBcrypt(10) // login is not measured; auth.New hashes once
})

// newVerifier is k's verifier with the verified-token cache mode says:
// the default capacity (warm), one entry (cold: 256 tokens round robin
// always miss), or none.
func newVerifier(tb testing.TB, k *keys, mode cacheMode) *token.JWTVerifier {
	tb.Helper()
	opts := []token.Option{token.WithIssuer(issuer), token.WithAudience(audience), token.WithLeeway(leeway)}
	if mode != off {
		capacity := 0 // the default
		if mode == cold {
			capacity = 1
		}
		c, err := token.NewCache(capacity)
		if err != nil {
			tb.Fatal(err)
		}
		opts = append(opts, token.WithCache(c))
	}
	v, err := token.NewVerifier(k.ks, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// newGatekeep is the one place the benchmarks build gatekeep (exported
// API only): an Authenticator signing and verifying with k, keeping state
// in st, with the verified-token cache as mode says.
func newGatekeep(tb testing.TB, k *keys, st store.Store, mode cacheMode) *auth.Authenticator {
	tb.Helper()
	h, err := benchHasher()
	if err != nil {
		tb.Fatal(err)
	}
	a, err := auth.New(k.signer, newVerifier(tb, k, mode), st,
		auth.WithHasher(h), auth.WithIssuer(issuer), auth.WithAudience(audience), auth.WithLeeway(leeway))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = a.Close() })
	return a
}

// newGate is gatekeep's verify-only middleware (a resource server's):
// auth.NewGate over k's verifier and st's revocations.
func newGate(tb testing.TB, k *keys, st store.Store, mode cacheMode) *auth.Gate {
	tb.Helper()
	g, err := auth.NewGate(newVerifier(tb, k, mode), st, auth.WithIssuer(issuer), auth.WithAudience(audience))
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// storeKind names a store the gatekeep rows run on.
type storeKind string

const (
	memoryStore   storeKind = "memory"
	boltStore     storeKind = "bolt"
	redisStore    storeKind = "redis"
	postgresStore storeKind = "postgres"
)

var storeKinds = []storeKind{memoryStore, boltStore, redisStore, postgresStore}

// openStore opens a fresh store of kind, closed (and its keys or schema
// dropped) when tb ends. Redis and PostgreSQL skip tb when no server
// answers, or fail it when CI is set.
func openStore(tb testing.TB, kind storeKind) store.Store {
	tb.Helper()
	switch kind {
	case memoryStore:
		st := memory.New()
		tb.Cleanup(func() { _ = st.Close() })
		return st
	case boltStore:
		st, err := bolt.Open(filepath.Join(tb.TempDir(), "gatekeep.db"))
		if err != nil {
			tb.Fatalf("bolt.Open: %v", err)
		}
		tb.Cleanup(func() { _ = st.Close() })
		return st
	case redisStore:
		redistest.Client(tb) // skips or fails without a Redis
		c := goredis.NewClient(redistest.Options(tb))
		prefix := "gkbench-" + randomHex()
		st, err := redisstore.New(c, redisstore.WithPrefix(prefix))
		if err != nil {
			tb.Fatalf("redis.New: %v", err)
		}
		tb.Cleanup(func() {
			_ = st.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			it := c.Scan(ctx, 0, "{"+prefix+":*", 1000).Iterator()
			for it.Next(ctx) {
				c.Del(ctx, it.Val())
			}
			_ = c.Close()
		})
		return st
	case postgresStore:
		pool := pgtest.Pool(tb) // skips or fails without a PostgreSQL
		st, err := postgres.New(pool, postgres.WithSchema(pgtest.Schema(tb, pool)))
		if err != nil {
			tb.Fatalf("postgres.New: %v", err)
		}
		tb.Cleanup(func() { _ = st.Close() })
		return st
	}
	tb.Fatalf("unknown store %q", kind)
	return nil
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// request is the prebuilt request every row serves.
func request(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/private", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// identityOK is what every final handler checks of the identity its
// library gives it: the token's subject and its three roles.
func identityOK(sub string, nroles int) bool {
	return strings.HasPrefix(sub, subjectPrefix) && nroles == len(roles)
}

// answer is the final handlers' reply: 204 for the expected identity, 500
// for anything else, so a row that loses the identity fails.
func answer(w http.ResponseWriter, ok bool) {
	if !ok {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
