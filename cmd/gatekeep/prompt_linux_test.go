package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// openPTY returns a real pseudo-terminal: the side a user types into
// (master) and the one the command reads as its terminal stdin.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	// Non-blocking, so that os.File polls it and read deadlines work.
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	m := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { m.Close() })
	require.NoError(t, unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return m, s
}

// typeWhenEchoOff types line into the terminal once echo is off, as a
// person would after the prompt; it fails if echo never goes off.
func typeWhenEchoOff(t *testing.T, master, tty *os.File, line string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		require.NoError(t, err)
		if tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Error("the terminal's echo was never turned off")
			break // type anyway, so that the command ends
		}
		time.Sleep(time.Millisecond)
	}
	_, err := master.WriteString(line + "\n")
	require.NoError(t, err)
}

// TestPasswordPrompt: on a terminal the password is asked on stderr,
// twice, with echo off, and never printed back.
func TestPasswordPrompt(t *testing.T) {
	const pw = "terminal password 1"
	for _, tc := range []struct {
		name    string
		typed   []string
		code    int
		errText string
	}{
		{name: "same twice", typed: []string{pw, pw}, code: exitOK},
		{name: "differ", typed: []string{pw, pw + "x"}, code: exitFailure, errText: "the two passwords differ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			master, tty := openPTY(t)
			var out, errb bytes.Buffer
			c := &cli{ctx: context.Background(), stdin: tty, stdout: &out, stderr: &errb, env: func(string) string { return "" }, dotEnv: t.TempDir() + "/none"}
			done := make(chan int, 1)
			go func() { done <- c.run([]string{"hash"}) }()
			for _, line := range tc.typed {
				typeWhenEchoOff(t, master, tty, line)
				// Wait for the line to be consumed before the next prompt's echo-off.
				time.Sleep(50 * time.Millisecond)
			}
			select {
			case code := <-done:
				assert.Equal(t, tc.code, code, errb.String())
			case <-time.After(30 * time.Second):
				t.Fatal("hash did not finish")
			}
			assert.True(t, strings.HasPrefix(errb.String(), "Password: \nAgain: \n"), "%q", errb.String())
			assert.Contains(t, errb.String(), tc.errText)
			assert.NotContains(t, out.String()+errb.String(), pw)
			if tc.code == exitOK {
				assert.True(t, strings.HasPrefix(out.String(), "$argon2id$"), out.String())
			}
			// Nothing typed came back on the terminal either.
			require.NoError(t, master.SetReadDeadline(time.Now().Add(200*time.Millisecond)))
			buf := make([]byte, 4096)
			n, _ := master.Read(buf)
			assert.NotContains(t, string(buf[:n]), "terminal password", "echoed on the terminal")
			// Echo is back on afterwards.
			tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
			require.NoError(t, err)
			assert.NotZero(t, tio.Lflag&unix.ECHO)
		})
	}
}
