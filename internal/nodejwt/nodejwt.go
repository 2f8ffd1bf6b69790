// Package nodejwt signs tokens with the real jsonwebtoken package (npm),
// run by node, so that gatekeep's tests check tokens exactly as a Node
// express application makes them. Without node or without the package
// installed (npm ci --prefix internal/nodejwt/testdata, which .ci/run
// does) a test skips with a message — or fails when the CI variable is
// set. Test code only.
package nodejwt

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Request is one token to sign: jwt.sign(Payload, Key, Options) as an
// express application calls it, or, with Forge set, a token jsonwebtoken
// refuses to make.
type Request struct {
	Payload map[string]any `json:"payload"`
	// Key is the secret (a string, used as its bytes) or a PEM private key.
	Key string `json:"key,omitempty"`
	// Options are jsonwebtoken's sign options (expiresIn, algorithm,
	// header, noTimestamp, ...).
	Options map[string]any `json:"options,omitempty"`
	// NoTyp drops typ from the header (options.header {typ: undefined}).
	NoTyp bool `json:"noTyp,omitempty"`
	// Forge, when set, makes the header {alg: Forge.Alg, typ: "JWT"} and
	// signs with HMAC-SHA256 under Forge.HMAC whatever alg says.
	Forge *Forge `json:"forge,omitempty"`
}

// Forge describes an algorithm-confusion forgery.
type Forge struct {
	Alg  string `json:"alg"`
	HMAC string `json:"hmac"`
}

// Dir is the folder of sign.mjs and its package.json.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata")
}

// Sign returns the token of each request, in order, signed by one run of
// node.
func Sign(t testing.TB, reqs ...Request) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "no node on PATH (apt-get install -y nodejs npm)")
	}
	dir := Dir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "jsonwebtoken", "package.json")); err != nil {
		unavailable(t, "jsonwebtoken is not installed: run npm ci --prefix internal/nodejwt/testdata (.ci/run does)")
	}
	in, err := json.Marshal(reqs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "sign.mjs")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node sign.mjs: %v\n%s", err, stderr.String())
	}
	var toks []string
	if err := json.Unmarshal(out, &toks); err != nil || len(toks) != len(reqs) {
		t.Fatalf("node sign.mjs: %d tokens for %d requests (%v)", len(toks), len(reqs), err)
	}
	return toks
}

func unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg + ": CI is set, so the jsonwebtoken test fails instead of skipping")
	}
	t.Skip(msg + ": the jsonwebtoken test is skipped")
}
