// Package devmail is the development mailer of gatekeep's example servers:
// an [auth.Notifier] that writes each password-reset message as one file
// in a folder (MAIL_DIR), or prints it to a writer (stdout) when no folder
// is set. It sends no mail: it is for development and tests only.
//
// # Usage
//
//	m, err := devmail.New(os.Getenv("MAIL_DIR"), os.Stdout)
//	if err != nil { ... }
//	a, err := auth.New(signer, verifier, st,
//		auth.WithPasswordReset(m, "http://localhost:8080/reset-password"))
//
// Each message is plain text with a header block; its "Token:" line holds
// the reset token alone, so a test finds it with [Token] (or grep):
//
//	To: alice <alice@example.com>
//	Subject: Reset your password
//	...
//	Link: http://localhost:8080/reset-password#token=eyJ...
//	Token: eyJ...
//	Expires: 2025-01-02T15:04:05Z
package devmail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gatekeep/gatekeep/auth"
)

// Mailer writes messages to files in a folder, or to a writer. It is safe
// for concurrent use.
type Mailer struct {
	dir string
	mu  sync.Mutex // serialises writes to w
	w   io.Writer
}

var _ auth.Notifier = (*Mailer)(nil)

// New returns a Mailer writing one file per message in dir (created, mode
// 0700, when missing), or, when dir is "", printing each message to w
// (os.Stdout when w is nil). Files are created with mode 0600 under unique
// names, `<UTC time>-reset-<random>.txt`, so a listing sorts by time.
func New(dir string, w io.Writer) (*Mailer, error) {
	if dir == "" {
		if w == nil {
			w = os.Stdout
		}
		return &Mailer{w: w}, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devmail: mail folder: %w", err)
	}
	return &Mailer{dir: dir}, nil
}

// Dir returns the folder messages are written to, "" when they are printed.
func (m *Mailer) Dir() string { return m.dir }

// NotifyPasswordReset implements [auth.Notifier].
func (m *Mailer) NotifyPasswordReset(ctx context.Context, n auth.PasswordReset) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	msg := Format(n)
	if m.dir == "" {
		m.mu.Lock()
		defer m.mu.Unlock()
		_, err := m.w.Write(msg)
		return err
	}
	// Written under a temporary name and renamed into place, so that a
	// reader polling the folder never sees half a message.
	prefix := time.Now().UTC().Format("20060102T150405.000000000Z") + "-reset-"
	f, err := os.CreateTemp(m.dir, prefix+"*.tmp") // 0600, unique name
	if err != nil {
		return fmt.Errorf("devmail: %w", err)
	}
	_, werr := f.Write(msg)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("devmail: %w", err)
	}
	if err := os.Rename(f.Name(), strings.TrimSuffix(f.Name(), ".tmp")+".txt"); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("devmail: %w", err)
	}
	return nil
}

// Format returns the text of the message for n.
func Format(n auth.PasswordReset) []byte {
	to := n.Username
	if n.Email != "" {
		to = fmt.Sprintf("%s <%s>", oneLine(n.Username), oneLine(n.Email))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "To: %s\n", oneLine(to))
	fmt.Fprintf(&b, "Subject: Reset your password\n")
	fmt.Fprintf(&b, "User-Id: %s\n", oneLine(n.UserID))
	fmt.Fprintf(&b, "\n")
	fmt.Fprintf(&b, "Someone asked to reset the password of %s.\n", oneLine(n.Username))
	fmt.Fprintf(&b, "If it was you, open the link below before it expires; otherwise ignore this message.\n\n")
	fmt.Fprintf(&b, "Link: %s\n", oneLine(n.Link))
	fmt.Fprintf(&b, "Token: %s\n", oneLine(n.Token))
	fmt.Fprintf(&b, "Expires: %s\n", n.ExpiresAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "-- \n\n")
	return b.Bytes()
}

// oneLine keeps a value from starting a line of its own (a username with a
// newline could otherwise forge a "Token:" line).
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// Token returns the reset token of a message [Format] wrote: the value of
// its first line starting "Token: ". ok is false when there is none.
func Token(message []byte) (tok string, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(message))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		if v, found := strings.CutPrefix(sc.Text(), "Token: "); found && v != "" {
			return v, true
		}
	}
	return "", false
}

// Messages returns the paths of the messages in dir, oldest first.
func Messages(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*-reset-*.txt"))
	if err != nil {
		return nil, err
	}
	// Glob sorts by name, which begins with the time written.
	return paths, nil
}

// LatestToken returns the reset token of the newest message in dir.
func LatestToken(dir string) (string, error) {
	paths, err := Messages(dir)
	if err != nil {
		return "", err
	}
	if len(paths) == 0 {
		return "", errors.New("devmail: no message in " + dir)
	}
	b, err := os.ReadFile(paths[len(paths)-1])
	if err != nil {
		return "", err
	}
	tok, ok := Token(b)
	if !ok {
		return "", errors.New("devmail: no token in " + paths[len(paths)-1])
	}
	return tok, nil
}
