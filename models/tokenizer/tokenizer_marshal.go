package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Options configures a byte-level BPE tokenizer built with New.
type Options struct {
	// Pattern is the Split regex run before the byte-level mapping (PatternLlama3,
	// PatternQwen2, or any pattern Parse accepts). Empty: ByteLevel's own GPT-2 split.
	Pattern string
	// NFC normalizes text to NFC before everything else (as Qwen does).
	NFC bool
	// IgnoreMerges emits a pre-token that is itself in the vocabulary directly (Llama 3).
	IgnoreMerges bool
	// AddPrefixSpace puts a space before each text piece that lacks one (GPT-2/RoBERTa).
	AddPrefixSpace bool
	// BOS and EOS name added tokens that EncodeSpecial puts around the text; "" for none.
	BOS, EOS string
}

// New builds a byte-level BPE tokenizer from its parts. Vocabulary strings use the
// byte-level alphabet ("Ġ" for a space byte); merges rank in slice order; added tokens must
// carry the ids the tokenizers library would assign (the next ids after the vocabulary).
// The result is exactly what Parse makes of its MarshalJSON output.
func New(vocab map[string]int, merges [][2]string, added []AddedToken, opts Options) (*Tokenizer, error) {
	var b bytes.Buffer
	b.WriteString(`{"version":"1.0","truncation":null,"padding":null,"added_tokens":`)
	writeAdded(&b, added)
	b.WriteString(`,"normalizer":`)
	if opts.NFC {
		b.WriteString(`{"type":"NFC"}`)
	} else {
		b.WriteString(`null`)
	}
	aps := strconv.FormatBool(opts.AddPrefixSpace)
	b.WriteString(`,"pre_tokenizer":`)
	if opts.Pattern != "" {
		b.WriteString(`{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":`)
		b.Write(appendJSONString(nil, opts.Pattern))
		b.WriteString(`},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":` + aps + `,"trim_offsets":true,"use_regex":false}]}`)
	} else {
		b.WriteString(`{"type":"ByteLevel","add_prefix_space":` + aps + `,"trim_offsets":true,"use_regex":true}`)
	}
	b.WriteString(`,"post_processor":`)
	if err := writeTemplate(&b, opts, added); err != nil {
		return nil, err
	}
	b.WriteString(`,"decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},"model":`)
	ids := make([]int, 0, len(vocab))
	byID := make(map[int]string, len(vocab))
	for tok, id := range vocab {
		if old, dup := byID[id]; dup {
			return nil, fmt.Errorf("tokenizer: New: tokens %q and %q share id %d", min(old, tok), max(old, tok), id)
		}
		byID[id] = tok
		ids = append(ids, id)
	}
	sort.Ints(ids)
	writeModel(&b, modelHeader{ignoreMerges: opts.IgnoreMerges}, ids, func(id int) string { return byID[id] }, merges, true)
	b.WriteString("}\n")
	t, err := Parse(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("tokenizer: New: %w", err)
	}
	return t, nil
}

// writeTemplate writes the post-processor for opts: ByteLevel, plus a TemplateProcessing
// (written with a pair template too, which the tokenizers library requires) when BOS or EOS is set.
func writeTemplate(b *bytes.Buffer, opts Options, added []AddedToken) error {
	bytelevel := `{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true}`
	if opts.BOS == "" && opts.EOS == "" {
		b.WriteString(bytelevel)
		return nil
	}
	special := map[string]int{}
	for _, name := range []string{opts.BOS, opts.EOS} {
		if name == "" {
			continue
		}
		found := false
		for _, a := range added {
			if a.Content == name {
				special[name], found = a.ID, true
			}
		}
		if !found {
			return fmt.Errorf("tokenizer: New: %q is not an added token", name)
		}
	}
	item := func(kind, id string, typeID int) string {
		return fmt.Sprintf(`{%q:{"id":%s,"type_id":%d}}`, kind, appendJSONString(nil, id), typeID)
	}
	seq := func(seqID string, typeID int) []string {
		var out []string
		if opts.BOS != "" {
			out = append(out, item("SpecialToken", opts.BOS, typeID))
		}
		out = append(out, item("Sequence", seqID, typeID))
		if opts.EOS != "" {
			out = append(out, item("SpecialToken", opts.EOS, typeID))
		}
		return out
	}
	join := func(items []string) string { return "[" + string(bytes.Join(toBytes(items), []byte(","))) + "]" }
	b.WriteString(`{"type":"Sequence","processors":[` + bytelevel + `,{"type":"TemplateProcessing","single":`)
	b.WriteString(join(seq("A", 0)))
	b.WriteString(`,"pair":` + join(append(seq("A", 0), seq("B", 1)...)) + `,"special_tokens":{`)
	names := make([]string, 0, len(special))
	for name := range special {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		q := appendJSONString(nil, name)
		fmt.Fprintf(b, `%s:{"id":%s,"ids":[%d],"tokens":[%s]}`, q, q, special[name], q)
	}
	b.WriteString("}}]}")
	return nil
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// MarshalJSON writes a tokenizer.json that the tokenizers library (and Parse) load into the
// same tokenizer: the components as they were read, the vocabulary in id order and the
// merges in rank order.
func (t *Tokenizer) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"version":"1.0","truncation":null,"padding":`)
	writeRaw(&b, t.raw.padding)
	b.WriteString(`,"added_tokens":`)
	writeAdded(&b, t.added)
	for _, part := range []struct {
		name string
		raw  json.RawMessage
	}{{"normalizer", t.raw.normalizer}, {"pre_tokenizer", t.raw.preTokenizer}, {"post_processor", t.raw.postProcessor}, {"decoder", t.raw.decoder}} {
		b.WriteString(`,"` + part.name + `":`)
		writeRaw(&b, part.raw)
	}
	b.WriteString(`,"model":`)
	m := t.model
	ids := make([]int, 0, len(m.vocab))
	for id, ok := range m.present {
		if ok {
			ids = append(ids, id)
		}
	}
	writeModel(&b, modelHeader{m.unkToken, m.prefix, m.suffix, m.fuseUnk, m.byteFallback, m.ignoreMerges},
		ids, func(id int) string { return m.tokens[id] }, m.mergeList(), m.mergesAsPairs)
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// mergeList recovers the merges in rank order from the merge table.
func (m *bpeModel) mergeList() [][2]string {
	type ranked struct {
		rank uint32
		a, b int32
	}
	rs := make([]ranked, 0, len(m.merges))
	for k, v := range m.merges {
		rs = append(rs, ranked{uint32(v >> 32), int32(k >> 32), int32(uint32(k))})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].rank < rs[j].rank })
	out := make([][2]string, len(rs))
	for i, r := range rs {
		out[i] = [2]string{m.tokens[r.a], m.tokens[r.b]}
	}
	return out
}

func writeRaw(b *bytes.Buffer, raw json.RawMessage) {
	if isNull(raw) {
		b.WriteString("null")
		return
	}
	if err := json.Compact(b, raw); err != nil { // cannot fail: Parse checked it
		b.WriteString("null")
	}
}

func writeAdded(b *bytes.Buffer, added []AddedToken) {
	b.WriteByte('[')
	for i, a := range added {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(b, `{"id":%d,"content":%s,"single_word":%t,"lstrip":%t,"rstrip":%t,"normalized":%t,"special":%t}`,
			a.ID, appendJSONString(nil, a.Content), a.SingleWord, a.LStrip, a.RStrip, a.Normalized, a.Special)
	}
	b.WriteByte(']')
}

type modelHeader struct {
	unk, prefix, suffix                 *string
	fuseUnk, byteFallback, ignoreMerges bool
}

func writeModel(b *bytes.Buffer, h modelHeader, ids []int, token func(int) string, merges [][2]string, asPairs bool) {
	opt := func(s *string) string {
		if s == nil {
			return "null"
		}
		return string(appendJSONString(nil, *s))
	}
	fmt.Fprintf(b, `{"type":"BPE","dropout":null,"unk_token":%s,"continuing_subword_prefix":%s,"end_of_word_suffix":%s,"fuse_unk":%t,"byte_fallback":%t,"ignore_merges":%t,"vocab":{`,
		opt(h.unk), opt(h.prefix), opt(h.suffix), h.fuseUnk, h.byteFallback, h.ignoreMerges)
	var buf []byte
	for i, id := range ids {
		buf = buf[:0]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, token(id))
		buf = append(buf, ':')
		buf = strconv.AppendInt(buf, int64(id), 10)
		b.Write(buf)
	}
	b.WriteString(`},"merges":[`)
	for i, p := range merges {
		buf = buf[:0]
		if i > 0 {
			buf = append(buf, ',')
		}
		if asPairs {
			buf = append(buf, '[')
			buf = appendJSONString(buf, p[0])
			buf = append(buf, ',')
			buf = appendJSONString(buf, p[1])
			buf = append(buf, ']')
		} else {
			buf = appendJSONString(buf, p[0]+" "+p[1])
		}
		b.Write(buf)
	}
	b.WriteString("]}")
}

// appendJSONString appends s as a JSON string, leaving non-ASCII text unescaped (unlike
// encoding/json it does not escape <, > and &, which token texts are full of).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		case c < utf8.RuneSelf:
			dst = append(dst, c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
			continue
		}
		i++
	}
	return append(dst, '"')
}
