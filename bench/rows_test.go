package bench

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	ginjwt "github.com/appleboy/gin-jwt/v2"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	ginpkg "github.com/gin-gonic/gin"
	gochi "github.com/go-chi/chi/v5"
	"github.com/go-chi/jwtauth/v5"
	jwtv4 "github.com/golang-jwt/jwt/v4"
	"github.com/golang-jwt/jwt/v5"
	jwxjwt "github.com/lestrrat-go/jwx/v2/jwt"

	gatekeepchi "github.com/gatekeep/gatekeep/adapters/chi"
	gatekeepgin "github.com/gatekeep/gatekeep/adapters/gin"
	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/store"
)

func init() { ginpkg.SetMode(ginpkg.ReleaseMode) }

// row is one middleware under measurement.
type row struct {
	name string
	// cold rows serve coldTokens distinct tokens round robin.
	cold bool
	// store is the kind of store the row checks revocations in; "" for
	// rows that check none.
	store storeKind
	// build returns the whole handler (router, middleware, final handler)
	// for k's algorithm, checking revocations in st (nil when store is "").
	build func(tb testing.TB, k *keys, st store.Store) http.Handler
}

// handler builds rw's handler on a fresh store of its kind, and returns
// that store too (nil for rows without one).
func (rw row) handler(tb testing.TB, k *keys) (http.Handler, store.Store) {
	var st store.Store
	if rw.store != "" {
		st = openStore(tb, rw.store)
	}
	return rw.build(tb, k, st), st
}

// rows lists every row, in the order of the table.
func rows() []row {
	rs := []row{
		{name: "bare", build: func(testing.TB, *keys, store.Store) http.Handler { return serveMux(bareHandler) }},
		{name: "golang-jwt-floor", store: memoryStore, build: floorRow},
	}
	for _, kind := range storeKinds {
		for _, mode := range []cacheMode{warm, cold, off} {
			rs = append(rs, row{name: "gatekeep-nethttp-" + string(kind) + "-" + string(mode), cold: mode == cold, store: kind,
				build: func(tb testing.TB, k *keys, st store.Store) http.Handler {
					a := newGatekeep(tb, k, st, mode)
					return serveMux(a.Require(gatekeepHandler))
				}})
		}
	}
	for _, mode := range []cacheMode{warm, cold} {
		rs = append(rs, row{name: "gatekeep-gate-nethttp-memory-" + string(mode), cold: mode == cold, store: memoryStore,
			build: func(tb testing.TB, k *keys, st store.Store) http.Handler {
				return serveMux(newGate(tb, k, st, mode).Require(gatekeepHandler))
			}})
	}
	for _, mode := range []cacheMode{warm, cold} {
		rs = append(rs,
			row{name: "gatekeep-chi-memory-" + string(mode), cold: mode == cold, store: memoryStore, build: func(tb testing.TB, k *keys, st store.Store) http.Handler {
				a := newGatekeep(tb, k, st, mode)
				r := gochi.NewRouter()
				gatekeepchi.Mount(r, a)
				r.With(a.Require).Get("/private", gatekeepHandler)
				return r
			}},
			row{name: "gatekeep-gin-memory-" + string(mode), cold: mode == cold, store: memoryStore, build: func(tb testing.TB, k *keys, st store.Store) http.Handler {
				a := newGatekeep(tb, k, st, mode)
				g := ginpkg.New()
				g.GET("/private", gatekeepgin.Require(a), func(c *ginpkg.Context) {
					p, ok := gatekeepgin.Principal(c)
					c.Status(status(ok && identityOK(p.UserID, len(p.Roles))))
				})
				return g
			}})
	}
	return append(rs,
		row{name: "auth0-go-jwt-middleware", build: auth0Row},
		row{name: "go-chi-jwtauth", build: jwtauthRow},
		row{name: "gin-jwt", build: ginJWTRow},
	)
}

func status(ok bool) int {
	if ok {
		return http.StatusNoContent
	}
	return http.StatusInternalServerError
}

func serveMux(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /private", h)
	return mux
}

var bareHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNoContent)
})

// gatekeepHandler reads the identity through auth.FromContext.
var gatekeepHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	answer(w, ok && identityOK(p.UserID, len(p.Roles)))
})

// bearer returns the Authorization header's Bearer token.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || h[:7] != "Bearer " {
		return "", false
	}
	return h[7:], true
}

// floorClaims is what a careful golang-jwt user writes: typed claims.
type floorClaims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid"`
	Roles     []string `json:"roles"`
}

type floorKey struct{}

// floorRow is the thinnest correct golang-jwt middleware: ParseWithClaims
// with the method pinned and iss, aud and exp required, then the memory
// store's revocation check (as gatekeep does) and a context value.
func floorRow(_ testing.TB, k *keys, st store.Store) http.Handler {
	p := jwt.NewParser(jwt.WithValidMethods([]string{string(k.alg)}), jwt.WithIssuer(issuer),
		jwt.WithAudience(audience), jwt.WithExpirationRequired(), jwt.WithLeeway(leeway))
	keyFunc := func(*jwt.Token) (any, error) { return k.pub, nil }
	final := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := r.Context().Value(floorKey{}).(*floorClaims)
		answer(w, ok && identityOK(c.Subject, len(c.Roles)))
	})
	mw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		c := new(floorClaims)
		if _, err := p.ParseWithClaims(tok, c, keyFunc); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var iat time.Time
		if c.IssuedAt != nil {
			iat = c.IssuedAt.Time
		}
		revoked, err := st.IsRevoked(r.Context(), store.Check{TokenID: c.ID, SessionID: c.SessionID, UserID: c.Subject, IssuedAt: iat})
		if err != nil || revoked {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		final.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), floorKey{}, c)))
	})
	return serveMux(mw)
}

// auth0Claims are the custom claims auth0's validator decodes.
type auth0Claims struct {
	SessionID string   `json:"sid"`
	Roles     []string `json:"roles"`
}

func (*auth0Claims) Validate(context.Context) error { return nil }

// auth0Row is auth0/go-jwt-middleware v2 as its README configures it, on
// net/http: validator.New with the algorithm, issuer and audience, custom
// claims for sid and roles, CheckJWT.
func auth0Row(tb testing.TB, k *keys, _ store.Store) http.Handler {
	v, err := validator.New(func(context.Context) (any, error) { return k.pub, nil },
		validator.SignatureAlgorithm(k.alg), issuer, []string{audience},
		validator.WithCustomClaims(func() validator.CustomClaims { return new(auth0Claims) }),
		validator.WithAllowedClockSkew(leeway))
	if err != nil {
		tb.Fatal(err)
	}
	final := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := r.Context().Value(jwtmiddleware.ContextKey{}).(*validator.ValidatedClaims)
		if !ok {
			answer(w, false)
			return
		}
		cc, ok := c.CustomClaims.(*auth0Claims)
		answer(w, ok && identityOK(c.RegisteredClaims.Subject, len(cc.Roles)))
	})
	return serveMux(jwtmiddleware.New(v.ValidateToken).CheckJWT(final))
}

// jwtauthRow is go-chi/jwtauth v5 on chi, as its README configures it:
// Verifier and Authenticator, with iss and aud required.
func jwtauthRow(_ testing.TB, k *keys, _ store.Store) http.Handler {
	ja := jwtauth.New(string(k.alg), nil, k.pub, jwxjwt.WithIssuer(issuer), jwxjwt.WithAudience(audience),
		jwxjwt.WithAcceptableSkew(leeway))
	r := gochi.NewRouter()
	r.Use(jwtauth.Verifier(ja), jwtauth.Authenticator(ja))
	r.Get("/private", func(w http.ResponseWriter, r *http.Request) {
		_, claims, err := jwtauth.FromContext(r.Context())
		sub, _ := claims["sub"].(string)
		rs, _ := claims["roles"].([]any)
		answer(w, err == nil && identityOK(sub, len(rs)))
	})
	return r
}

var errAlg = errors.New("unexpected signing method")

// ginJWTRow is appleboy/gin-jwt v2 on gin. Its own key settings know HMAC
// and RS* only, so the key comes from KeyFunc (which pins the method) for
// every algorithm; the Authorizator requires iss and aud, which gin-jwt
// does not check by itself.
func ginJWTRow(tb testing.TB, k *keys, _ store.Store) http.Handler {
	alg := string(k.alg)
	mw, err := ginjwt.New(&ginjwt.GinJWTMiddleware{
		Realm: "bench",
		KeyFunc: func(t *jwtv4.Token) (any, error) {
			if t.Method.Alg() != alg {
				return nil, errAlg
			}
			return k.pub, nil
		},
		SigningAlgorithm: alg,
		ParseOptions:     []jwtv4.ParserOption{jwtv4.WithValidMethods([]string{alg})},
		IdentityKey:      "sub",
		Authorizator: func(_ any, c *ginpkg.Context) bool {
			claims := jwtv4.MapClaims(ginjwt.ExtractClaims(c))
			return claims.VerifyIssuer(issuer, true) && claims.VerifyAudience(audience, true)
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	g := ginpkg.New()
	g.GET("/private", mw.MiddlewareFunc(), func(c *ginpkg.Context) {
		claims := ginjwt.ExtractClaims(c)
		sub, _ := claims["sub"].(string)
		rs, _ := claims["roles"].([]any)
		c.Status(status(identityOK(sub, len(rs))))
	})
	return g
}

// requests returns what a row serves: one token, or coldTokens of them.
func requests(tb testing.TB, k *keys, cold bool) []*http.Request {
	n := 1
	if cold {
		n = coldTokens
	}
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = request(k.sign(tb, i))
	}
	return reqs
}
