package main

import (
	"testing"

	"github.com/gatekeep/gatekeep/examples/internal/e2e"
)

// The API of docs/http-api.md, row by row, on memory, bolt and Redis.
func TestE2E(t *testing.T) { e2e.Run(t, newHandler) }

// Bad configuration, serving and graceful shutdown.
func TestRun(t *testing.T) { e2e.RunMain(t, newHandler) }
