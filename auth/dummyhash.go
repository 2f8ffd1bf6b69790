package auth

import (
	"fmt"

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
