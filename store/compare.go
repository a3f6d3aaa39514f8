package store

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Comparison is what `seal compare` and the workbench's compare view show: each run's
// flattened config and metrics, in the order the ids were given.
type Comparison struct {
	Runs    []Run
	Configs []map[string]any     // "inner.rank" -> 32
	Metrics []map[string]float64 // run metrics plus "roundN/mean_reward"
}

// Compare loads the runs to compare.
func (db *DB) Compare(ids []int64) (Comparison, error) {
	var c Comparison
	for _, id := range ids {
		run, err := db.Run(id)
		if err != nil {
			return c, err
		}
		cfg := map[string]any{}
		FlattenJSON("", run.Config, cfg)
		ms, err := db.Metrics(id)
		if err != nil {
			return c, err
		}
		m := map[string]float64{}
		for _, x := range ms {
			m[x.Name] = x.Value
		}
		rs, err := db.Rounds(id)
		if err != nil {
			return c, err
		}
		for _, r := range rs {
			m[fmt.Sprintf("round%d/mean_reward", r.Round)] = r.MeanReward
		}
		c.Runs = append(c.Runs, run)
		c.Configs = append(c.Configs, cfg)
		c.Metrics = append(c.Metrics, m)
	}
	return c, nil
}

// ConfigDiff lists the config keys whose values are not the same in every run, sorted.
func (c Comparison) ConfigDiff() []string {
	keys := map[string]bool{}
	for _, cfg := range c.Configs {
		for k := range cfg {
			keys[k] = true
		}
	}
	var out []string
	for k := range keys {
		for _, cfg := range c.Configs[1:] {
			if fmt.Sprint(cfg[k]) != fmt.Sprint(c.Configs[0][k]) {
				out = append(out, k)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// MetricNames lists every metric any of the runs has, sorted.
func (c Comparison) MetricNames() []string {
	names := map[string]bool{}
	for _, m := range c.Metrics {
		for k := range m {
			names[k] = true
		}
	}
	out := make([]string, 0, len(names))
	for k := range names {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FlattenJSON writes a JSON document's leaves into out under dotted names.
func FlattenJSON(prefix string, raw json.RawMessage, out map[string]any) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		var v any
		json.Unmarshal(raw, &v)
		out[prefix] = v
		return
	}
	for k, v := range m {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		FlattenJSON(name, v, out)
	}
}
