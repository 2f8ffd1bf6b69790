// Package redact is gatekeep's one redaction type: a string that never
// prints, whatever prints it. config exports it as config.Secret; auth
// decodes passwords and tokens from request bodies into it.
package redact

import (
	"fmt"
	"log/slog"
)

// Secret is a string that never prints: fmt (every verb), log/slog and
// encoding/json show "[REDACTED]" (or "" when it is empty). It still
// decodes from JSON as a plain string. Convert it with string(s) where the
// value itself is needed.
type Secret string

// Redacted is what a non-empty Secret prints as.
const Redacted = "[REDACTED]"

func (s Secret) shown() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// String returns "[REDACTED]", or "" for an empty secret.
func (s Secret) String() string { return s.shown() }

// GoString returns the same as String, quoted, for %#v.
func (s Secret) GoString() string { return `"` + s.shown() + `"` }

// Format writes String whatever the verb, so %x or %q cannot leak it.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.shown())) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.shown()) }

// MarshalText implements encoding.TextMarshaler, for encoding/json and
// friends.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }
