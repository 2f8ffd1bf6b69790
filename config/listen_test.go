package config_test

import (
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/config"
)

// An ADDR that cannot be listened on is one line naming ADDR in the
// "want ..." form of every configuration error, with the cause.
func TestListenAddrInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	cfg, err := config.FromLookup(lookup(map[string]string{"JWT_SECRET": secret32, "ADDR": busy.Addr().String()}))
	require.NoError(t, err)
	st, err := config.Build(t.Context(), cfg, config.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	defer st.Close()
	ln, err := st.Listen()
	require.Error(t, err)
	assert.Nil(t, ln)
	assert.ErrorIs(t, err, config.ErrInvalid)
	assert.True(t, strings.HasPrefix(err.Error(), "config: ADDR: want an address this process can listen on (free, and a port it may bind): listen tcp "+busy.Addr().String()+": "), err.Error())
	assert.Contains(t, err.Error(), "address already in use")

	st.Addr = "127.0.0.1:0"
	ln, err = st.Listen()
	require.NoError(t, err)
	ln.Close()
}

// A port that is not a number from 0 to 65535 is refused when read, not
// when listened on.
func TestAddrPort(t *testing.T) {
	for _, bad := range []string{"127.0.0.1:99999", "localhost:http", ":-1", ":+80", "127.0.0.1:", "8080"} {
		_, err := config.FromLookup(lookup(map[string]string{"ADDR": bad}))
		require.ErrorIs(t, err, config.ErrInvalid, bad)
		assert.Equal(t, `config: ADDR: want host:port, such as 127.0.0.1:8080 or :8080, got "`+bad+`"`, err.Error())
	}
	for _, good := range []string{":8080", "127.0.0.1:0", "[::1]:65535", "localhost:8080", "0.0.0.0:80"} {
		_, err := config.FromLookup(lookup(map[string]string{"ADDR": good}))
		assert.NoError(t, err, good)
	}
}
