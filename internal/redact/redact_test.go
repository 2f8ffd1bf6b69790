package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	const pw = "hunter2-correct-horse"
	s := Secret(pw)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "s", s)
	j, _ := json.Marshal(struct{ S Secret }{s})
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %X %10s", s, s, s, s, s, s, s, s),
		logs.String(), string(j),
	} {
		if strings.Contains(out, pw) || strings.Contains(out, fmt.Sprintf("%x", pw)) {
			t.Errorf("the secret leaked: %s", out)
		}
	}
	var in struct{ S Secret }
	if err := json.Unmarshal([]byte(`{"S":"`+pw+`"}`), &in); err != nil || string(in.S) != pw {
		t.Fatalf("decoding: %v %q", err, string(in.S))
	}
	if Secret("").String() != "" {
		t.Error("an empty secret prints as empty")
	}
}
