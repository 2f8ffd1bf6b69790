package main

import (
	"testing"

	"github.com/gatekeep/gatekeep/examples/internal/e2e"
)

// A verify-only service beside an issuer, on Redis and PostgreSQL.
func TestResource(t *testing.T) { e2e.RunResource(t, newHandler) }
