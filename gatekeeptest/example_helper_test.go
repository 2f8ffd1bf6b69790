package gatekeeptest_test

import "testing"

// exampleT stands in, in this package's Examples (which have no
// *testing.T), for the *testing.T of a test function: in your tests, pass
// t. It implements only what the kit calls; a failure panics, which fails
// the example.
type exampleT struct{ testing.TB }

func (exampleT) Helper()                           {}
func (exampleT) Cleanup(func())                    {}
func (exampleT) Fatalf(format string, args ...any) { panic(format) }
func (exampleT) Fatal(args ...any)                 { panic("fatal") }

// t is what the Examples pass where a test passes its *testing.T.
var t testing.TB = exampleT{}
