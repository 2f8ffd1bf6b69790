package config

import (
	"errors"
	"strconv"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every error about a configuration
// value: a variable that does not parse or is out of range, a bad line in a
// .env file, a key file that cannot be used, a store that cannot be opened.
var ErrInvalid = errors.New("config: invalid configuration")

// VarError is the error for one variable: its name, what was expected and,
// for variables that are not secret, the value found. It matches
// [ErrInvalid] with errors.Is, and the cause (if any) through Unwrap: an
// unreachable Redis also matches store.ErrUnavailable.
//
// Its text is one line, such as
//
//	config: JWT_LEEWAY: want a Go duration of at most 5m, got "10m"
//
// and never holds the value of JWT_SECRET, ADMIN_PASSWORD, REDIS_URL or
// DATABASE_URL (which may carry a password).
type VarError struct {
	// Var is the environment variable's name, such as "JWT_LEEWAY".
	Var string
	// Want says what a good value looks like.
	Want string
	// Got is the offending value, or "" when it is secret or beside the
	// point.
	Got string
	// Err is the underlying cause, if any.
	Err error
}

// Error implements error.
func (e *VarError) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	b.WriteString(e.Var)
	b.WriteString(": want ")
	b.WriteString(e.Want)
	if e.Got != "" {
		b.WriteString(", got ")
		b.WriteString(strconv.Quote(clip(e.Got)))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return oneLine(b.String())
}

// Is reports whether target is ErrInvalid.
func (e *VarError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the cause.
func (e *VarError) Unwrap() error { return e.Err }

// LineError is the error for a bad line of a .env file. It names the line
// and what is wrong with it, never its value (which may be a secret), and
// matches [ErrInvalid].
type LineError struct {
	// File is the file's name as given, ".env" by default.
	File string
	// Line counts from 1.
	Line int
	// Why says what is wrong.
	Why string
}

// Error implements error.
func (e *LineError) Error() string {
	return oneLine("config: " + e.File + " line " + strconv.Itoa(e.Line) + ": " + e.Why)
}

// Is reports whether target is ErrInvalid.
func (e *LineError) Is(target error) bool { return target == ErrInvalid }

func varErr(name, want, got string) error { return &VarError{Var: name, Want: want, Got: got} }

// clip bounds a value quoted into an error.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// oneLine keeps an error message on one line whatever a cause says: its
// lines are joined with one space, their indentation dropped, and a line
// that repeats the one before it (pgx reports each connection attempt,
// the same twice under sslmode=prefer) is dropped.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var b strings.Builder
	prev := ""
	for i, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.TrimSpace(line)
		if line == "" || i > 0 && line == prev {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(line)
		prev = line
	}
	return b.String()
}
