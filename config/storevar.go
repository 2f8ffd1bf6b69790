package config

import (
	"log/slog"
	"strings"
)

// storeVars are the variables that each select a store when AUTH_STORE is
// unset, in the order errors name them.
var storeVars = []struct {
	name string
	kind StoreKind
}{
	{"REDIS_URL", StoreRedis},
	{"BOLT_PATH", StoreBolt},
	{"DATABASE_URL", StorePostgres},
}

// selectStore applies "one variable moves the store": with AUTH_STORE
// unset, REDIS_URL selects redis, BOLT_PATH bolt and DATABASE_URL
// postgres, with a note saying so; two of them is an error naming both,
// since either could be meant.
func (p *parser) selectStore(c *Config, storeSet bool) {
	if storeSet {
		return
	}
	var set []string
	kind := StoreMemory
	for _, v := range storeVars {
		if p.isSet(v.name) {
			set = append(set, v.name)
			kind = v.kind
		}
	}
	switch len(set) {
	case 0:
		return
	case 1:
		c.Store = kind
		c.note(slog.LevelInfo, "config: AUTH_STORE is unset: "+set[0]+" selects the "+string(kind)+" store")
		return
	}
	both := strings.Join(set[:len(set)-1], ", ") + " and " + set[len(set)-1]
	all := "both"
	if len(set) > 2 {
		all = "all"
	}
	p.fail(varErr("AUTH_STORE", "it set to memory, bolt, redis or postgres when "+both+" are "+all+
		" set (each alone selects its store)", ""))
}
