package auth

// testify cannot be used: its dependencies (go-spew, go-difflib, yaml.v3)
// have no go.sum entries, and go.mod/go.sum are not ours to change. This is
// the small subset of its API the tests use, with the same names, so the
// tests read the same and can switch back by changing imports.

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

type checker struct{ fatal bool }

var (
	require = checker{fatal: true}
	assert  = checker{}
)

func (c checker) fail(t testing.TB, msgAndArgs []any, format string, args ...any) bool {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if len(msgAndArgs) > 0 {
		msg += ": " + fmt.Sprint(msgAndArgs...)
	}
	if c.fatal {
		t.Fatal(msg)
	}
	t.Error(msg)
	return false
}

func (c checker) Equal(t testing.TB, want, got any, msgAndArgs ...any) bool {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		return c.fail(t, msgAndArgs, "not equal:\nwant %#v\n got %#v", want, got)
	}
	return true
}

func (c checker) NotEqual(t testing.TB, a, b any, msgAndArgs ...any) bool {
	t.Helper()
	if reflect.DeepEqual(a, b) {
		return c.fail(t, msgAndArgs, "should differ: %#v", a)
	}
	return true
}

// EqualValues compares after converting got to want's type.
func (c checker) EqualValues(t testing.TB, want, got any, msgAndArgs ...any) bool {
	t.Helper()
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	if gv.IsValid() && wv.IsValid() && gv.Type().ConvertibleTo(wv.Type()) {
		got = gv.Convert(wv.Type()).Interface()
	}
	return c.Equal(t, want, got, msgAndArgs...)
}

func (c checker) True(t testing.TB, v bool, msgAndArgs ...any) bool {
	t.Helper()
	if !v {
		return c.fail(t, msgAndArgs, "should be true")
	}
	return true
}

func (c checker) False(t testing.TB, v bool, msgAndArgs ...any) bool {
	t.Helper()
	if v {
		return c.fail(t, msgAndArgs, "should be false")
	}
	return true
}

func (c checker) NoError(t testing.TB, err error, msgAndArgs ...any) bool {
	t.Helper()
	if err != nil {
		return c.fail(t, msgAndArgs, "unexpected error: %v", err)
	}
	return true
}

func (c checker) Error(t testing.TB, err error, msgAndArgs ...any) bool {
	t.Helper()
	if err == nil {
		return c.fail(t, msgAndArgs, "an error was expected")
	}
	return true
}

func (c checker) ErrorIs(t testing.TB, err, target error, msgAndArgs ...any) bool {
	t.Helper()
	if !errors.Is(err, target) {
		return c.fail(t, msgAndArgs, "error %v does not match %v", err, target)
	}
	return true
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.String, reflect.Chan, reflect.Array:
		return rv.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	return rv.IsZero()
}

func (c checker) Empty(t testing.TB, v any, msgAndArgs ...any) bool {
	t.Helper()
	if !isEmpty(v) {
		return c.fail(t, msgAndArgs, "should be empty: %#v", v)
	}
	return true
}

func (c checker) NotEmpty(t testing.TB, v any, msgAndArgs ...any) bool {
	t.Helper()
	if isEmpty(v) {
		return c.fail(t, msgAndArgs, "should not be empty")
	}
	return true
}

func (c checker) Nil(t testing.TB, v any, msgAndArgs ...any) bool {
	t.Helper()
	if !isEmpty(v) || (v != nil && reflect.ValueOf(v).Kind() != reflect.Pointer && reflect.ValueOf(v).Kind() != reflect.Interface) {
		return c.fail(t, msgAndArgs, "should be nil: %#v", v)
	}
	return true
}

func (c checker) Len(t testing.TB, v any, n int, msgAndArgs ...any) bool {
	t.Helper()
	if l := reflect.ValueOf(v).Len(); l != n {
		return c.fail(t, msgAndArgs, "length %d, want %d", l, n)
	}
	return true
}

func (c checker) Contains(t testing.TB, s, sub string, msgAndArgs ...any) bool {
	t.Helper()
	if !strings.Contains(s, sub) {
		return c.fail(t, msgAndArgs, "%q does not contain %q", s, sub)
	}
	return true
}

func (c checker) NotContains(t testing.TB, s, sub string, msgAndArgs ...any) bool {
	t.Helper()
	if strings.Contains(s, sub) {
		return c.fail(t, msgAndArgs, "%q should not contain %q", s, sub)
	}
	return true
}

func (c checker) JSONEq(t testing.TB, want, got string, msgAndArgs ...any) bool {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		return c.fail(t, msgAndArgs, "want is not JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		return c.fail(t, msgAndArgs, "got is not JSON: %q", got)
	}
	return c.Equal(t, w, g, msgAndArgs...)
}
