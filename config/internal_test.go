package config

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// The known variables are every name FromLookup asks for; each variable
// read in env.go (p.str("NAME"), p.get("NAME"), ...) must be asked for
// whatever the environment holds, or a set variable would be warned
// about as unknown.
func TestKnownVarsAreEveryVariableRead(t *testing.T) {
	src, err := os.ReadFile("env.go")
	if err != nil {
		t.Fatal(err)
	}
	known := knownVars()
	var read []string
	for _, m := range regexp.MustCompile(`p\.[a-zA-Z]+\("([A-Z][A-Z0-9_]+)"`).FindAllStringSubmatch(string(src), -1) {
		read = append(read, m[1])
	}
	if len(read) < 20 {
		t.Fatalf("found %d variables in env.go; has its parser changed shape?", len(read))
	}
	for _, name := range read {
		if !known[name] {
			t.Errorf("%s is read in env.go but not asked for over an empty environment: read it unconditionally", name)
		}
	}
	for _, name := range []string{"JWT_SECRET", "JWT_SECRET_KEY", "AUTH_STORE", "REDIS_PREFIX", "ACCESS_TTL"} {
		if !known[name] {
			t.Errorf("%s is not known", name)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"A", "", 1}, {"", "AB", 2},
		{"JWT_SECERT", "JWT_SECRET", 1}, // a swap is one edit
		{"AUTH_STOR", "AUTH_STORE", 1},
		{"ACCES_TTL", "ACCESS_TTL", 1},
		{"JWT_SECRT", "JWT_SECRET", 1},
		{"JWT_SCERET", "JWT_SECRET", 1},
		{"JWT_SEKRT", "JWT_SECRET", 2},
		{"KITTEN", "SITTING", 3},
		{"CA", "ABC", 3}, // optimal string alignment, not Damerau's unrestricted distance
	} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := editDistance(c.b, c.a); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.b, c.a, got, c.want)
		}
	}
}

func TestRedisAddrs(t *testing.T) {
	for _, c := range []struct {
		url  string
		want []string
	}{
		{"redis://:p@w@10.0.0.5:6380/2", []string{"10.0.0.5:6380"}},
		{"rediss://redis.example.com", []string{"redis.example.com:6379"}},
		{"10.0.0.1:7000, 10.0.0.2:7000", []string{"10.0.0.1:7000", "10.0.0.2:7000"}},
		{"redis://u:p@h1:1,h2:2", []string{"h1:1", "h2:2"}},
		{"redis+sentinel://:p@10.0.0.1,10.0.0.2:26380/mymaster/0?sentinel_password=x", []string{"10.0.0.1:26379", "10.0.0.2:26380"}},
		{"redis://[::1]:6379/0", []string{"[::1]:6379"}},
	} {
		got := redisAddrs(c.url)
		if !slices.Equal(got, c.want) {
			t.Errorf("redisAddrs(%q) = %q, want %q", c.url, got, c.want)
		}
	}
}
