package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"seal/internal/shareddata"
)

// llama31Post is the post-processor real Llama 3.x checkpoints ship: ByteLevel, then a
// template that puts <|begin_of_text|> first.
const llama31Post = `{"type":"Sequence","processors":[
 {"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true},
 {"type":"TemplateProcessing",
  "single":[{"SpecialToken":{"id":"<|begin_of_text|>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
  "pair":[{"SpecialToken":{"id":"<|begin_of_text|>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"<|begin_of_text|>","type_id":1}},{"Sequence":{"id":"B","type_id":1}}],
  "special_tokens":{"<|begin_of_text|>":{"id":"<|begin_of_text|>","ids":[128000],"tokens":["<|begin_of_text|>"]}}}]}`

// TestLlamaTemplateBOS: with the checkpoint post-processor, EncodeSpecial adds BOS the way
// HF encode(text) does, and Encode (add_special_tokens=False) does not.
func TestLlamaTemplateBOS(t *testing.T) {
	dir := shareddata.PathOrSkip(t, "data", "tokenizers", "llama3")
	data, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["post_processor"] = json.RawMessage(llama31Post)
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.EncodeSpecial("Hello, world!"), []int{128000, 9906, 11, 1917, 0}; !slices.Equal(got, want) {
		t.Errorf("EncodeSpecial = %v, want %v", got, want)
	}
	if got, want := tok.Encode("Hello, world!"), []int{9906, 11, 1917, 0}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if s, err := tok.DecodeSkipSpecial(tok.EncodeSpecial("Hello, world!")); err != nil || s != "Hello, world!" {
		t.Errorf("DecodeSkipSpecial = %q, %v", s, err)
	}
	sum := tok.Summary()
	if sum.PostProcessor != "ByteLevel, TemplateProcessing(<|begin_of_text|> $A)" || sum.SpecialTokens != 256 || sum.Normalizer != "none" {
		t.Errorf("Summary = %+v", sum)
	}
}

// TestConcurrentEncode shares one tokenizer (and its word cache) between goroutines.
func TestConcurrentEncode(t *testing.T) {
	tok := sharedTokenizer(t, "qwen3")
	texts := []string{benchProse(20000), "Unicode: café naïve résumé Ω≈ç√∫ 中文分词测试", "<|im_start|>user\nhi<|im_end|>"}
	want := make([][]int, len(texts))
	for i, s := range texts {
		want[i] = tok.Encode(s)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 20 {
				i := (g + k) % len(texts)
				if got := tok.Encode(texts[i]); !slices.Equal(got, want[i]) {
					t.Errorf("goroutine %d: Encode(text %d) differs", g, i)
					return
				}
			}
		}()
	}
	wg.Wait()
}
