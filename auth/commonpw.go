package auth

import (
	_ "embed"
	"strings"
	"sync"
)

// commonPasswordList is the 3000 most frequent passwords of at least 8
// bytes (see the file's header for its source and licence).
//
//go:embed commonpasswords.txt
var commonPasswordList string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 3000)
	for line := range strings.Lines(commonPasswordList) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[line] = struct{}{}
		}
	}
	return m
})

// isCommonPassword reports whether pw, in any letter case, is one of the
// 3000 most common passwords that meet the length policy (ASVS 5.0
// V6.2.4).
func isCommonPassword(pw string) bool {
	if len(pw) > 64 { // no list entry is that long: skip the lower-casing
		return false
	}
	_, ok := commonPasswords()[strings.ToLower(pw)]
	return ok
}
