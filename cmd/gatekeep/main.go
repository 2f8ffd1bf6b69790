// Command gatekeep is a local tool for gatekeep's keys, passwords, tokens,
// users and configuration. It reads the same environment variables (and
// .env file in the working directory) as a gatekeep server, through package
// config, and never sends a token or a secret anywhere.
//
// Usage:
//
//	gatekeep keygen [-alg HS256|RS256|ES256|EdDSA|...] [-out DIR] [-kek] [-json]
//	gatekeep hash [-verify HASH] [-json]          password on stdin or a prompt
//	gatekeep token inspect [-key FILE | -jwks FILE|URL] [-kind K] [-json] [TOKEN|-]
//	gatekeep token sign -sub ID [-kind access] [-roles a,b] [-ttl 15m] [-claim k=v]... [-json]
//	gatekeep users list|create|set-roles|delete|revoke-sessions ...
//	gatekeep sessions list USER
//	gatekeep config check [-json]
//
// Every command takes -h. The exit status is 0 on success, 1 on a failure
// (a bad configuration, a token that does not verify, a store that cannot
// answer) and 2 on a usage error. Output is for people by default; -json
// gives one JSON document on stdout for scripts.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/gatekeep/gatekeep/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := &cli{ctx: ctx, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, env: os.Getenv}
	os.Exit(c.run(os.Args[1:]))
}

// run runs one gatekeep command line and returns its exit status. It is
// main without the process: tests call it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	c := &cli{ctx: context.Background(), stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	return c.run(args)
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// cli is one invocation's world: its streams, environment and clock.
type cli struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	env            func(string) string
	// now is the clock (time.Now when nil); tests fix it.
	now func() time.Time
	// buildOpts are added to config.Build (tests give a Redis key prefix).
	buildOpts []config.BuildOption
	// dotEnv is the .env file read beside env; config.DotEnvFile when "".
	dotEnv string
}

func (c *cli) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct {
	msg     string
	printed bool // the flag package printed it already, with the usage
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// errReported is a failure whose explanation has been printed already.
var errReported = errors.New("gatekeep: failed")

const topUsage = `gatekeep: a local tool for gatekeep's keys, passwords, tokens and users.

Usage: gatekeep <command> [flags] [arguments]

Commands:
  keygen            a JWT_SECRET, a key pair as PEM files, or (-kek) a JWT_KEY_ENCRYPTION_KEY
  hash              hash a password (stdin or prompt) with PASSWORD_HASH's hasher; -verify HASH
  token inspect     decode a token and, with a key, verify it as the middleware does
  token sign        sign a token with the configured key (tests, local development)
  users             list, create, set-roles, delete, revoke-sessions
  sessions list     a user's live sessions
  keys              list the rotated signing keys, or rotate now
  config check      load the configuration as a server does and print it, secrets redacted

It reads the environment and the .env file of the working directory, as a
gatekeep server does. Run "gatekeep <command> -h" for a command's flags.
Exit status: 0 success, 1 failure, 2 usage error.
`

// command is one (sub)command.
type command struct {
	name  string
	short string // the usage line after "gatekeep "
	run   func(c *cli, args []string) error
}

func (c *cli) commands() []command {
	return []command{
		{"keygen", "keygen [-alg ALG] [-out DIR] [-kek] [-json]", (*cli).keygen},
		{"hash", "hash [-verify HASH] [-json]", (*cli).hash},
		{"token", "token inspect|sign ...", (*cli).token},
		{"users", "users list|create|set-roles|delete|revoke-sessions ...", (*cli).users},
		{"sessions", "sessions list USER", (*cli).sessions},
		{"keys", "keys list|rotate", (*cli).keys},
		{"config", "config check [-json]", (*cli).config},
	}
}

func (c *cli) run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, topUsage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(c.stdout, topUsage)
		return exitOK
	}
	for _, cmd := range c.commands() {
		if cmd.name == args[0] {
			return c.status(cmd.run(c, args[1:]))
		}
	}
	fmt.Fprintf(c.stderr, "gatekeep: unknown command %q\n\n%s", args[0], topUsage)
	return exitUsage
}

// status prints err (unless already printed) and maps it to an exit status.
func (c *cli) status(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		if !ue.printed {
			fmt.Fprintln(c.stderr, "gatekeep:", ue.msg)
		}
		return exitUsage
	case errors.Is(err, errReported):
		return exitFailure
	}
	fmt.Fprintln(c.stderr, "gatekeep:", oneLine(err.Error()))
	return exitFailure
}

// flags returns a flag set for "gatekeep <usage>" whose -h prints usage and
// the flags to stdout, and whose errors go to stderr.
func (c *cli) flags(name, usage, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gatekeep %s\n\n%s\n", usage, about)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args with fs. -h prints the usage to stdout and ends the
// command with status 0; a bad flag has been printed by fs (with usage)
// and becomes exit status 2.
func (c *cli) parse(fs *flag.FlagSet, args []string) error {
	usage := fs.Usage
	fs.Usage = func() {} // printed below, on the stream that fits
	err := fs.Parse(args)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(c.stdout)
		usage()
		return flag.ErrHelp
	case err != nil:
		usage() // after the flag package's own line naming the mistake
		return &usageError{msg: oneLine(err.Error()), printed: true}
	}
	return nil
}

// subcommand dispatches "gatekeep <group> <sub> ...".
func (c *cli) subcommand(group string, args []string, subs map[string]func([]string) error, usage string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return usagef("%s: a subcommand is needed", group)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(c.stdout, usage)
		return flag.ErrHelp
	}
	f, ok := subs[args[0]]
	if !ok {
		fmt.Fprint(c.stderr, usage)
		return usagef("%s: unknown subcommand %q", group, args[0])
	}
	return f(args[1:])
}

// loadConfig reads the configuration as a server does: the environment,
// then .env in the working directory.
func (c *cli) loadConfig() (config.Config, error) {
	dotEnv := c.dotEnv
	if dotEnv == "" {
		dotEnv = config.DotEnvFile
	}
	return config.FromEnvFunc(c.env, dotEnv)
}

// writeJSON writes v as indented JSON on stdout.
func (c *cli) writeJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// noArgs refuses positional arguments a command does not take.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}
