package tokenizer

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
)

// TrainConfig configures Train.
type TrainConfig struct {
	// VocabSize is the size of the whole id space: the 256 byte tokens, the merged tokens
	// and the added tokens (HF's vocab_size, which counts the special tokens too).
	VocabSize int
	// MinFrequency: training stops when the most frequent pair occurs fewer times than this
	// (occurrences weighted by word count; 0 and 1 both merge down to single occurrences).
	MinFrequency int
	// Pattern is the Split regex run before the byte-level mapping, at training and at
	// encode time; "" means PatternLlama3.
	Pattern string
	// Added are special tokens (for example "<|begin_of_text|>", "<|im_start|>"). They get
	// the ids right after the merged tokens, in this order.
	Added []string
	// BOS and EOS name tokens of Added that EncodeSpecial puts around the text; "" for none.
	BOS, EOS string
}

// Train learns a byte-level BPE tokenizer from texts with the semantics of the Hugging Face
// tokenizers library's BpeTrainer (models/bpe/trainer.rs) run with
// initial_alphabet=ByteLevel.alphabet(), and returns it built with New, so Encode, Decode
// and MarshalJSON all work and the tokenizer.json loads in the tokenizers library.
//
//   - Each text is pre-tokenized exactly as the result encodes (Split on Pattern, then the
//     ByteLevel mapping), and the pieces are counted as words. As in HF's train, added tokens
//     inside the texts are not split out: they are trained on as plain text.
//   - Ids 0..255 are the 256 byte-level alphabet characters sorted by code point, as HF's
//     compute_alphabet sorts them ("!" is 0, "a" is 64, "Ġ" (space) is 220, as in GPT-2's
//     vocabulary); every byte is always a token, so any input encodes.
//   - Each step merges the pair of adjacent symbols with the highest count (occurrences in
//     every word times the word's count). Ties go to the smallest pair of ids (left id first,
//     then right id), HF's `other.pair.cmp(&self.pair)`; for single characters that is code
//     point order, for merged tokens creation order (not string order). The new token gets
//     the next id, unless its string is already a token (two merge paths to one string), in
//     which case HF's trainer reuses that id and the vocabulary does not grow. Occurrences are
//     merged left to right within a word ("aaa" with a+a becomes "aa a").
//   - Training stops when the vocabulary and added tokens together reach VocabSize, when no
//     pair is left, or when the best count is below MinFrequency.
//
// The counts are kept incrementally as HF keeps them: a priority queue of pairs, each entry
// with the words the pair occurs in, updated from the neighbours of each merged occurrence;
// an entry whose count went stale is queued again with the current count when it surfaces.
// A pair's count only falls once it is queued, so the top is always a true maximum. (The one
// exception is the repeated-string case above, where this follows HF's bookkeeping as it is;
// a merge learned twice keeps its later rank, as HF's saved model keeps it. With left-to-right
// merging from the full byte alphabet that case has not been seen to arise.)
//
// Unlike HF's trainer, which gives special tokens the first ids, the added tokens come after
// the merged tokens (as in Llama 3); the ids of all other tokens are HF's minus len(Added).
func Train(texts []string, cfg TrainConfig) (*Tokenizer, error) {
	if cfg.Pattern == "" {
		cfg.Pattern = PatternLlama3
	}
	if cfg.MinFrequency < 0 {
		return nil, fmt.Errorf("tokenizer: Train: negative MinFrequency %d", cfg.MinFrequency)
	}
	alphabet, byteID := trainAlphabet()
	inAlphabet := make(map[string]bool, 256)
	for _, s := range alphabet {
		inAlphabet[s] = true
	}
	addedSet := make(map[string]bool, len(cfg.Added))
	need := len(alphabet)
	for _, a := range cfg.Added {
		switch {
		case a == "":
			return nil, fmt.Errorf("tokenizer: Train: empty added token")
		case addedSet[a]:
			return nil, fmt.Errorf("tokenizer: Train: added token %q listed twice", a)
		}
		addedSet[a] = true
		if !inAlphabet[a] {
			need++
		}
	}
	for _, name := range []string{cfg.BOS, cfg.EOS} {
		if name != "" && !addedSet[name] {
			return nil, fmt.Errorf("tokenizer: Train: %q is not one of the added tokens", name)
		}
	}
	if cfg.VocabSize < need {
		return nil, fmt.Errorf("tokenizer: Train: VocabSize %d is below the %d tokens of the byte alphabet and the added tokens", cfg.VocabSize, need)
	}

	// The untrained tokenizer: its pre-tokenizer is the one the result encodes with.
	vocab := make(map[string]int, cfg.VocabSize)
	for id, s := range alphabet {
		vocab[s] = id
	}
	base, err := New(vocab, nil, nil, Options{Pattern: cfg.Pattern})
	if err != nil {
		return nil, fmt.Errorf("tokenizer: Train: %w", err)
	}
	words, err := trainCountWords(base, texts)
	if err != nil {
		return nil, err
	}
	tr := newBPETrainer(words, alphabet, byteID)
	tr.train(cfg.VocabSize-need, int64(cfg.MinFrequency), addedSet)

	for id := len(alphabet); id < len(tr.tokens); id++ {
		vocab[tr.tokens[id]] = id
	}
	next := len(tr.tokens)
	added := make([]AddedToken, len(cfg.Added))
	for i, a := range cfg.Added {
		id, ok := vocab[a]
		if !ok {
			id = next
			next++
		}
		added[i] = AddedToken{ID: id, Content: a, Special: true}
	}
	t, err := New(vocab, tr.mergeStrings(), added, Options{Pattern: cfg.Pattern, BOS: cfg.BOS, EOS: cfg.EOS})
	if err != nil {
		return nil, fmt.Errorf("tokenizer: Train: %w", err)
	}
	return t, nil
}

// trainAlphabet returns the byte-level alphabet in id order (sorted by code point) and the
// id of each byte.
func trainAlphabet() (alphabet []string, byteID [256]int32) {
	runes := make([]rune, 256)
	for b := range runes {
		runes[b] = byteRune[b]
	}
	slices.Sort(runes)
	alphabet = make([]string, 256)
	for id, r := range runes {
		alphabet[id] = string(r)
		byteID[runeByte[r]] = int32(id)
	}
	return alphabet, byteID
}

// trainCountWords pre-tokenizes the texts (on all cores, text by text) and counts the
// pieces. Keys are the pieces' raw bytes: the byte-level mapping is one character per byte,
// so counting before mapping counts the same words.
func trainCountWords(base *Tokenizer, texts []string) (map[string]int64, error) {
	total := 0
	for _, s := range texts {
		total += len(s)
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), len(texts), total/(64<<10)+1))
	// Contiguous runs of texts with about the same number of bytes each.
	bounds := []int{0}
	for i, acc := 0, 0; i < len(texts) && len(bounds) < workers; i++ {
		acc += len(texts[i])
		if acc >= total*len(bounds)/workers {
			bounds = append(bounds, i+1)
		}
	}
	bounds = append(bounds, len(texts))
	scan := trainScanner(base)
	parts := make([]map[string]int64, len(bounds)-1)
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for w := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts := make(map[string]int64)
			var bufs pieceBufs
			for _, text := range texts[bounds[w]:bounds[w+1]] {
				if scan != nil {
					for i := 0; i < len(text); {
						e := scan(text, i)
						counts[text[i:e]]++
						i = e
					}
					continue
				}
				for _, p := range preTokenize(base.pre, base.norm.normalize(text), &bufs) {
					if !p.mapped { // cannot happen: New always ends the pipeline with ByteLevel
						errs[w] = fmt.Errorf("tokenizer: Train: pre-tokenizer produced an unmapped piece %q", p.s)
						return
					}
					counts[p.s]++
				}
			}
			parts[w] = counts
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(parts, func(i, j int) bool { return len(parts[i]) > len(parts[j]) })
	words := parts[0]
	for _, p := range parts[1:] {
		for k, v := range p {
			words[k] += v
		}
	}
	return words, nil
}

// trainScanner returns the scanner of base's split pattern when base's whole pipeline is a
// known pattern's scanner followed by the plain byte-level mapping, as New builds it. The
// pieces are then exactly the scanner's matches, which the counting loop walks directly, as
// preSplit's hot path does, without materializing every piece of a large text.
func trainScanner(base *Tokenizer) scanner {
	if len(base.norm) != 0 || len(base.pre) != 2 {
		return nil
	}
	split, ok1 := base.pre[0].(*preSplit)
	bl, ok2 := base.pre[1].(*preByteLevel)
	if !ok1 || !ok2 || split.scan == nil || split.behavior != behaviorIsolated || split.invert || bl.addPrefixSpace || bl.useRegex {
		return nil
	}
	return split.scan
}

// bpeTrainer is the state of a training run: HF's words, counts, pair_counts and queue.
type bpeTrainer struct {
	syms   []int32     // the symbols of all words, one after another
	words  []trainWord // each word's place in syms
	counts []int64     // by word
	tokens []string    // by id, byte-level spelling
	ids    map[string]int32
	pairs  map[uint64]int64 // HF's pair_counts: pair -> occurrences weighted by word count
	queue  []trainEntry     // max-heap, see before
	merges []trainMerge     // in the order learned, duplicates included

	// Per merge step (HF's where_to_update): the entries for the pairs that gained
	// occurrences, all of which contain the new token z: (x, z) is found by x in left,
	// (z, y) for y != z by y in right. A slot is valid where its stamp is the step.
	step                  int32
	left, right           []int32
	leftStamp, rightStamp []int32
	fresh                 []trainEntry
	curA, curB, curZ      int32
}

type trainWord struct{ start, n int32 }

// trainEntry is one entry of the queue: a pair, its count when queued, and the words where
// it was found (HF's Merge).
type trainEntry struct {
	count int64
	a, b  int32
	pos   []int32
}

// trainMerge is one learned merge: a + b -> id, with the count it had.
type trainMerge struct {
	a, b, id int32
	count    int64
}

// before orders the queue: the higher count first, then the smaller pair of ids.
func (x *trainEntry) before(y *trainEntry) bool {
	if x.count != y.count {
		return x.count > y.count
	}
	if x.a != y.a {
		return x.a < y.a
	}
	return x.b < y.b
}

// newBPETrainer splits each word into its alphabet ids and counts the pairs (HF's
// tokenize_words and count_pairs). Words are taken in sorted order, so every run is the same.
func newBPETrainer(words map[string]int64, alphabet []string, byteID [256]int32) *bpeTrainer {
	keys := make([]string, 0, len(words))
	size := 0
	for w := range words {
		if len(w) > 1 { // a one-byte word has no pairs and never changes
			keys = append(keys, w)
			size += len(w)
		}
	}
	sort.Strings(keys)
	tr := &bpeTrainer{
		syms:   make([]int32, 0, size),
		words:  make([]trainWord, len(keys)),
		counts: make([]int64, len(keys)),
		tokens: slices.Clone(alphabet),
		ids:    make(map[string]int32, len(alphabet)),
		pairs:  make(map[uint64]int64),

		left: make([]int32, len(alphabet)), right: make([]int32, len(alphabet)),
		leftStamp: make([]int32, len(alphabet)), rightStamp: make([]int32, len(alphabet)),
	}
	for id, s := range alphabet {
		tr.ids[s] = int32(id)
	}
	where := make(map[uint64][]int32)
	for w, key := range keys {
		start := len(tr.syms)
		for i := 0; i < len(key); i++ {
			tr.syms = append(tr.syms, byteID[key[i]])
		}
		tr.words[w] = trainWord{int32(start), int32(len(key))}
		c := words[key]
		tr.counts[w] = c
		s := tr.syms[start:]
		for i := 0; i+1 < len(s); i++ {
			k := pairKey(s[i], s[i+1])
			tr.pairs[k] += c
			if pos := where[k]; len(pos) == 0 || pos[len(pos)-1] != int32(w) {
				where[k] = append(pos, int32(w))
			}
		}
	}
	tr.queue = make([]trainEntry, 0, len(where))
	for k, pos := range where {
		if c := tr.pairs[k]; c > 0 {
			tr.queue = append(tr.queue, trainEntry{count: c, a: int32(k >> 32), b: int32(uint32(k)), pos: pos})
		}
	}
	for i := len(tr.queue)/2 - 1; i >= 0; i-- {
		tr.down(i)
	}
	return tr
}

// train learns merges until room new vocabulary strings exist (strings in reserved, the added
// tokens, count as existing already, as they do in HF's word_to_id), no pair is left, or the
// best count is below minFreq. It follows BpeTrainer::do_train step by step.
func (tr *bpeTrainer) train(room int, minFreq int64, reserved map[string]bool) {
	grown := 0
	for grown < room && len(tr.queue) > 0 {
		top := tr.pop()
		if cur := tr.pairs[pairKey(top.a, top.b)]; top.count != cur {
			top.count = cur // stale: queue it again with the current count
			tr.push(top)
			continue
		}
		if top.count < 1 || top.count < minFreq {
			break
		}
		s := tr.tokens[top.a] + tr.tokens[top.b]
		z, ok := tr.ids[s]
		if !ok {
			z = int32(len(tr.tokens))
			tr.tokens = append(tr.tokens, s)
			tr.ids[s] = z
			tr.left = append(tr.left, 0)
			tr.right = append(tr.right, 0)
			tr.leftStamp = append(tr.leftStamp, 0)
			tr.rightStamp = append(tr.rightStamp, 0)
			if !reserved[s] {
				grown++
			}
		}
		tr.merges = append(tr.merges, trainMerge{top.a, top.b, z, top.count})

		tr.step++
		tr.fresh = tr.fresh[:0]
		tr.curA, tr.curB, tr.curZ = top.a, top.b, z
		for _, w := range top.pos {
			tr.mergeWord(w)
		}
		for _, e := range tr.fresh {
			if c := tr.pairs[pairKey(e.a, e.b)]; c > 0 {
				e.count = c
				tr.push(e)
			}
		}
	}
}

// mergeWord replaces each occurrence of the current pair in word w, left to right, with the
// current new token, and updates the pair counts from the neighbours as HF's Word::merge
// reports them: (prev, a) and (b, next) lose an occurrence, (prev, z) and (z, next) gain one.
func (tr *bpeTrainer) mergeWord(w int32) {
	a, b, z := tr.curA, tr.curB, tr.curZ
	wd := tr.words[w]
	s := tr.syms[wd.start : wd.start+wd.n]
	c := tr.counts[w]
	j := 0
	for i := 0; i < len(s); {
		if s[i] == a && i+1 < len(s) && s[i+1] == b {
			if j > 0 {
				prev := s[j-1]
				tr.pairs[pairKey(prev, a)] -= c
				tr.gain(prev, z, w, c)
			}
			if i+2 < len(s) {
				next := s[i+2]
				tr.pairs[pairKey(b, next)] -= c
				tr.gain(z, next, w, c)
			}
			s[j] = z
			i += 2
		} else {
			s[j] = s[i]
			i++
		}
		j++
	}
	tr.words[w].n = int32(j)
}

// gain adds c occurrences of (x, y), a pair with the current new token, found in word w.
func (tr *bpeTrainer) gain(x, y, w int32, c int64) {
	tr.pairs[pairKey(x, y)] += c
	slot, stamp, at := tr.left, tr.leftStamp, x
	if y != tr.curZ {
		slot, stamp, at = tr.right, tr.rightStamp, y
	}
	if stamp[at] != tr.step {
		stamp[at] = tr.step
		slot[at] = int32(len(tr.fresh))
		tr.fresh = append(tr.fresh, trainEntry{a: x, b: y})
	}
	e := &tr.fresh[slot[at]]
	if len(e.pos) == 0 || e.pos[len(e.pos)-1] != w {
		e.pos = append(e.pos, w)
	}
}

func (tr *bpeTrainer) push(e trainEntry) {
	tr.queue = append(tr.queue, e)
	q := tr.queue
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if !q[i].before(&q[p]) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

func (tr *bpeTrainer) pop() trainEntry {
	q := tr.queue
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = trainEntry{}
	tr.queue = q[:last]
	tr.down(0)
	return top
}

func (tr *bpeTrainer) down(i int) {
	q := tr.queue
	for {
		l := 2*i + 1
		if l >= len(q) {
			return
		}
		m := l
		if r := l + 1; r < len(q) && q[r].before(&q[l]) {
			m = r
		}
		if !q[m].before(&q[i]) {
			return
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
}

// mergeStrings lists the merges in rank order as strings. A pair learned twice keeps only
// its later rank, which is what HF's trainer saves (its merges map keeps the last insert).
func (tr *bpeTrainer) mergeStrings() [][2]string {
	last := make(map[uint64]int, len(tr.merges))
	for i, m := range tr.merges {
		last[pairKey(m.a, m.b)] = i
	}
	out := make([][2]string, 0, len(last))
	for i, m := range tr.merges {
		if last[pairKey(m.a, m.b)] == i {
			out = append(out, [2]string{tr.tokens[m.a], tr.tokens[m.b]})
		}
	}
	return out
}
