package postgres_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatekeep/gatekeep/internal/pgtest"
	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/store/postgres"
)

// pgServer is a PostgreSQL the test starts with initdb/pg_ctl on a free
// loopback port. initdb and postgres refuse to run as root: as root the
// test runs them as the postgres OS user (runuser), which must exist.
type pgServer struct {
	t          *testing.T
	bin, dir   string
	port       int
	asPostgres bool
}

func startPG(t *testing.T) *pgServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		pgtest.Unavailable(t, "no initdb under /usr/lib/postgresql/*/bin (install postgresql) to start a PostgreSQL of the test's own")
	}
	s := &pgServer{t: t, bin: filepath.Dir(bins[len(bins)-1]), asPostgres: os.Getuid() == 0}
	dir, err := os.MkdirTemp("", "gatekeep-pgtest-")
	must(t, err)
	s.dir = dir
	t.Cleanup(func() { s.stop(); _ = os.RemoveAll(dir) })
	if s.asPostgres {
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			pgtest.Unavailable(t, "running as root needs a postgres OS user for initdb: "+strings.TrimSpace(string(out)))
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	s.port = l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s.run("initdb", "-D", s.data(), "-U", "postgres", "-A", "trust")
	s.start()
	return s
}

func (s *pgServer) data() string { return filepath.Join(s.dir, "data") }

func (s *pgServer) run(prog string, args ...string) {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(s.bin, prog), args...)
	if s.asPostgres {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(s.bin, prog)}, args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("%s: %v\n%s", prog, err, out)
	}
}

func (s *pgServer) start() {
	s.t.Helper()
	s.run("pg_ctl", "-D", s.data(), "-l", filepath.Join(s.dir, "log"), "-w", "-o",
		fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s", s.port, s.dir), "start")
}

func (s *pgServer) stop() {
	cmd := exec.Command(filepath.Join(s.bin, "pg_ctl"), "-D", s.data(), "-m", "immediate", "stop")
	if s.asPostgres {
		cmd = exec.Command("runuser", "-u", "postgres", "--", filepath.Join(s.bin, "pg_ctl"), "-D", s.data(), "-m", "immediate", "stop")
	}
	_ = cmd.Run()
}

// kill SIGKILLs the postmaster and every backend it started.
func (s *pgServer) kill() {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.data(), "postmaster.pid"))
	must(s.t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	must(s.t, err)
	kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	must(s.t, syscall.Kill(pid, syscall.SIGKILL))
	for _, k := range strings.Fields(string(kids)) {
		if n, err := strconv.Atoi(k); err == nil {
			_ = syscall.Kill(n, syscall.SIGKILL)
		}
	}
	// Wait for the postmaster to be gone, so the restart can bind the port.
	for range 200 {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *pgServer) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// TestPostgresKilledAndRestarted: a PostgreSQL is SIGKILLed under a
// stream of writes. Calls fail with ErrUnavailable (never a pass), and
// after a restart on the same port and directory every acknowledged write
// is there, served by the same Store.
func TestPostgresKilledAndRestarted(t *testing.T) {
	srv := startPG(t)
	pool, err := pgxpool.New(t.Context(), srv.url())
	must(t, err)
	t.Cleanup(pool.Close)
	s, err := postgres.New(pool, postgres.WithTimeout(300*time.Millisecond))
	must(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	hour := time.Now().Add(time.Hour)
	eventually(t, 5*time.Second, s.ViewTrusted, "view never trusted")

	// A stream of writes; each acknowledged one is remembered.
	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%d", w, i)
				if s.Revoke(ctx, id, hour) == nil && s.CreateUser(ctx, &store.User{ID: id, Username: id}) == nil {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	srv.kill()
	time.Sleep(200 * time.Millisecond)
	// Down: a revoked token stays revoked or unanswerable, never valid.
	mu.Lock()
	someAcked := len(acked)
	first := ""
	if someAcked > 0 {
		first = acked[0]
	}
	mu.Unlock()
	if someAcked == 0 {
		t.Fatal("no write was acknowledged before the kill")
	}
	eventually(t, 3*time.Second, func() bool { return !s.ViewTrusted() }, "view still trusted with the database dead")
	if r, err := s.IsRevoked(ctx, store.Check{TokenID: first}); err == nil && !r {
		t.Error("a revoked token passed while the database was down")
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping with the database dead: %v, want ErrUnavailable", err)
	}

	srv.start()
	eventually(t, 10*time.Second, func() bool { return s.Ping(ctx) == nil }, "the same Store never reached the restarted database")
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	for _, id := range acked {
		if _, err := s.User(ctx, id); err != nil {
			t.Fatalf("acknowledged user %s lost: %v", id, err)
		}
		if !isRevoked(t, s, store.Check{TokenID: id}) {
			t.Fatalf("acknowledged revocation %s lost", id)
		}
	}
	t.Logf("%d acknowledged writes, all there after the restart", len(acked))
	eventually(t, 10*time.Second, s.ViewTrusted, "the view never trusted again after the restart")
	falls := s.Fallbacks()
	if !isRevoked(t, s, store.Check{TokenID: first}) || s.Fallbacks() != falls {
		t.Error("the rebuilt view lost a revocation, or still asks the database")
	}
}
