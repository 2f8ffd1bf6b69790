// Command loadtest drives a running gatekeep example server on loopback
// with closed-loop, keep-alive traffic (package load) and prints
// requests/s, exact p50/p99/p99.9 and errors for each scenario:
//
//   - quiet: GET /me at -conns connections with the access tokens of
//     -users users, registered through POST /auth/register first;
//   - flood: the same while -flood connections post wrong passwords to
//     POST /auth/login for those users (credential spraying), each from
//     a random X-Forwarded-For address in 127.0.0.0/8, so that the
//     per-account and per-IP limits rarely trigger; the server must
//     trust the loopback proxy (TRUSTED_PROXIES=127.0.0.1/32);
//   - refresh: POST /auth/refresh at -conns connections, each rotating
//     the refresh tokens of users of its own.
//
// Usage (the server in another shell; see bench/README.md):
//
//	TRUSTED_PROXIES=127.0.0.1/32 ADDR=127.0.0.1:18080 go run ./examples/nethttp
//	cd bench && go run ./cmd/loadtest -url http://127.0.0.1:18080
//
// Only loopback targets are accepted.
package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gatekeep/gatekeep/bench/load"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("loadtest: ")
	var (
		base     = flag.String("url", "http://127.0.0.1:18080", "the server's base URL (loopback only)")
		users    = flag.Int("users", 1000, "users to register and send tokens of")
		conns    = flag.Int("conns", 64, "connections of GET /me (and of the refresh scenario)")
		flood    = flag.Int("flood", 16, "connections posting wrong passwords in the flood scenario")
		duration = flag.Duration("duration", 20*time.Second, "length of each scenario")
		run      = flag.String("run", "quiet,flood,refresh", "scenarios to run, comma-separated, in this order")
		label    = flag.String("label", "", "a label printed before each result line (the store, say)")
	)
	flag.Parse()
	if err := checkLoopback(*base); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	u, err := register(ctx, *base, *users)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("# %s: %d users registered; scenarios of %s each\n", *base, len(u.access), *duration)
	var quiet *load.Result
	for _, name := range strings.Split(*run, ",") {
		var res []*load.Result
		switch strings.TrimSpace(name) {
		case "quiet":
			res = load.Run(ctx, *duration, me(*base, u, *conns, "quiet GET /me"))
			quiet = res[0]
		case "flood":
			res = load.Run(ctx, *duration, me(*base, u, *conns, "flood GET /me"), spray(*base, u, *flood))
		case "refresh":
			res = load.Run(ctx, *duration, refresh(*base, u, *conns))
		default:
			log.Fatalf("unknown scenario %q (want quiet, flood or refresh)", name)
		}
		for _, r := range res {
			fmt.Println(*label, r)
		}
		if name == "flood" && quiet != nil && quiet.Percentile(99) > 0 {
			p99 := res[0].Percentile(99)
			fmt.Printf("%s flood/quiet: GET /me p99 %.2f×, req/s %.0f%%\n", *label,
				float64(p99)/float64(quiet.Percentile(99)), 100*res[0].Rate()/quiet.Rate())
		}
	}
}

// checkLoopback refuses any target but a loopback address.
func checkLoopback(base string) error {
	pu, err := url.Parse(base)
	if err != nil || pu.Scheme != "http" {
		return fmt.Errorf("-url: want http://<loopback address>:<port>, got %q", base)
	}
	// An address, not a name: a name may resolve anywhere.
	if ip := net.ParseIP(pu.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url: %q is not a loopback address (127.0.0.0/8 or ::1)", pu.Hostname())
	}
	return nil
}

// users holds what registration returned, one index per user.
type users struct {
	names   []string
	access  []string
	mu      []sync.Mutex // refresh[i] is rotated under mu[i]
	refresh []string
}

type tokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// xff is a random source address in 127.0.0.0/8 other than 127.0.0.1
// (the trusted proxy itself).
func xff() string {
	for {
		b := rand.Uint32()
		if a := fmt.Sprintf("127.%d.%d.%d", byte(b>>16), byte(b>>8), byte(b)); a != "127.0.0.1" {
			return a
		}
	}
}

// register creates n users through POST /auth/register, a few at a time
// (each costs a password hash), retrying 429 and 503 answers.
func register(ctx context.Context, base string, n int) (*users, error) {
	var tag [4]byte
	_, _ = crand.Read(tag[:])
	run := hex.EncodeToString(tag[:])
	password := "load-test password " + run
	u := &users{names: make([]string, n), access: make([]string, n), refresh: make([]string, n), mu: make([]sync.Mutex, n)}
	next := make(chan int)
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := load.NewClient()
			for i := range next {
				u.names[i] = fmt.Sprintf("lt-%s-%04d", run, i)
				body, _ := json.Marshal(map[string]string{"username": u.names[i], "password": password})
				var pair tokenPair
				for attempt := 0; ; attempt++ {
					st, err := post(ctx, c, base+"/auth/register", body, &pair)
					if err == nil && st == http.StatusCreated {
						break
					}
					if attempt == 20 || (err == nil && st != http.StatusTooManyRequests && st != http.StatusServiceUnavailable) {
						errc <- fmt.Errorf("register %s: status %d, %v", u.names[i], st, err)
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
				u.access[i], u.refresh[i] = pair.AccessToken, pair.RefreshToken
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case err = <-errc:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return u, err
}

// post sends body as JSON from a random loopback source address and
// decodes a 2xx answer into out (when not nil).
func post(ctx context.Context, c *http.Client, u string, body []byte, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", xff())
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, err
		}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// me is GET /me at conns connections, each cycling through users of its
// own (worker w sends the tokens of users w, w+conns, ...).
func me(base string, u *users, conns int, name string) load.Scenario {
	seq := make([]int, conns)
	return load.Scenario{
		Name: name, Conns: conns, OK: load.Status(http.StatusOK),
		Do: func(ctx context.Context, c *http.Client, w int) (int, error) {
			i := (w + seq[w]*conns) % len(u.access)
			if seq[w]++; w+seq[w]*conns >= len(u.access) {
				seq[w] = 0
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/me", nil)
			if err != nil {
				return 0, err
			}
			req.Header.Set("Authorization", "Bearer "+u.access[i])
			return load.Send(c, req)
		},
	}
}

// spray posts wrong passwords for random registered users, each request
// from a random source address: 401 (and 429 once a limit triggers, 503
// when the server sheds hashing) are the expected answers.
func spray(base string, u *users, conns int) load.Scenario {
	return load.Scenario{
		Name: "flood POST /auth/login", Conns: conns,
		OK: load.Status(http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusServiceUnavailable),
		Do: func(ctx context.Context, c *http.Client, _ int) (int, error) {
			body, _ := json.Marshal(map[string]string{"username": u.names[rand.IntN(len(u.names))], "password": "wrong password " + xff()})
			return post(ctx, c, base+"/auth/login", body, nil)
		},
	}
}

// refresh rotates refresh tokens at conns connections; worker w owns
// users w, w+conns, ... so that no token is ever presented twice.
func refresh(base string, u *users, conns int) load.Scenario {
	seq := make([]int, conns)
	return load.Scenario{
		Name: "refresh POST /auth/refresh", Conns: conns, OK: load.Status(http.StatusOK),
		Do: func(ctx context.Context, c *http.Client, w int) (int, error) {
			if w >= len(u.refresh) {
				return 0, errors.New("more connections than users")
			}
			i := w + seq[w]*conns
			if seq[w]++; w+seq[w]*conns >= len(u.refresh) {
				seq[w] = 0
			}
			u.mu[i].Lock()
			defer u.mu[i].Unlock()
			body, _ := json.Marshal(map[string]string{"refresh_token": u.refresh[i]})
			var pair tokenPair
			st, err := post(ctx, c, base+"/auth/refresh", body, &pair)
			if err == nil && st == http.StatusOK {
				u.refresh[i] = pair.RefreshToken
			}
			return st, err
		},
	}
}
