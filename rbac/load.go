package rbac

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxPolicyBytes bounds a policy document; a larger one is refused rather
// than read without end.
const maxPolicyBytes = 1 << 20

// policyDoc is the JSON form of a policy:
//
//	{"roles": [{"name": "viewer", "permissions": ["articles:read"]},
//	           {"name": "editor", "inherits": ["viewer"], "permissions": ["articles:*"]}]}
type policyDoc struct {
	Roles []Role `json:"roles"`
}

// LoadPolicy reads a JSON policy document from r and builds it with
// [NewPolicy]. The document is an object with one field, "roles", a list of
// [Role] objects ("name", "inherits", "permissions"). Unknown fields,
// trailing data and documents over 1 MiB are [ErrInvalidPolicy]; validation
// errors are those of [NewPolicy].
func LoadPolicy(r io.Reader) (*Policy, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPolicyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read: %w", ErrInvalidPolicy, err)
	}
	if len(data) > maxPolicyBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidPolicy, maxPolicyBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc policyDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: trailing data after the policy object", ErrInvalidPolicy)
	}
	return NewPolicy(doc.Roles...)
}

// LoadPolicyFile reads the JSON policy document at path; see [LoadPolicy].
// Errors name the file.
func LoadPolicyFile(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	defer f.Close()
	p, err := LoadPolicy(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
