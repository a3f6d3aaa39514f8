package tokenizer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tinyDoc is a minimal valid tokenizer.json with parts replaced by the caller.
func tinyDoc(repl ...string) string {
	doc := `{"added_tokens":ADDED,"normalizer":NORM,"pre_tokenizer":PRE,"post_processor":POST,"decoder":DEC,"truncation":TRUNC,` +
		`"model":{"type":"BPE","dropout":DROPOUT,"vocab":VOCAB,"merges":MERGES}}`
	def := map[string]string{"ADDED": "[]", "NORM": "null", "PRE": `{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}`,
		"POST": "null", "DEC": `{"type":"ByteLevel"}`, "TRUNC": "null", "DROPOUT": "null",
		"VOCAB": `{"a":0,"b":1,"ab":2}`, "MERGES": `["a b"]`}
	for i := 0; i+1 < len(repl); i += 2 {
		def[repl[i]] = repl[i+1]
	}
	for k, v := range def {
		doc = strings.Replace(doc, k, v, 1)
	}
	return doc
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		doc, want string
	}{
		{`{"model":`, "tokenizer.json: unexpected end of JSON input"},
		{`[1,2]`, "tokenizer.json: json: cannot unmarshal array"},
		{`{}`, "missing model"},
		{`{"model":null}`, "missing model"},
		{`{"model":{"type":"Unigram","vocab":[["a",0.0]]}}`, `unsupported model type "Unigram"`},
		{`{"model":{"vocab":{}}}`, "only BPE models are supported"},
		{`{"model":{"type":"BPE","merges":[]}}`, "model.vocab is missing"},
		{`{"model":{"type":"BPE","vocab":{}}}`, "model.merges is missing"},
		{tinyDoc("VOCAB", `[]`), `model.vocab: expected '{'`},
		{tinyDoc("VOCAB", `{"a":"x"}`), `model.vocab: token "a": expected an integer id`},
		{tinyDoc("VOCAB", `{"a":1.5}`), `model.vocab: token "a": expected an integer id`},
		{tinyDoc("VOCAB", `{"a":-1}`), `negative id -1`},
		{tinyDoc("VOCAB", `{"a":0,"b":0,"ab":2}`), `model.vocab: tokens "a" and "b" share id 0`},
		{tinyDoc("VOCAB", `{"a":0,"b":1,"ab":99999999}`), `model.vocab: id 99999999 out of range for 3 tokens`},
		{tinyDoc("VOCAB", `{"a":0,"b":1,"ab":3000000000}`), `out of range`},
		{tinyDoc("VOCAB", `{"a":0,"a":1}`), `token "a" appears twice`},
		{tinyDoc("MERGES", `["a c"]`), `model.merges[0] ("a" "c"): "c" is not in the vocabulary`},
		{tinyDoc("MERGES", `["a b","b a"]`), `model.merges[1] ("b" "a"): merged token "ba" is not in the vocabulary`},
		{tinyDoc("MERGES", `["ab"]`), `model.merges: entry 0: "ab" is not two tokens separated by one space`},
		{tinyDoc("MERGES", `["a b c"]`), `not two tokens separated by one space`},
		{tinyDoc("MERGES", `[["a"]]`), `model.merges: entry 0 is not a pair of strings`},
		{tinyDoc("MERGES", `[1]`), `entry 0: expected a string or a pair of strings`},
		{tinyDoc("MERGES", `{}`), `model.merges: expected '['`},
		{tinyDoc("DROPOUT", `0.1`), `dropout 0.1`},
		{tinyDoc("TRUNC", `{"max_length":5}`), `truncation`},
		{tinyDoc("ADDED", `[{"id":3,"content":""}]`), `added_tokens[0] (id 3) has empty content`},
		{tinyDoc("ADDED", `[{"content":"x"}]`), `needs an id and a content`},
		{tinyDoc("ADDED", `[{"id":"3","content":"x"}]`), `cannot unmarshal string`},
		{tinyDoc("ADDED", `[{"id":-3,"content":"x"}]`), `negative id -3`},
		{tinyDoc("ADDED", `[{"id":3,"content":"x"},{"id":3,"content":"y"}]`), `share id 3`},
		{tinyDoc("ADDED", `[{"id":3,"content":"x"},{"id":4,"content":"x"}]`), `both have content "x"`},
		{tinyDoc("ADDED", `[{"id":1,"content":"x"}]`), `has id 1, which the vocabulary gives to "b"`},
		{tinyDoc("ADDED", `[{"id":7,"content":"ab"}]`), `"ab" has id 7 but the vocabulary gives it id 2`},
		{tinyDoc("ADDED", `[{"id":1000,"content":"x"}]`), `has id 1000 out of range: the tokenizers library would give it id 3`},
		{tinyDoc("NORM", `{"type":"Lowercase"}`), `unsupported normalizer "Lowercase"`},
		{tinyDoc("NORM", `{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Strip"}]}`), `unsupported normalizer "Strip"`},
		{tinyDoc("PRE", `{"type":"Metaspace"}`), `unsupported pre_tokenizer "Metaspace"`},
		{tinyDoc("PRE", `{"type":"Split","pattern":{"Regex":"\\s+(?!\\S)"},"behavior":"Isolated","invert":false}`), `uses lookaround`},
		{tinyDoc("PRE", `{"type":"Split","pattern":{"Regex":"(a"},"behavior":"Isolated","invert":false}`), `not supported by Go's regexp`},
		{tinyDoc("PRE", `{"type":"Split","pattern":{"Regex":"a"},"behavior":"Sideways","invert":false}`), `unknown behavior "Sideways"`},
		{tinyDoc("PRE", `{"type":"Split","pattern":{"Glob":"a"},"behavior":"Isolated"}`), `pattern must be`},
		{tinyDoc("DEC", `{"type":"WordPiece"}`), `unsupported decoder "WordPiece"`},
		{tinyDoc("POST", `{"type":"Magic"}`), `unsupported post_processor "Magic"`},
		{tinyDoc("POST", `{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"special_tokens":{}}`), `missing special token "<s>"`},
		{tinyDoc("POST", `{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}}],"special_tokens":{"<s>":{"id":"<s>","ids":[77],"tokens":["<s>"]}}}`), `has id 77, which is not in the vocabulary`},
	} {
		_, err := Parse([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s)\n error %v\n want it to contain %q", c.doc, err, c.want)
		}
	}
}

func TestLoadErrorsNameFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "tokenizer.json")
	if err := os.WriteFile(bad, []byte(tinyDoc("MERGES", `["a c"]`)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), `"c" is not in the vocabulary`) {
		t.Errorf("Load(bad) error = %v", err)
	}
	missing := filepath.Join(dir, "nope.json")
	if _, err := Load(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(missing) error = %v", err)
	}
}

// TestOtherPreTokenizers covers Split behaviours, invert, String patterns, a pattern run by
// Go's regexp, Digits and ByteLevel's own options.
func TestOtherPreTokenizers(t *testing.T) {
	split := func(pattern, behavior string, invert bool) string {
		return `{"type":"Split","pattern":` + pattern + `,"behavior":"` + behavior + `","invert":` + map[bool]string{true: "true", false: "false"}[invert] + `}`
	}
	for _, c := range []struct {
		pre  string
		in   string
		want []string
	}{
		{split(`{"String":"-"}`, "Removed", false), "the-final--countdown", []string{"the", "final", "countdown"}},
		{split(`{"String":"-"}`, "Isolated", false), "the-final--countdown", []string{"the", "-", "final", "-", "-", "countdown"}},
		{split(`{"String":"-"}`, "MergedWithPrevious", false), "the-final--countdown", []string{"the-", "final-", "-", "countdown"}},
		{split(`{"String":"-"}`, "MergedWithNext", false), "the-final--countdown", []string{"the", "-final", "-", "-countdown"}},
		{split(`{"String":"-"}`, "Contiguous", false), "the-final--countdown", []string{"the", "-", "final", "--", "countdown"}},
		{split(`{"Regex":"\\s+"}`, "Removed", false), "a  b\u00a0c", []string{"a", "b", "c"}}, // \s is Unicode
		{split(`{"Regex":"\\w+"}`, "Removed", true), "héllo, wörld", []string{"héllo", "wörld"}},
		{split(`{"Regex":"\\d"}`, "Isolated", false), "a12٣", []string{"a", "1", "2", "٣"}},
		{`{"type":"Digits","individual_digits":true}`, "ab123c4", []string{"ab", "1", "2", "3", "c", "4"}},
		{`{"type":"Digits","individual_digits":false}`, "ab123c4", []string{"ab", "123", "c", "4"}},
		{`{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},{"type":"ByteLevel","add_prefix_space":true,"use_regex":true}]}`,
			"hi 12 you", []string{"Ġhi", "Ġ", "Ġ1", "Ġ2", "Ġyou"}}, // the prefix space goes on every split
		{`{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}`, "a b", []string{"aĠb"}},
	} {
		stages, err := parsePreTokenizer([]byte(c.pre))
		if err != nil {
			t.Fatalf("%s: %v", c.pre, err)
		}
		var got []string
		for _, p := range preTokenize(stages, c.in, &pieceBufs{}) {
			got = append(got, p.text())
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s on %q\n got %q\nwant %q", c.pre, c.in, got, c.want)
		}
	}
}
