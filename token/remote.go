package token

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// RemoteKeySource is a [KeySource] over an issuer's JWK Set URL, for
// services that only verify. It fetches the set on first use, keeps it for
// the max age, and refetches on an unknown kid at most once per refresh
// interval, so a flood of made-up kids costs the issuer one request per
// interval. Only asymmetric keys with kid and alg are taken; the algorithm
// comes from the JWK, never from a token. When the set cannot be fetched and
// no fresh copy is held, lookups fail with ErrUnavailable (fail closed).
// It starts no goroutine. Safe for concurrent use.
type RemoteKeySource struct {
	url string
	cfg remoteConfig

	snap atomic.Pointer[remoteSnapshot]

	mu          sync.Mutex // serialises fetches; guards the fields below
	lastAttempt time.Time
	lastFailed  bool
}

type remoteSnapshot struct {
	keys    map[string]*Key
	fetched time.Time
}

var _ KeySource = (*RemoteKeySource)(nil)

// failureRetry bounds how long a failed fetch blocks the next attempt.
const failureRetry = 30 * time.Second

// NewRemoteKeySource returns a key source for the JWK Set at rawURL, which
// must be https (or http to a loopback address, for tests and sidecars).
// It does no I/O. Options: [WithHTTPClient], [WithRefreshInterval],
// [WithMaxAge], [WithMaxBodySize], [WithRemoteClock], [WithInsecureHTTP].
func NewRemoteKeySource(rawURL string, opts ...RemoteOption) (*RemoteKeySource, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: JWKS URL is not absolute", ErrInvalidConfig)
	}
	cfg := remoteConfig{
		interval: DefaultRefreshInterval, maxAge: DefaultRemoteMaxAge,
		maxBody: DefaultRemoteMaxBody, clock: time.Now,
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if len(cfg.errs) > 0 {
		return nil, cfg.errs[0]
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !(cfg.anyHTTP || isLoopback(u.Hostname()))) {
		return nil, fmt.Errorf("%w: JWKS URL must be https (http only to loopback, or with WithInsecureHTTP)", ErrInvalidConfig)
	}
	// A redirect could lead anywhere, plain http included, so none is
	// followed — also with a caller's client, which is copied, not changed.
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if cfg.client == nil {
		cfg.client = &http.Client{Timeout: DefaultRemoteTimeout, CheckRedirect: noRedirect}
	} else {
		c := *cfg.client
		c.CheckRedirect = noRedirect
		if c.Timeout == 0 {
			c.Timeout = DefaultRemoteTimeout
		}
		cfg.client = &c
	}
	return &RemoteKeySource{url: u.String(), cfg: cfg}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LookupKey implements [KeySource].
func (r *RemoteKeySource) LookupKey(ctx context.Context, kid string) (*Key, error) {
	now := r.cfg.clock()
	s := r.snap.Load()
	if s != nil && now.Sub(s.fetched) < r.cfg.maxAge {
		if k, ok := s.keys[kid]; ok {
			return k, nil
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	s = r.snap.Load() // another caller may have fetched meanwhile
	fresh := s != nil && now.Sub(s.fetched) < r.cfg.maxAge
	if fresh {
		if k, ok := s.keys[kid]; ok {
			return k, nil
		}
	}
	wait := r.cfg.interval
	if r.lastFailed && failureRetry < wait {
		wait = failureRetry
	}
	if r.lastAttempt.IsZero() || now.Sub(r.lastAttempt) >= wait {
		r.lastAttempt = now
		keys, err := r.fetch(ctx)
		r.lastFailed = err != nil
		if err == nil {
			if old := r.snap.Load(); old != nil {
				keepSameKeys(keys, old.keys)
			}
			s = &remoteSnapshot{keys: keys, fetched: now}
			r.snap.Store(s)
			fresh = true
		} else if !fresh {
			return nil, err
		}
	}
	if !fresh {
		return nil, fmt.Errorf("%w: no fresh JWK Set; next fetch is rate limited", ErrUnavailable)
	}
	if k, ok := s.keys[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

// keepSameKeys puts in fetched the *Key of old for each kid whose algorithm
// and public key did not change: the verified-token cache and the
// known-header table are tied to a Key's identity, and a refetch of an
// unchanged set must not throw them away.
func keepSameKeys(fetched, old map[string]*Key) {
	for kid, k := range fetched {
		o, ok := old[kid]
		if !ok || o.alg != k.alg {
			continue
		}
		if eq, ok := o.pub.(interface{ Equal(crypto.PublicKey) bool }); ok && eq.Equal(k.pub) {
			fetched[kid] = o
		}
	}
}

// fetch GETs and parses the set. The caller's cancellation does not abort
// it (one impatient client must not leave every verifier keyless until the
// next allowed attempt); the client's timeout bounds it.
func (r *RemoteKeySource) fetch(ctx context.Context) (map[string]*Key, error) {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, r.url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot build request", ErrUnavailable)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.cfg.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("%w: JWKS fetch timed out", ErrUnavailable)
		}
		return nil, fmt.Errorf("%w: JWKS fetch failed", ErrUnavailable)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: JWKS answered %d", ErrUnavailable, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.cfg.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: JWKS read failed", ErrUnavailable)
	}
	if int64(len(body)) > r.cfg.maxBody {
		return nil, fmt.Errorf("%w: JWKS larger than %d bytes", ErrUnavailable, r.cfg.maxBody)
	}
	return parseJWKS(body, r.cfg.alg)
}

// parseJWKS keeps the usable keys of a JWK Set; a kid that appears twice is
// ambiguous and dropped altogether. With alg set, every key is pinned to it
// (see WithRemoteAlgorithm).
func parseJWKS(body []byte, alg Algorithm) (map[string]*Key, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil || set.Keys == nil {
		return nil, fmt.Errorf("%w: JWKS is not a JWK Set", ErrUnavailable)
	}
	keys := make(map[string]*Key, len(set.Keys))
	dup := map[string]bool{}
	for _, raw := range set.Keys {
		var j JWK
		if json.Unmarshal(raw, &j) != nil {
			continue
		}
		if alg != "" {
			if j.Alg != "" && j.Alg != string(alg) {
				continue // another algorithm than the one configured
			}
			j.Alg = string(alg) // kty and crv must fit it: Key checks
		}
		k, err := j.Key()
		if err != nil {
			continue // symmetric, unsupported or broken: never usable
		}
		if _, seen := keys[k.kid]; seen || dup[k.kid] {
			dup[k.kid] = true
			delete(keys, k.kid)
			continue
		}
		keys[k.kid] = k
	}
	return keys, nil
}
