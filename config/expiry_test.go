package config_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
)

// expiryRows are JWT_EXPIRY values and the access-token lifetime each
// gives, 0 for a value refused at start.
var expiryRows = []struct {
	in   string
	want time.Duration
}{
	{"100", 100 * time.Second}, // a bare number is seconds
	{"900", 15 * time.Minute},
	{"007", 7 * time.Second},
	{"86400", 24 * time.Hour},
	{"90s", 90 * time.Second},
	{"15m", 15 * time.Minute},
	{"1h", time.Hour},
	{"1H", time.Hour},
	{"1d", 24 * time.Hour},
	{"1.5h", 90 * time.Minute},
	{"1.1h", 66 * time.Minute}, // exact: a float would say 3959.999…s
	{".5h", 30 * time.Minute},
	{"0.5d", 12 * time.Hour},
	{"1 h", time.Hour},
	{"1   h", time.Hour}, // ms takes any number of spaces
	{"10 minutes", 10 * time.Minute},
	{"10 Minutes", 10 * time.Minute},
	{"1 minute", time.Minute},
	{"5 mins", 5 * time.Minute},
	{"5min", 5 * time.Minute},
	{"1 hour", time.Hour},
	{"2 hours", 2 * time.Hour},
	{"3 hrs", 3 * time.Hour},
	{"1hr", time.Hour},
	{"45 secs", 45 * time.Second},
	{"1sec", time.Second},
	{"30 seconds", 30 * time.Second},
	{"1 second", time.Second},
	{"1 day", 24 * time.Hour},
	{"1 DAY", 24 * time.Hour},
	{"1440m", 24 * time.Hour},
	{"1500ms", time.Second},        // cut to whole seconds, as jsonwebtoken does
	{"1.5s", time.Second},          // likewise
	{"86400999ms", 24 * time.Hour}, // likewise
	{"60000 msecs", time.Minute},
	{"60000 milliseconds", time.Minute},
	{"1000 millisecond", time.Second},
	{"2000msec", 2 * time.Second},

	// Refused: above the ceiling, below a second, or no span at all.
	{"86401", 0},
	{"25h", 0},
	{"7d", 0},
	{"2 days", 0},
	{"1w", 0},
	{"1 week", 0},
	{"1y", 0},
	{"2 yrs", 0},
	{"1441m", 0},
	{"24.0001h", 24 * time.Hour}, // 86400.36s, cut to 86400s
	{"24.001h", 0},
	{"0", 0},
	{"0s", 0},
	{"999ms", 0},
	{"-1h", 0},
	{"-5", 0},
	{"1.5", 0}, // jsonwebtoken takes whole numbers of seconds only
	{"1.", 0},
	{"1..5h", 0},
	{"h", 0},
	{"1e3", 0},
	{"0x10", 0},
	{"1\th", 0},
	{"1hh", 0},
	{"1 fortnight", 0},
	{"1h30m", 0},                        // a Go duration, not an ms span: ACCESS_TTL takes it
	{strings.Repeat("0", 99) + "1h", 0}, // ms reads at most 100 characters
	{strings.Repeat("9", 30) + "ms", 0},
}

func TestJWTExpiryForms(t *testing.T) {
	for _, row := range expiryRows {
		t.Run(row.in, func(t *testing.T) {
			c, err := config.FromLookup(lookup(map[string]string{"JWT_EXPIRY": row.in}))
			if row.want == 0 {
				require.Error(t, err)
				assert.ErrorIs(t, err, config.ErrInvalid)
				// The same one line for every refusal, naming the ceiling.
				assert.True(t, strings.HasPrefix(err.Error(), `config: JWT_EXPIRY: want seconds (such as 900) or a span as jsonwebtoken's expiresIn takes it`), err.Error())
				assert.Contains(t, err.Error(), "from 1s to 24h")
				assert.NotContains(t, err.Error(), "\n")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, row.want, c.AccessTTL)
		})
	}
}

// The same table against the real jsonwebtoken (npm), which computes exp
// from expiresIn with the real ms: a bare number is passed as a number
// of seconds (as Node code passes a parsed JWT_EXPIRY), anything else as
// the string. Every value gatekeep takes gives the lifetime jsonwebtoken
// gives; every value it refuses, jsonwebtoken refuses or gives a lifetime
// outside 1s to 24h.
func TestJWTExpiryMatchesJsonwebtoken(t *testing.T) {
	dir := jsonwebtokenDir(t)
	var inputs []string
	for _, row := range expiryRows {
		inputs = append(inputs, row.in)
	}
	in, _ := json.Marshal(inputs)
	const script = `
const jwt = require('jsonwebtoken');
const inputs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const iat = 1767323045;
const out = inputs.map((s) => {
  const v = /^[0-9]+$/.test(s) ? Number(s) : s;
  try {
    const tok = jwt.sign({ iat }, 'k'.repeat(32), { expiresIn: v });
    return jwt.decode(tok).exp - iat;
  } catch (e) {
    return null;
  }
});
process.stdout.write(JSON.stringify(out));
`
	cmd := exec.Command("node", "-e", script)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var lifetimes []*float64
	require.NoError(t, json.Unmarshal(got, &lifetimes))
	require.Len(t, lifetimes, len(expiryRows))
	for i, row := range expiryRows {
		node := lifetimes[i]
		c, err := config.FromLookup(lookup(map[string]string{"JWT_EXPIRY": row.in}))
		if err == nil {
			if assert.NotNil(t, node, "%q: gatekeep takes it, jsonwebtoken refuses it", row.in) {
				assert.Equal(t, *node, float64(c.AccessTTL/time.Second), "%q: lifetime", row.in)
			}
			continue
		}
		if node != nil {
			assert.True(t, *node < 1 || *node > 86400, "%q: jsonwebtoken gives %vs, which gatekeep refuses", row.in, *node)
		}
	}
}

// jsonwebtokenDir returns a folder whose node_modules holds jsonwebtoken
// 9 (GATEKEEP_NODE_MODULES, a folder holding node_modules, or one npm
// installs into a temporary folder). Without node or npm the test skips,
// and fails under CI.
func jsonwebtokenDir(t *testing.T) string {
	t.Helper()
	skip := func(why string) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatal(why + " (CI is set: the real-jsonwebtoken comparison must run)")
		}
		t.Skip(why)
	}
	if _, err := exec.LookPath("node"); err != nil {
		skip("node is not on PATH: skipping the comparison with the real jsonwebtoken")
	}
	if d := os.Getenv("GATEKEEP_NODE_MODULES"); d != "" {
		return d
	}
	if _, err := exec.LookPath("npm"); err != nil {
		skip("npm is not on PATH: skipping the comparison with the real jsonwebtoken")
	}
	dir := t.TempDir()
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", dir, "jsonwebtoken@9.0.3")
	if out, err := cmd.CombinedOutput(); err != nil {
		skip("npm install jsonwebtoken@9.0.3 failed: " + strings.TrimSpace(string(out)))
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ms")); err != nil {
		t.Fatalf("jsonwebtoken installed without ms: %v", err)
	}
	return dir
}

// JWT_SECRET_KEY, as some express guides name it, is JWT_SECRET when that
// is unset, with a note naming both and never the value.
func TestJWTSecretKeyAlias(t *testing.T) {
	const other = "another-secret-of-32-bytes-Zq9s3cr3t"
	c, err := config.FromLookup(lookup(map[string]string{"JWT_SECRET_KEY": " " + secret32 + " "}))
	require.NoError(t, err)
	assert.Equal(t, config.Secret(" "+secret32+" "), c.JWTSecret, "used as written, as JWT_SECRET is")
	require.Len(t, c.Notes(), 1)
	assert.Contains(t, c.Notes()[0], "JWT_SECRET_KEY is read as JWT_SECRET")

	var logged bytes.Buffer
	st, err := config.Build(t.Context(), c, config.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	assert.Contains(t, logged.String(), "level=INFO msg=\"config: JWT_SECRET_KEY is read as JWT_SECRET")
	assert.NotContains(t, logged.String(), "JWT_SECRET is unset: signing with a key generated", "the alias's key is used")
	assert.NotContains(t, logged.String(), secret32[:16])

	c, err = config.FromLookup(lookup(map[string]string{"JWT_SECRET": secret32, "JWT_SECRET_KEY": other}))
	require.NoError(t, err)
	assert.Equal(t, config.Secret(secret32), c.JWTSecret, "JWT_SECRET wins")
	require.Len(t, c.Notes(), 1)
	assert.Contains(t, c.Notes()[0], "JWT_SECRET_KEY is ignored")

	_, err = config.FromLookup(lookup(map[string]string{"JWT_SECRET_KEY": "short-Zq9s3cr3t"}))
	require.ErrorIs(t, err, config.ErrInvalid)
	assert.Equal(t, "config: JWT_SECRET_KEY (read as JWT_SECRET): want at least 32 bytes for HS256 (used as raw bytes)", err.Error())
}
