package gatekeeptest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatekeep/gatekeep/auth"
)

// outsideTests makes the package believe it is not in a test binary
// until t ends.
func outsideTests(t *testing.T) {
	inTest = func() bool { return false }
	t.Cleanup(func() { inTest = testing.Testing })
}

func TestNewRefusesOutsideTests(t *testing.T) {
	outsideTests(t)
	assert.PanicsWithError(t, errNotTest.Error(), func() { New(t) })
}

func TestHasherRefusesOutsideTests(t *testing.T) {
	enc, err := fastHasher{}.Hash("correct horse battery staple")
	require.NoError(t, err)
	outsideTests(t)
	_, err = fastHasher{}.Hash("correct horse battery staple")
	assert.ErrorIs(t, err, errNotTest)
	ok, _, err := fastHasher{}.Verify("correct horse battery staple", enc)
	assert.False(t, ok)
	assert.ErrorIs(t, err, errNotTest)
}

func TestFastHasher(t *testing.T) {
	h := fastHasher{}
	a, err := h.Hash("correct horse battery staple")
	require.NoError(t, err)
	b, err := h.Hash("correct horse battery staple")
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "unsalted")
	assert.True(t, strings.HasPrefix(a, hashPrefix))
	ok, rehash, err := h.Verify("correct horse battery staple", a)
	assert.True(t, ok)
	assert.False(t, rehash)
	assert.NoError(t, err)
	ok, _, err = h.Verify("correct horse battery stapl", a)
	assert.False(t, ok)
	assert.NoError(t, err)
	for _, bad := range []string{"", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5", hashPrefix, hashPrefix + "AAAA$AAAA",
		a[:len(a)-2], strings.Replace(a, "$", "", 2)} {
		ok, _, err := h.Verify("correct horse battery staple", bad)
		assert.False(t, ok, bad)
		assert.ErrorIs(t, err, auth.ErrUnknownHash, bad)
	}
}
