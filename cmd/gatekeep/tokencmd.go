package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token"
)

const tokenUsage = `Usage: gatekeep token inspect|sign ...

  token inspect [flags] [TOKEN|-]   decode a token; with a key, verify it as the middleware does
  token sign -sub ID [flags]        sign a token with the configured key

Run "gatekeep token <subcommand> -h" for its flags.
`

func (c *cli) token(args []string) error {
	return c.subcommand("token", args, map[string]func([]string) error{
		"inspect": c.tokenInspect,
		"sign":    c.tokenSign,
	}, tokenUsage)
}

// maxTokenInput bounds what inspect reads: far above any token a verifier
// accepts (token.DefaultMaxSize is 8 KiB), so an oversized one is named.
const maxTokenInput = 1 << 20

// kinds maps the words of -kind to token types.
var kinds = map[string]token.Type{"access": token.Access, "refresh": token.Refresh, "reset": token.Reset}

func kindOf(typ string) string {
	for k, t := range kinds {
		if string(t) == typ {
			return k
		}
	}
	return ""
}

// inspection is what token inspect found, and its -json form.
type inspection struct {
	// Verified is true only when a key was given and every check passed.
	Verified bool `json:"verified"`
	// Checked says whether verification was attempted at all.
	Checked bool `json:"checked"`
	// Check names the failing check: signature, kid unknown, typ,
	// expired, not yet valid, issuer, audience, algorithm, malformed,
	// too large, claims, key source unavailable.
	Check     string                     `json:"failed_check,omitempty"`
	Reason    string                     `json:"reason,omitempty"`
	KeySource string                     `json:"key_source,omitempty"`
	Expected  string                     `json:"expected_kind,omitempty"`
	Kind      string                     `json:"kind"`
	Header    map[string]json.RawMessage `json:"header"`
	Claims    map[string]json.RawMessage `json:"claims"`
	Times     map[string]timeInfo        `json:"times,omitempty"`
}

type timeInfo struct {
	UTC      string `json:"utc"`
	Relative string `json:"relative"`
}

func (c *cli) tokenInspect(args []string) error {
	fs := c.flags("token inspect", "token inspect [flags] [TOKEN|-]",
		`Decodes a token locally (it is never sent anywhere) and prints its header,
claims, times (UTC and relative) and kind (access, refresh or reset, from typ).
The token is the argument, or stdin when it is "-" or absent.

With a key it verifies the token with the same Verifier the middleware uses
(issuer JWT_ISSUER, audience JWT_AUDIENCE, leeway JWT_LEEWAY) and names the
check that fails: signature, kid unknown, typ, expired, not yet valid,
issuer, audience (exit status 1). The key is -key, -jwks, or else the
configured one (JWT_SECRET or JWT_PRIVATE_KEY_FILE, from the environment or
.env). Without any key, the first line says that nothing was verified.`)
	keyFile := fs.String("key", "", "a PEM key file (public or private) to verify with")
	alg := fs.String("alg", "", "the algorithm of -key (default: JWT_ALG when asymmetric, else from the key's type; RSA is RS256)")
	jwks := fs.String("jwks", "", "a JWK Set file, or its URL (https, or http to a loopback address)")
	kind := fs.String("kind", "", "the kind expected: access, refresh or reset (default: the token's own typ)")
	iss := fs.String("iss", "", "the issuer required (default JWT_ISSUER)")
	aud := fs.String("aud", "", "the audience required (default JWT_AUDIENCE)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usagef("token inspect: one token at most, got %d arguments", fs.NArg())
	}
	if *keyFile != "" && *jwks != "" {
		return usagef("token inspect: -key and -jwks exclude each other")
	}
	if *alg != "" && *keyFile == "" {
		return usagef("token inspect: -alg is the algorithm of -key")
	}
	if *kind != "" {
		if _, ok := kinds[*kind]; !ok {
			return usagef("token inspect: -kind %q: want access, refresh or reset", *kind)
		}
	}
	tok, err := c.readToken(fs.Arg(0))
	if err != nil {
		return err
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	if *iss != "" {
		cfg.Issuer = *iss
	}
	if *aud != "" {
		cfg.Audience = *aud
	}

	in, err := decodeToken(tok)
	if err != nil {
		return fmt.Errorf("token inspect: %w", err)
	}
	in.Times = c.times(in.Claims)

	src, name, err := c.keySource(cfg, *keyFile, *alg, *jwks)
	if err != nil {
		return err
	}
	if src != nil {
		in.Checked, in.KeySource = true, name
		expect := *kind
		if expect == "" {
			expect = in.Kind
		}
		if expect == "" {
			expect = "access"
		}
		in.Expected = expect
		c.verify(cfg, src, kinds[expect], tok, &in)
	}

	if *asJSON {
		if err := c.writeJSON(in); err != nil {
			return err
		}
	} else {
		c.printInspection(cfg, &in)
	}
	if in.Checked && !in.Verified {
		return errReported
	}
	return nil
}

// readToken takes the argument, or the first line of stdin for "-" or none.
func (c *cli) readToken(arg string) (string, error) {
	if arg != "" && arg != "-" {
		return strings.TrimSpace(arg), nil
	}
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintln(c.stderr, "Paste the token, then Enter (it stays on this machine):")
	}
	br := bufio.NewReader(io.LimitReader(c.stdin, maxTokenInput))
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("token inspect: reading stdin: %w", err)
	}
	line = strings.TrimSpace(line)
	// "Bearer xyz", as copied from a request, is accepted too.
	if rest, ok := strings.CutPrefix(line, "Bearer "); ok {
		line = strings.TrimSpace(rest)
	}
	if line == "" {
		return "", usagef("token inspect: no token: give it as the argument or on stdin")
	}
	return line, nil
}

// decodeToken reads the header and claims without verifying anything.
func decodeToken(tok string) (inspection, error) {
	var in inspection
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return in, fmt.Errorf("%w: a compact JWS has three dot-separated parts, this has %d", token.ErrMalformed, len(parts))
	}
	for i, dst := range []*map[string]json.RawMessage{&in.Header, &in.Claims} {
		what := [...]string{"header", "claims"}[i]
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return in, fmt.Errorf("%w: the %s is not unpadded base64url", token.ErrMalformed, what)
		}
		if err := json.Unmarshal(raw, dst); err != nil || *dst == nil {
			return in, fmt.Errorf("%w: the %s is not a JSON object", token.ErrMalformed, what)
		}
	}
	var typ string
	if raw, ok := in.Header["typ"]; ok {
		_ = json.Unmarshal(raw, &typ)
	}
	in.Kind = kindOf(typ)
	return in, nil
}

// times describes exp, nbf and iat in UTC and relative to now.
func (c *cli) times(claims map[string]json.RawMessage) map[string]timeInfo {
	now := c.clock()
	out := map[string]timeInfo{}
	for _, name := range []string{"exp", "nbf", "iat"} {
		raw, ok := claims[name]
		if !ok {
			continue
		}
		var f float64
		if json.Unmarshal(raw, &f) != nil || math.IsNaN(f) || math.Abs(f) > 1e11 {
			continue
		}
		t := time.Unix(int64(f), 0).UTC()
		d := t.Sub(now)
		var rel string
		switch name {
		case "exp":
			rel = relative(d, "expires in %s", "expired %s ago")
		case "nbf":
			rel = relative(d, "not valid for another %s", "valid since %s ago")
		case "iat":
			rel = relative(d, "issued %s in the future", "issued %s ago")
		}
		out[name] = timeInfo{UTC: t.Format(time.RFC3339), Relative: rel}
	}
	return out
}

// relative formats d with future (d > 0) or past.
func relative(d time.Duration, future, past string) string {
	if d > 0 {
		return fmt.Sprintf(future, human(d))
	}
	return fmt.Sprintf(past, human(-d))
}

// human is a duration as people say it: 45s, 12m, 3h, 3h20m, 5d.
func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// keySource picks the key to verify with: -key, -jwks, or the configured
// key; nil when there is none.
func (c *cli) keySource(cfg config.Config, keyFile, alg, jwks string) (token.KeySource, string, error) {
	switch {
	case keyFile != "":
		pemBytes, err := readFileLimited(keyFile, maxTokenInput)
		if err != nil {
			return nil, "", fmt.Errorf("token inspect: -key: %w", err)
		}
		k, err := parseKeyFile(pemBytes, alg, cfg.JWTAlg)
		if err != nil {
			return nil, "", fmt.Errorf("token inspect: -key %s: %w", keyFile, err)
		}
		ks, err := token.NewKeySet(nil, k)
		if err != nil {
			return nil, "", fmt.Errorf("token inspect: -key: %w", err)
		}
		return ks, fmt.Sprintf("-key %s (%s, kid %s)", keyFile, k.Algorithm(), k.KID()), nil
	case strings.HasPrefix(jwks, "https://") || strings.HasPrefix(jwks, "http://"):
		// https, or http to loopback only: NewRemoteKeySource refuses the rest.
		src, err := token.NewRemoteKeySource(jwks)
		if err != nil {
			return nil, "", fmt.Errorf("token inspect: -jwks: %w", err)
		}
		return src, "-jwks " + jwks, nil
	case jwks != "":
		b, err := readFileLimited(jwks, maxTokenInput)
		if err != nil {
			return nil, "", fmt.Errorf("token inspect: -jwks: %w", err)
		}
		var set token.JWKSet
		if err := json.Unmarshal(b, &set); err != nil {
			return nil, "", fmt.Errorf("token inspect: -jwks %s: not a JWK Set: %w", jwks, err)
		}
		var keys []*token.Key
		for i, j := range set.Keys {
			k, err := j.Key()
			if err != nil {
				return nil, "", fmt.Errorf("token inspect: -jwks %s: key %d: %w", jwks, i, err)
			}
			keys = append(keys, k)
		}
		if len(keys) == 0 {
			return nil, "", fmt.Errorf("token inspect: -jwks %s: the set has no keys", jwks)
		}
		ks, err := token.NewKeySet(nil, keys...)
		if err != nil {
			return nil, "", fmt.Errorf("token inspect: -jwks %s: %w", jwks, err)
		}
		return ks, "-jwks " + jwks, nil
	}
	k, err := config.SigningKey(cfg)
	if err != nil || k == nil {
		return nil, "", err
	}
	ks, err := token.NewKeySet(nil, k)
	if err != nil {
		return nil, "", err
	}
	what := "JWT_SECRET"
	if !k.Symmetric() {
		what = "JWT_PRIVATE_KEY_FILE"
	}
	return ks, fmt.Sprintf("%s (%s, kid %s)", what, k.Algorithm(), k.KID()), nil
}

// parseKeyFile reads a PEM key for alg; without alg, JWT_ALG when it is
// asymmetric, or else the algorithm the key's type implies (never the
// token's header: algorithms are pinned to keys).
func parseKeyFile(pemBytes []byte, alg string, cfgAlg token.Algorithm) (*token.Key, error) {
	if alg != "" {
		return token.ParsePEM(token.Algorithm(alg), "", pemBytes)
	}
	if !strings.HasPrefix(string(cfgAlg), "HS") {
		if k, err := token.ParsePEM(cfgAlg, "", pemBytes); err == nil {
			return k, nil
		}
	}
	var firstErr error
	for _, a := range []token.Algorithm{token.EdDSA, token.ES256, token.ES384, token.ES512, token.RS256} {
		k, err := token.ParsePEM(a, "", pemBytes)
		if err == nil {
			return k, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// checkNames maps the token package's sentinels to the check they report.
var checkNames = []struct {
	err  error
	name string
}{
	{token.ErrSignature, "signature"},
	{token.ErrUnknownKey, "kid unknown"},
	{token.ErrWrongType, "typ"},
	{token.ErrExpired, "expired"},
	{token.ErrNotYetValid, "not yet valid"},
	{token.ErrIssuer, "issuer"},
	{token.ErrAudience, "audience"},
	{token.ErrAlgorithm, "algorithm"},
	{token.ErrTooLarge, "too large"},
	{token.ErrMalformed, "malformed"},
	{token.ErrInvalidClaims, "claims"},
	{token.ErrUnavailable, "key source unavailable"},
}

// verify runs the middleware's Verifier over tok and records the outcome.
func (c *cli) verify(cfg config.Config, src token.KeySource, typ token.Type, tok string, in *inspection) {
	v, err := token.NewVerifier(src, token.WithIssuer(cfg.Issuer), token.WithAudience(cfg.Audience),
		token.WithLeeway(cfg.Leeway), token.WithClock(c.clock))
	if err != nil {
		in.Check, in.Reason = "configuration", oneLine(err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, token.DefaultRemoteTimeout)
	defer cancel()
	claims, err := v.Verify(ctx, typ, tok)
	if err != nil {
		in.Check = "unknown"
		for _, cn := range checkNames {
			if errors.Is(err, cn.err) {
				in.Check = cn.name
				break
			}
		}
		in.Reason = c.reason(cfg, in, typ, err)
		return
	}
	// The middleware also requires these of an access token.
	if typ == token.Access && (claims.Subject == "" || claims.ID == "" || claims.SessionID == "" || claims.IssuedAt.IsZero()) {
		in.Check, in.Reason = "claims", "the signature and times are good, but the middleware refuses an access token without sub, jti, sid and iat"
		return
	}
	in.Verified = true
}

// reason explains a failed check in terms of the token and the settings.
func (c *cli) reason(cfg config.Config, in *inspection, typ token.Type, err error) string {
	str := func(name string) string {
		if raw, ok := in.Header[name]; ok {
			return string(raw)
		}
		if raw, ok := in.Claims[name]; ok {
			return string(raw)
		}
		return "(none)"
	}
	switch in.Check {
	case "signature":
		return "the signature does not verify with " + in.KeySource + ": the token was signed with another key, or altered"
	case "kid unknown":
		return "kid " + str("kid") + " names no key of " + in.KeySource
	case "typ":
		return fmt.Sprintf("typ %s is not %q (a %s token was expected; -kind chooses)", str("typ"), typ, in.Expected)
	case "expired":
		return fmt.Sprintf("exp %s: %s (leeway %s)", in.Times["exp"].UTC, in.Times["exp"].Relative, cfg.Leeway)
	case "not yet valid":
		return fmt.Sprintf("nbf %s / iat %s lie in the future beyond the leeway of %s", in.Times["nbf"].UTC, in.Times["iat"].UTC, cfg.Leeway)
	case "issuer":
		return fmt.Sprintf("iss %s is not %q (JWT_ISSUER, or -iss)", str("iss"), cfg.Issuer)
	case "audience":
		return fmt.Sprintf("aud %s does not name %q (JWT_AUDIENCE, or -aud)", str("aud"), cfg.Audience)
	case "algorithm":
		return "alg " + str("alg") + " is not the algorithm pinned to the key of " + in.KeySource
	}
	// The token package's messages never hold a token or key material.
	return oneLine(err.Error())
}

var headerOrder = []string{"alg", "typ", "kid"}
var claimOrder = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "roles"}

func (c *cli) printInspection(cfg config.Config, in *inspection) {
	w := c.stdout
	switch {
	case !in.Checked:
		fmt.Fprintln(w, "NOT VERIFIED: no key given (JWT_SECRET, JWT_PRIVATE_KEY_FILE, -key or -jwks); anyone can write what follows")
	case in.Verified:
		fmt.Fprintf(w, "VERIFIED as %s token with %s: signature, typ, exp/nbf/iat (leeway %s), issuer %q and audience %q\n",
			article(in.Expected), in.KeySource, cfg.Leeway, cfg.Issuer, cfg.Audience)
	default:
		fmt.Fprintf(w, "INVALID: %s: %s\n", in.Check, in.Reason)
	}
	kind := in.Kind
	if kind == "" {
		kind = "unknown (typ is none of at+jwt, refresh+jwt, reset+jwt)"
	}
	fmt.Fprintln(w, "kind:", kind)
	fmt.Fprintln(w, "header:")
	printFields(w, in.Header, headerOrder, nil)
	fmt.Fprintln(w, "claims:")
	printFields(w, in.Claims, claimOrder, in.Times)
}

func article(kind string) string {
	if kind == "access" {
		return "an access"
	}
	return "a " + kind
}

// printFields prints fields in the given order, then the others sorted.
// Values are JSON, so a control character in a claim cannot drive the
// terminal.
func printFields(w io.Writer, fields map[string]json.RawMessage, order []string, times map[string]timeInfo) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if !slices.Contains(order, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	all := append(slices.Clone(order), keys...)
	width := 0
	for _, k := range all {
		if _, ok := fields[k]; ok {
			width = max(width, len(k)+1)
		}
	}
	for _, k := range all {
		raw, ok := fields[k]
		if !ok {
			continue
		}
		var buf bytes.Buffer
		if json.Compact(&buf, raw) != nil {
			buf.Reset()
			buf.Write(raw)
		}
		if ti, ok := times[k]; ok {
			fmt.Fprintf(w, "  %-*s %s  %s (%s)\n", width, k+":", buf.String(), ti.UTC, ti.Relative)
			continue
		}
		fmt.Fprintf(w, "  %-*s %s\n", width, k+":", buf.String())
	}
}

// claimList is the repeatable -claim k=v flag.
type claimList map[string]any

func (l claimList) String() string { return "" }

func (l claimList) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("want name=value")
	}
	if slices.Contains(claimOrder, k) {
		return fmt.Errorf("%s is a registered claim: use the flag for it", k)
	}
	if _, dup := l[k]; dup {
		return fmt.Errorf("%s is given twice", k)
	}
	var val any = v
	if json.Valid([]byte(v)) {
		_ = json.Unmarshal([]byte(v), &val)
	}
	l[k] = val
	return nil
}

type signResult struct {
	Token     string `json:"token"`
	Kind      string `json:"kind"`
	Kid       string `json:"kid"`
	ExpiresAt string `json:"expires_at"`
}

func (c *cli) tokenSign(args []string) error {
	fs := c.flags("token sign", "token sign -sub ID [-kind access] [-roles a,b] [-ttl 15m] [-claim k=v]... [-json]",
		`Signs a token with the configured key (JWT_SECRET, or JWT_ALG with
JWT_PRIVATE_KEY_FILE), issuer and audience, for tests and local development.
An access token gets a random sid unless -sid is given; the server checks
revocation by it. A -claim value is JSON when it parses as JSON (5, true,
{"a":1}), else a string. The token is printed on stdout: treat it as a
password.`)
	kind := fs.String("kind", "access", "access, refresh or reset")
	sub := fs.String("sub", "", "the user id (sub); required")
	sid := fs.String("sid", "", "the session id (sid); default a random one for access tokens")
	roles := fs.String("roles", "", "comma-separated roles")
	ttl := fs.Duration("ttl", 0, "lifetime (default ACCESS_TTL, REFRESH_TTL, or 15m for reset)")
	extra := claimList{}
	fs.Var(extra, "claim", "an application claim name=value (repeatable)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	typ, ok := kinds[*kind]
	switch {
	case !ok:
		return usagef("token sign: -kind %q: want access, refresh or reset", *kind)
	case *sub == "":
		return usagef("token sign: -sub is required")
	case *ttl < 0 || (*ttl > 0 && *ttl < time.Second):
		return usagef("token sign: -ttl %s: want at least 1s", *ttl)
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	key, err := config.SigningKey(cfg)
	if err != nil {
		return err
	}
	if key == nil {
		return errors.New("token sign: no signing key is configured: set JWT_SECRET (HS*), or JWT_ALG and JWT_PRIVATE_KEY_FILE (gatekeep keygen makes either); a key of this tool's own would verify nowhere")
	}
	ks, err := token.NewKeySet(key)
	if err != nil {
		return fmt.Errorf("token sign: %w", err)
	}
	signer, err := token.NewSigner(ks, token.WithIssuer(cfg.Issuer), token.WithAudience(cfg.Audience), token.WithClock(c.clock))
	if err != nil {
		return fmt.Errorf("token sign: %w", err)
	}
	life := *ttl
	if life == 0 {
		life = map[token.Type]time.Duration{token.Access: cfg.AccessTTL, token.Refresh: cfg.RefreshTTL, token.Reset: auth.DefaultPasswordResetTTL}[typ]
	}
	now := c.clock()
	claims := &token.Claims{Subject: *sub, SessionID: *sid, ExpiresAt: now.Add(life), IssuedAt: now}
	if claims.SessionID == "" && typ == token.Access {
		claims.SessionID = store.NewID()
	}
	if *roles != "" {
		claims.Roles = strings.Split(*roles, ",")
	}
	if len(extra) > 0 {
		claims.Extra = map[string]any(extra)
	}
	tok, err := signer.Sign(typ, claims)
	if err != nil {
		return fmt.Errorf("token sign: %w", err)
	}
	if *asJSON {
		return c.writeJSON(signResult{Token: tok, Kind: *kind, Kid: key.KID(), ExpiresAt: claims.ExpiresAt.UTC().Format(time.RFC3339)})
	}
	fmt.Fprintln(c.stdout, tok)
	return nil
}

var _ flag.Value = claimList(nil)
