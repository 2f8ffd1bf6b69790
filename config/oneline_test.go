package config_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gatekeep/gatekeep/config"
)

// A cause over several indented lines, as pgx reports its connection
// attempts (the same one twice under sslmode=prefer), reads as one plain
// line, each attempt once.
func TestVarErrorCauseOneLine(t *testing.T) {
	cause := errors.New("failed to connect to `user=gk database=app`:\n\t127.0.0.1:1 (127.0.0.1): dial error: connect: connection refused\n\t127.0.0.1:1 (127.0.0.1): dial error: connect: connection refused")
	e := &config.VarError{Var: "DATABASE_URL", Want: "a PostgreSQL that answers at start", Err: cause}
	assert.Equal(t, "config: DATABASE_URL: want a PostgreSQL that answers at start: failed to connect to `user=gk database=app`: 127.0.0.1:1 (127.0.0.1): dial error: connect: connection refused", e.Error())
	e.Err = errors.New("first\r\nsecond\n\nthird")
	assert.Equal(t, "config: DATABASE_URL: want a PostgreSQL that answers at start: first second third", e.Error())
	assert.Equal(t, "config: .env line 2: bad", (&config.LineError{File: ".env", Line: 2, Why: "bad"}).Error())
}
