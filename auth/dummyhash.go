package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"

	"github.com/gatekeep/gatekeep/store"

	"golang.org/x/crypto/bcrypt"
)

// paramSetOf names the kind and parameters of an encoded hash ("argon2id
// m=19456,t=2,p=1,s=16,k=32", "bcrypt 12"), or "" for one this package
// cannot read: two hashes of one parameter set cost the same to verify.
func paramSetOf(encoded string) string {
	switch {
	case isArgon2id(encoded):
		p, _, _, err := parseArgon2id(encoded)
		if err != nil {
			return ""
		}
		return fmt.Sprintf("argon2id m=%d,t=%d,p=%d,s=%d,k=%d", p.Memory, p.Time, p.Threads, p.SaltLen, p.KeyLen)
	case isBcrypt(encoded):
		cost, err := bcrypt.Cost([]byte(encoded))
		if err != nil || cost > bcryptMaxCost {
			return ""
		}
		return fmt.Sprintf("bcrypt %d", cost)
	}
	return ""
}

// maxDummySets bounds the parameter sets a login is equalised over.
const maxDummySets = 8

// dummySampleSize is how many stored users the first login reads to learn
// the parameter sets present before anyone probes them.
const dummySampleSize = 100

type dummyHash struct{ set, hash string }

// dummies are the hashes every password check of a login is equalised
// over: one for each kind and parameter set known to be present (the
// configured hasher's, those of the first page of users, and any a login
// has loaded since). A login verifies against the user's own hash, or a
// dummy for an unknown user, and then against the dummy of every other
// set, so that an unknown user, a user of the configured kind and a user
// whose hash predates a hasher switch cost the same work.
type dummies struct {
	mu      sync.Mutex
	list    []dummyHash
	sampled bool
}

// dummyFor makes a hash of parameter set like encoded's, of a random
// password; "" when encoded is of no kind this package can make.
func dummyFor(encoded string) string {
	var pw [24]byte
	_, _ = rand.Read(pw[:])
	secret := hex.EncodeToString(pw[:])
	switch {
	case isArgon2id(encoded):
		p, _, _, err := parseArgon2id(encoded)
		if err != nil {
			return ""
		}
		h, _ := (&Argon2id{p: p}).Hash(secret)
		return h
	case isBcrypt(encoded):
		cost, err := bcrypt.Cost([]byte(encoded))
		if err != nil || cost > bcryptMaxCost {
			return ""
		}
		h, err := bcrypt.GenerateFromPassword([]byte(secret), cost)
		if err != nil {
			return ""
		}
		return string(h)
	}
	return ""
}

// learn adds a dummy for encoded's parameter set if it is new.
func (d *dummies) learn(encoded string) {
	set := paramSetOf(encoded)
	if set == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.list) >= maxDummySets || slices.ContainsFunc(d.list, func(x dummyHash) bool { return x.set == set }) {
		return
	}
	if h := dummyFor(encoded); h != "" {
		d.list = append(d.list, dummyHash{set, h})
	}
}

func (d *dummies) snapshot() []dummyHash {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.list)
}

// sample learns the parameter sets of the first page of users, once
// (again after a store error).
func (a *Authenticator) sampleDummies(ctx context.Context) {
	a.dummies.mu.Lock()
	done := a.dummies.sampled
	a.dummies.mu.Unlock()
	if done {
		return
	}
	users, _, err := a.st.ListUsers(ctx, "", dummySampleSize)
	if err != nil {
		return
	}
	for _, u := range users {
		a.dummies.learn(u.PasswordHash)
	}
	a.dummies.mu.Lock()
	a.dummies.sampled = true
	a.dummies.mu.Unlock()
}

// verifyLogin checks password for a login of u (nil: no such user) within
// one hash slot, equalised over every known parameter set (see dummies).
func (a *Authenticator) verifyLogin(ctx context.Context, password string, u *store.User) (ok, rehash bool, err error) {
	a.sampleDummies(ctx)
	target := a.dummyHash
	// A user without a password (signed up through a provider) is checked
	// against the dummy hash too, so that timing tells no one which
	// accounts have no password; the caller never logs such a user in.
	if u != nil && u.PasswordHash != "" {
		target = u.PasswordHash
		a.dummies.learn(target)
	}
	release, err := a.acquireHash(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	ok, rehash, err = a.cfg.hasher.Verify(password, target)
	set := paramSetOf(target)
	for _, d := range a.dummies.snapshot() {
		if d.set != set {
			_, _, _ = a.cfg.hasher.Verify(password, d.hash)
		}
	}
	return ok, rehash, err
}
