package config

import (
	"context"
	"log/slog"
)

// A note is a start-up remark found while reading the variables (a
// variable read under another name, a store chosen by its variable, a
// variable that looks like a misspelt one of ours). It holds names, never
// a value. [Build] logs each one.
type note struct {
	level slog.Level
	msg   string
}

func (c *Config) note(level slog.Level, msg string) {
	c.notes = append(c.notes, note{level, msg})
}

// Notes returns the start-up remarks [FromEnv] or [FromLookup] made while
// reading the variables, one line each, in order: a variable read under
// another name (JWT_SECRET_KEY as JWT_SECRET), the store a store variable
// selected, an unknown variable that looks like one of gatekeep's. [Build]
// logs them (warnings at Warn, the rest at Info); a program that does not
// call Build may print them. They hold variable names, never values.
func (c *Config) Notes() []string {
	out := make([]string, len(c.notes))
	for i, n := range c.notes {
		out[i] = n.msg
	}
	return out
}

func (c *Config) logNotes(ctx context.Context, log *slog.Logger) {
	for _, n := range c.notes {
		log.Log(ctx, n.level, n.msg)
	}
}
