package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/gatekeep/gatekeep/auth"
	"github.com/gatekeep/gatekeep/config"
)

type hashResult struct {
	Hash        string `json:"hash,omitempty"`
	Match       *bool  `json:"match,omitempty"`
	NeedsRehash bool   `json:"needs_rehash,omitempty"`
	Hasher      string `json:"hasher"`
}

func (c *cli) hash(args []string) error {
	fs := c.flags("hash", "hash [-verify HASH] [-json]",
		`Hashes a password with the hasher PASSWORD_HASH selects (argon2id by default,
or bcrypt), as the server stores it. The password is read from a terminal
prompt without echo (asked twice), or else from the first line of stdin;
never from an argument, which would land in the shell's history and in the
process list:

  gatekeep hash < password.txt

-verify HASH checks the password against a stored hash (quote it: it holds $):
exit status 0 when it matches, 1 when it does not.`)
	verify := fs.String("verify", "", "a stored hash (argon2id PHC string or bcrypt) to check the password against")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	h, err := config.NewHasher(cfg.PasswordHash)
	if err != nil {
		return err
	}
	res := hashResult{Hasher: string(cfg.PasswordHash)}
	if *verify != "" {
		pw, err := c.readPassword(false)
		if err != nil {
			return err
		}
		ok, rehash, err := h.Verify(pw, *verify)
		if err != nil {
			// The hasher's errors never hold the password or the hash.
			return fmt.Errorf("hash -verify: %w", err)
		}
		res.Match, res.NeedsRehash = &ok, rehash
		if *asJSON {
			if err := c.writeJSON(res); err != nil {
				return err
			}
		} else if ok {
			fmt.Fprintln(c.stdout, "match")
			if rehash {
				fmt.Fprintf(c.stdout, "the hash is not what PASSWORD_HASH=%s makes today: the server replaces it at the next login\n", cfg.PasswordHash)
			}
		} else {
			fmt.Fprintln(c.stdout, "no match")
		}
		if !ok {
			return errReported
		}
		return nil
	}
	pw, err := c.readPassword(true)
	if err != nil {
		return err
	}
	if err := checkNewPassword(pw); err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	if res.Hash, err = h.Hash(pw); err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	if *asJSON {
		return c.writeJSON(res)
	}
	fmt.Fprintln(c.stdout, res.Hash)
	return nil
}

// checkNewPassword applies the server's length rule for a password being
// set: 8 to 1024 bytes, used whole.
func checkNewPassword(pw string) error {
	switch {
	case len(pw) < auth.MinPasswordLen:
		return fmt.Errorf("%w: at least %d bytes", auth.ErrPasswordTooShort, auth.MinPasswordLen)
	case len(pw) > auth.MaxPasswordLen:
		return fmt.Errorf("%w: at most %d bytes", auth.ErrPasswordTooLong, auth.MaxPasswordLen)
	}
	return nil
}

var errNoPassword = errors.New("no password: type it at the prompt or give it as the first line of stdin")

// readPassword reads a password from a terminal without echo (twice when
// confirm is set), or else the first line of stdin (without its line end).
// It is never printed back.
func (c *cli) readPassword(confirm bool) (string, error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return c.promptPassword(int(f.Fd()), confirm)
	}
	br := bufio.NewReaderSize(c.stdin, auth.MaxPasswordLen+4)
	line, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", fmt.Errorf("%w: at most %d bytes", auth.ErrPasswordTooLong, auth.MaxPasswordLen)
	case err != nil && !errors.Is(err, io.EOF):
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if len(line) == 0 {
		return "", errNoPassword
	}
	return string(line), nil
}

// promptPassword asks on stderr, so that stdout keeps only the result.
func (c *cli) promptPassword(fd int, confirm bool) (string, error) {
	fmt.Fprint(c.stderr, "Password: ")
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if len(pw) == 0 {
		return "", errNoPassword
	}
	if confirm {
		fmt.Fprint(c.stderr, "Again: ")
		again, err := term.ReadPassword(fd)
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if !bytes.Equal(pw, again) {
			return "", errors.New("the two passwords differ")
		}
	}
	return string(pw), nil
}
