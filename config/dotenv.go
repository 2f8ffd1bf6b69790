package config

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
)

// maxDotEnvLine bounds one line of a .env file.
const maxDotEnvLine = 64 << 10

// ParseDotEnv reads a .env file: one KEY=value a line. It is deliberately
// small and strict, and runs nothing:
//
//	# a comment line; blank lines are skipped
//	KEY=value                 unquoted: up to a " #" comment, trimmed
//	export KEY=value          the shell's export prefix is allowed
//	KEY = value               spaces around = are allowed
//	KEY='a literal $(value)'  single quotes: every byte as it is
//	KEY="line\nbreak"         double quotes: \n \r \t \" \\ \$ escapes
//
// A key is [A-Za-z_][A-Za-z0-9_]*. A value may not span lines. Command
// substitution ($(...) or backquotes) and variable expansion (${...}) are
// not performed, and outside single quotes they are an error rather than
// silently taken literally. A key set twice is an error. Errors are
// [*LineError]s naming the line, never its value.
//
// [FromEnv] applies these rules only to the lines of variables gatekeep
// reads: a .env shared with an application may hold lines of its own that
// other loaders take (DB_URL=postgres://${DB_USER}@db/app, a quoted value
// over several lines, a key with a dot), and those are skipped.
func ParseDotEnv(r io.Reader) (map[string]string, error) {
	return parseDotEnv(r, DotEnvFile, nil)
}

// ReadDotEnv reads the .env file at path as [FromEnv] does: lines of
// variables gatekeep reads follow [ParseDotEnv]'s rules, and other lines
// that break them are skipped (their names are kept, with empty values).
// A missing file is no error and no variable.
func ReadDotEnv(path string) (map[string]string, error) { return readDotEnv(path) }

// parseDotEnv parses r. With read nil every line follows ParseDotEnv's
// rules; otherwise only lines whose key read reports, and any other line
// that breaks a rule is skipped: with a quote left open, up to the line
// that closes it (a multi-line value, as dotenv loaders take it).
func parseDotEnv(r io.Reader, file string, read func(string) bool) (map[string]string, error) {
	strict := func(key string) bool { return read == nil || read(key) }
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxDotEnvLine)
	var lines []string
	for sc.Scan() {
		line := sc.Text()
		if len(lines) == 0 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &LineError{File: file, Line: len(lines) + 1, Why: "line longer than 64 KiB"}
		}
		return nil, &VarError{Var: file, Want: "a readable file", Err: err}
	}

	out := map[string]string{}
	firstSeen := map[string]int{}
	for i := 0; i < len(lines); i++ {
		n := i + 1
		key, val, ok, why := parseDotEnvLine(lines[i])
		if why != "" {
			k, quote := looseKey(lines[i])
			if strict(k) {
				return nil, &LineError{File: file, Line: n, Why: why}
			}
			if _, seen := out[k]; k != "" && !seen {
				out[k] = "" // its name only, for the unknown-variable warnings
			}
			if quote != 0 {
				if end := closingLine(lines, i, quote); end > i {
					i = end
				}
			}
			continue
		}
		if !ok {
			continue
		}
		if !strict(key) {
			out[key] = val // not read; kept for the unknown-variable warnings
			continue
		}
		if first, dup := firstSeen[key]; dup {
			return nil, &LineError{File: file, Line: n, Why: key + " is set again (first on line " + strconv.Itoa(first) + ")"}
		}
		firstSeen[key] = n
		out[key] = val
	}
	return out, nil
}

// looseKey returns the key of a line as dotenv loaders take it
// ([A-Za-z0-9_.-]+ before = or :, after an optional export), "" if there
// is none, and the quote its value opens without closing on the line (0
// if none).
func looseKey(line string) (key string, quote byte) {
	s := strings.TrimLeft(line, " \t")
	if rest, found := strings.CutPrefix(s, "export"); found && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		s = strings.TrimLeft(rest, " \t")
	}
	i := 0
	for i < len(s) && (isKeyByte(s[i], false) || s[i] == '.' || s[i] == '-') {
		i++
	}
	key, s = s[:i], strings.TrimLeft(s[i:], " \t")
	if s == "" || (s[0] != '=' && s[0] != ':') {
		return key, 0
	}
	s = strings.TrimLeft(s[1:], " \t")
	if s == "" || (s[0] != '"' && s[0] != '\'' && s[0] != '`') {
		return key, 0
	}
	if closeAt(s[1:], s[0]) >= 0 {
		return key, 0
	}
	return key, s[0]
}

// closeAt returns the index in s of the quote that closes a value opened
// by quote (a backslash escapes the next byte in double quotes), or -1.
func closeAt(s string, quote byte) int {
	for j := 0; j < len(s); j++ {
		switch {
		case s[j] == '\\' && quote == '"':
			j++
		case s[j] == quote:
			return j
		}
	}
	return -1
}

// closingLine returns the index of the first line after lines[open] that
// closes the quote lines[open] left open, or -1.
func closingLine(lines []string, open int, quote byte) int {
	for j := open + 1; j < len(lines); j++ {
		if closeAt(lines[j], quote) >= 0 {
			return j
		}
	}
	return -1
}

const wantKV = "want KEY=value, export KEY=value or a # comment"

// parseDotEnvLine returns the key and value of one line, ok false for a
// blank or comment line, or why the line is bad.
func parseDotEnvLine(line string) (key, val string, ok bool, why string) {
	s := strings.TrimRight(strings.TrimLeft(line, " \t"), "\r")
	if s == "" || s[0] == '#' {
		return "", "", false, ""
	}
	if rest, found := strings.CutPrefix(s, "export"); found && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		s = strings.TrimLeft(rest, " \t")
	}
	i := 0
	for i < len(s) && isKeyByte(s[i], i == 0) {
		i++
	}
	if i == 0 {
		return "", "", false, wantKV
	}
	key, s = s[:i], strings.TrimLeft(s[i:], " \t")
	if s == "" || s[0] != '=' {
		return "", "", false, wantKV
	}
	s = strings.TrimLeft(s[1:], " \t")

	var tail string
	switch {
	case s == "":
		return key, "", true, ""
	case s[0] == '\'':
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", "", false, "unterminated single quote (values cannot span lines)"
		}
		val, tail = s[1:1+end], s[2+end:]
	case s[0] == '"':
		var b strings.Builder
		closed := false
		j := 1
		for ; j < len(s); j++ {
			c := s[j]
			if c == '"' {
				closed = true
				break
			}
			if c == '\\' {
				if j+1 == len(s) {
					break
				}
				j++
				switch s[j] {
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case '"', '\\', '$':
					b.WriteByte(s[j])
				default:
					return "", "", false, `unknown escape in double quotes (use \n \r \t \" \\ \$, or single quotes)`
				}
				continue
			}
			if c == '`' || c == '$' && j+1 < len(s) && (s[j+1] == '(' || s[j+1] == '{') {
				return "", "", false, noSubst
			}
			b.WriteByte(c)
		}
		if !closed {
			return "", "", false, "unterminated double quote (values cannot span lines)"
		}
		val, tail = b.String(), s[j+1:]
	default:
		val = s
		for j := 1; j < len(s); j++ {
			if s[j] == '#' && (s[j-1] == ' ' || s[j-1] == '\t') {
				val = s[:j]
				break
			}
		}
		val = strings.TrimRight(val, " \t")
		if strings.Contains(val, "$(") || strings.Contains(val, "${") || strings.Contains(val, "`") {
			return "", "", false, noSubst
		}
	}
	tail = strings.TrimLeft(tail, " \t")
	if tail != "" && tail[0] != '#' {
		return "", "", false, "unexpected text after the closing quote"
	}
	return key, val, true, ""
}

const noSubst = "command substitution and ${...} expansion are not supported (single-quote the value to take it literally)"

func isKeyByte(c byte, first bool) bool {
	return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || !first && c >= '0' && c <= '9'
}
