package main

import (
	"os"
	"strings"
)

// The commands run in-process through run, with the environment a
// function: here, a bcrypt hash (as Node's bcrypt writes them) checked
// under the default argon2id configuration.
func Example() {
	env := func(string) string { return "" }
	hash := "$2a$10$NaSdoExQoVaYDrFEq7i/KubdtKCrBzsI5tk0zDhdVSuQtQQDmsgmy" // "correct horse"
	status := run([]string{"hash", "-verify", hash}, strings.NewReader("correct horse\n"), os.Stdout, os.Stdout, env)
	os.Stdout.WriteString("exit status " + string(rune('0'+status)) + "\n")

	status = run([]string{"config", "check"}, nil, os.Stdout, os.Stdout, func(k string) string {
		return map[string]string{"JWT_LEEWAY": "10m"}[k]
	})
	os.Stdout.WriteString("exit status " + string(rune('0'+status)) + "\n")
	// Output:
	// match
	// the hash is not what PASSWORD_HASH=argon2id makes today: the server replaces it at the next login
	// exit status 0
	// gatekeep: config: JWT_LEEWAY: want a Go duration of at most 5m, got "10m"
	// exit status 1
}
