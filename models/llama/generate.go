package llama

import (
	"context"
	"fmt"
	"slices"

	"seal/models/tensor"
)

// GenerateConfig says how many candidates to draw and when each one ends.
type GenerateConfig struct {
	MaxNewTokens int
	// N candidates per prompt (SEAL's k), decoded together in one batch. 0 means 1.
	N      int
	Sample SampleConfig // candidate i of prompt p samples with seed Sample.Seed + p*N + i
	// StopIDs end a sequence when generated (EOS); the stop token is not kept.
	StopIDs []int32
	// StopStrings end a sequence when its decoded text contains one; the text from
	// the stop string on is cut. Decode must be set with them.
	StopStrings []string
	Decode      func(ids []int32) string
	// OnToken, when set, sees every kept token as it is chosen (seq indexes the result).
	OnToken func(seq int, token int32)
}

// StopReason says why a sequence ended.
type StopReason string

const (
	StopEOS       StopReason = "eos"
	StopString    StopReason = "stop_string"
	StopLength    StopReason = "length"
	StopCancelled StopReason = "cancelled"
)

// Generation is one finished candidate.
type Generation struct {
	Prompt int     // which prompt it continues
	Tokens []int32 // generated tokens (without the prompt, without the stop token)
	Text   string  // decoded text, cut at a stop string (when Decode is set)
	Reason StopReason
}

// Generate continues each prompt N times. All candidates decode in one batch with a
// KV cache; finished ones leave the batch. Cancelling ctx ends every unfinished
// sequence with StopCancelled and returns what was generated along with ctx.Err().
func (m *Model) Generate(ctx context.Context, prompts [][]int32, cfg GenerateConfig) ([]Generation, error) {
	n := max(cfg.N, 1)
	if len(prompts) == 0 || cfg.MaxNewTokens <= 0 {
		return nil, fmt.Errorf("llama: generate needs prompts and MaxNewTokens > 0")
	}
	if len(cfg.StopStrings) > 0 && cfg.Decode == nil {
		return nil, fmt.Errorf("llama: stop strings need a Decode function")
	}
	longest := 0
	for i, p := range prompts {
		if len(p) == 0 {
			return nil, fmt.Errorf("llama: prompt %d is empty", i)
		}
		longest = max(longest, len(p))
	}
	capacity := longest + cfg.MaxNewTokens
	S := len(prompts) * n
	gens := make([]Generation, S)
	samplers := make([]*Sampler, S)
	for i := range gens {
		gens[i].Prompt = i / n
		sc := cfg.Sample
		sc.Seed += uint64(i)
		samplers[i] = NewSampler(sc)
	}
	stops := NewStopMatcher(cfg.StopStrings)
	cache := m.NewCache(S, capacity)
	// Prefill each prompt once into its first slot, then copy that slot to its other N-1.
	last := make([][]float32, S) // logits of each sequence's latest position
	for p, prompt := range prompts {
		slot := cache.slot(p * n)
		logits, err := m.Forward(prompt, 1, len(prompt), slot, []int{len(prompt) - 1})
		if err != nil {
			return nil, err
		}
		for i := 0; i < n; i++ {
			if i > 0 {
				cache.copySlot(m.Backend, p*n+i, p*n)
			}
			last[p*n+i] = logits.F32
		}
	}
	active := make([]int, S) // active[j] = which generation cache slot j holds
	for i := range active {
		active[i] = i
	}
	next := make([]int32, S)
	V := m.Config.VocabSize
	// Each step's logits, rows of live sequences first, and their host copy: the one
	// point where the sampler reads what the backend computed.
	decoded, sampled := m.Backend.Alloc(tensor.F32, S, V), tensor.New(S, V)
	defer m.Backend.Free(decoded)
	keep := make([]int, 0, S)
	views := make([]*KVCache, S+1) // cache.prefix(n), made once per n
	for step := 0; len(active) > 0; step++ {
		if err := ctx.Err(); err != nil {
			for _, g := range active {
				gens[g].Reason = StopCancelled
			}
			m.finishText(gens, cfg)
			return gens, err
		}
		keep = keep[:0]
		for j, g := range active {
			tok := int32(samplers[g].Next(last[j]))
			if slices.Contains(cfg.StopIDs, tok) {
				gens[g].Reason = StopEOS
				continue
			}
			gens[g].Tokens = append(gens[g].Tokens, tok)
			if cfg.OnToken != nil {
				cfg.OnToken(g, tok)
			}
			if len(cfg.StopStrings) > 0 {
				text := cfg.Decode(gens[g].Tokens)
				if cut, hit := stops.Check(text); hit {
					gens[g].Reason, gens[g].Text = StopString, text[:cut]
					continue
				}
			}
			if len(gens[g].Tokens) >= cfg.MaxNewTokens {
				gens[g].Reason = StopLength
				continue
			}
			next[len(keep)] = tok
			keep = append(keep, j)
		}
		if len(keep) == 0 {
			break
		}
		// Compact the cache so the batch holds only live sequences.
		for dst, src := range keep {
			if dst != src {
				cache.copySlot(m.Backend, dst, src)
			}
		}
		for dst, src := range keep { // keep is ascending: dst <= src
			active[dst] = active[src]
		}
		active = active[:len(keep)]
		B := len(active)
		if views[B] == nil {
			views[B] = cache.prefix(B)
		}
		logits := decoded.RowRange(0, B)
		if err := m.ForwardInto(logits, next[:B], B, 1, views[B], nil); err != nil {
			return nil, err
		}
		host := sampled.F32[:B*V]
		m.Backend.Download(tensor.FromF32(host, B, V), logits)
		last = last[:B]
		for j := range last {
			last[j] = host[j*V : (j+1)*V]
		}
	}
	m.finishText(gens, cfg)
	return gens, nil
}

func (m *Model) finishText(gens []Generation, cfg GenerateConfig) {
	if cfg.Decode == nil {
		return
	}
	for i := range gens {
		if gens[i].Reason != StopString {
			gens[i].Text = cfg.Decode(gens[i].Tokens)
		}
	}
}

// slot is a one-sequence view of sequence b sharing the cache's memory.
func (c *KVCache) slot(b int) *KVCache {
	v := &KVCache{B: 1, Cap: c.Cap, Len: c.Len[b : b+1]}
	for i := range c.K {
		v.K = append(v.K, c.K[i].RowRange(b*c.Cap, (b+1)*c.Cap))
		v.V = append(v.V, c.V[i].RowRange(b*c.Cap, (b+1)*c.Cap))
	}
	return v
}

// prefix is a view of the first n sequences.
func (c *KVCache) prefix(n int) *KVCache {
	v := &KVCache{B: n, Cap: c.Cap, Len: c.Len[:n]}
	for i := range c.K {
		v.K = append(v.K, c.K[i].RowRange(0, n*c.Cap))
		v.V = append(v.V, c.V[i].RowRange(0, n*c.Cap))
	}
	return v
}

// copySlot copies sequence src's filled positions to sequence dst.
func (c *KVCache) copySlot(be tensor.Backend, dst, src int) {
	n := c.Len[src]
	for i := range c.K {
		be.CopyRows(c.K[i], dst*c.Cap, c.K[i], src*c.Cap, n)
		be.CopyRows(c.V[i], dst*c.Cap, c.V[i], src*c.Cap, n)
	}
	c.Len[dst] = n
}
