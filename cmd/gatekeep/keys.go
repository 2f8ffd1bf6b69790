package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/gatekeep/gatekeep/store"
	"github.com/gatekeep/gatekeep/token/rotation"
)

const keysUsage = `Usage: gatekeep keys list|rotate ...

  keys list [-json]     the signing keys the store holds: kid, algorithm, state, times
  keys rotate [-json]   the next step of a rotation, now: create the next key, or
                        (once it has been published JWT_KEY_PREPUBLISH) activate it

The store is the one AUTH_STORE selects, opened as the server opens it, with
JWT_ROTATE_EVERY and JWT_KEY_ENCRYPTION_KEY as the servers have them. Never
prints key material.
`

func (c *cli) keys(args []string) error {
	return c.subcommand("keys", args, map[string]func([]string) error{
		"list":   c.keysList,
		"rotate": c.keysRotate,
	}, keysUsage)
}

// keyJSON is a signing key as the tool shows it: never its material.
type keyJSON struct {
	Kid         string    `json:"kid"`
	Algorithm   string    `json:"alg"`
	State       string    `json:"state"`
	CreatedAt   time.Time `json:"created_at"`
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	RetireAt    time.Time `json:"retire_at,omitzero"`
}

func (c *cli) keysList(args []string) error {
	fs := c.flags("keys list", "keys list [-json]",
		"Lists the signing keys of the store's key ring (automatic rotation, JWT_ROTATE_EVERY): kid,\nalgorithm, state (next, active, retiring) and times. Never prints key material.")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return &usageError{msg: "keys list takes no arguments"}
	}
	st, err := c.openStack()
	if err != nil {
		return err
	}
	defer st.Close()
	ks, ok := st.Store.(store.KeyStore)
	if !ok {
		return fmt.Errorf("keys list: the %s store keeps no signing keys", st.Config.Store)
	}
	ring, err := ks.SigningKeys(c.ctx)
	if err != nil {
		return fmt.Errorf("keys list: %w", err)
	}
	out := []keyJSON{}
	for _, k := range ring.Keys {
		out = append(out, keyJSON{Kid: k.ID, Algorithm: k.Algorithm, State: string(k.State),
			CreatedAt: k.CreatedAt.UTC(), ActivatedAt: k.ActivatedAt.UTC(), RetireAt: k.RetireAt.UTC()})
	}
	if *asJSON {
		return c.writeJSON(out)
	}
	if len(out) == 0 {
		fmt.Fprintln(c.stdout, "no rotated signing keys in the store (automatic rotation is off until a server runs with JWT_ROTATE_EVERY)")
		return nil
	}
	now := c.clock()
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tACTIVATED\tRETIRES")
	for _, k := range out {
		act, ret := "", ""
		if !k.ActivatedAt.IsZero() {
			act = k.ActivatedAt.Format(time.RFC3339)
		}
		if !k.RetireAt.IsZero() {
			ret = relative(k.RetireAt.Sub(now), "in %s", "%s ago")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.Kid, k.Algorithm, k.State, k.CreatedAt.Format(time.RFC3339), orDash(act), orDash(ret))
	}
	return tw.Flush()
}

func (c *cli) keysRotate(args []string) error {
	fs := c.flags("keys rotate", "keys rotate [-json]",
		"Performs the next step of a key rotation now, ahead of JWT_ROTATE_EVERY but never ahead of\n"+
			"the pre-publication: with no next key it creates one (in the JWK Set at once, signing\n"+
			"nothing yet); with one published for JWT_KEY_PREPUBLISH it activates it, and the active key\n"+
			"retires (it verifies until its tokens have expired). Run it twice, JWT_KEY_PREPUBLISH apart,\n"+
			"to rotate now. Running servers pick the change up within their reload interval.")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return &usageError{msg: "keys rotate takes no arguments"}
	}
	st, err := c.openStack()
	if err != nil {
		return err
	}
	defer st.Close()
	if st.Rotator == nil {
		return errors.New("keys rotate: automatic rotation is off: set JWT_ROTATE_EVERY and JWT_KEY_ENCRYPTION_KEY as the servers have them")
	}
	step, err := st.Rotator.RotateNow(c.ctx)
	var early *rotation.TooEarlyError
	if errors.As(err, &early) {
		return fmt.Errorf("keys rotate: the next key %s is published since less than JWT_KEY_PREPUBLISH; run again from %s", early.Kid, early.At.UTC().Format(time.RFC3339))
	}
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	if *asJSON {
		return c.writeJSON(map[string]string{"action": step.Action, "kid": step.Kid})
	}
	switch step.Action {
	case "created":
		fmt.Fprintf(c.stdout, "created the next key %s: in the JWK Set now, it signs once activated (run keys rotate again after JWT_KEY_PREPUBLISH)\n", step.Kid)
	default:
		fmt.Fprintf(c.stdout, "activated %s: it signs from now on; the previous key verifies until its tokens have expired\n", step.Kid)
	}
	return nil
}
