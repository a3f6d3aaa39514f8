// Package llamatest makes small, complete Hugging Face model folders for tests of the
// code above the runtime (the CLI, the engine): a random tiny Llama, a byte-level
// tokenizer whose every id decodes, and a chat template. Like net/http/httptest, it is
// only for tests.
package llamatest

import (
	"fmt"
	"os"
	"path/filepath"

	"seal/internal/shareddata"
	_ "seal/models/cpu" // the backend tests compute on unless DeviceEnv names another
	"seal/models/llama"
	"seal/models/tensor"
	"seal/models/tensor/stricttest"
	"seal/models/tokenizer"
)

// DeviceEnv names the environment variable that chooses the backend tests compute on
// (tensor.Open's names, or "strict" for the test backend whose memory the host cannot
// read; unset means "cpu"), so every suite above the runtime runs unchanged against
// another backend.
const DeviceEnv = "SEAL_TEST_DEVICE"

// Backend opens the backend tests compute on, from the registry ("strict" is
// stricttest's, which is no device and so not registered). A device this build cannot
// open panics: a test run that silently fell back would prove nothing.
func Backend() tensor.Backend {
	name := os.Getenv(DeviceEnv)
	if name == "" {
		name = "cpu"
	}
	if name == "strict" {
		return stricttest.New()
	}
	b, err := tensor.Open(name)
	if err != nil {
		panic(fmt.Sprintf("llamatest: $%s: %v", DeviceEnv, err))
	}
	return b
}

// Vocab is the folder's vocabulary size: 256 byte tokens and 256 added tokens
// "<t256>".."<t511>"; <t256> is BOS and <t257> EOS.
const Vocab = 512

// Folder writes a model folder into dir (created if needed) with random weights drawn
// from seed, and returns dir.
func Folder(dir string, seed uint64) (string, error) {
	c := &llama.Config{Arch: llama.ArchLlama, VocabSize: Vocab, HiddenSize: 32, IntermediateSize: 64, NumLayers: 2,
		NumHeads: 4, NumKVHeads: 2, HeadDim: 8, MaxPositions: 4096, RMSNormEps: 1e-5, RopeTheta: 10000,
		RopeScaling: llama.RopeScaling{Type: "default"}, TieWordEmbeddings: true, BOSTokenID: 256, EOSTokenIDs: []int{257}, PadTokenID: -1}
	if err := llama.NewRandom(c, Backend(), false, seed).Save(dir); err != nil {
		return "", err
	}
	if err := WriteTokenizer(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// WriteTokenizer writes tokenizer.json and tokenizer_config.json (with a chat template)
// for the 512-token byte-level vocabulary.
func WriteTokenizer(dir string) error {
	vocab := map[string]int{}
	for i, s := range ByteLevel() {
		vocab[s] = i
	}
	var added []tokenizer.AddedToken
	for id := 256; id < Vocab; id++ {
		added = append(added, tokenizer.AddedToken{ID: id, Content: fmt.Sprintf("<t%d>", id), Special: id < 260})
	}
	tok, err := tokenizer.New(vocab, nil, added, tokenizer.Options{Pattern: tokenizer.PatternLlama3})
	if err != nil {
		return err
	}
	js, err := tok.MarshalJSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), js, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"bos_token": "<t256>", "eos_token": "<t257>",
	"chat_template": "{% for m in messages %}<t300>{{ m.role }}:{{ m.content }}{% endfor %}{% if add_generation_prompt %}<t301>{% endif %}"}`), 0o644)
}

// ByteLevel is GPT-2's bytes_to_unicode: the printable stand-in for each byte that
// byte-level BPE vocabularies are written in.
func ByteLevel() []string {
	var out [256]string
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			out[b] = string(rune(b))
		} else {
			out[b] = string(rune(256 + n))
			n++
		}
	}
	return out[:]
}

// GoldenFolder writes a model folder from one of the golden fixtures (e.g.
// "llama32_tiny", weights made by transformers) with this package's tokenizer, for
// tests that want a real checkpoint rather than random weights. The fixture's
// vocabulary must be Vocab tokens.
func GoldenFolder(dir, fixture string) (string, error) {
	golden, err := shareddata.Golden()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(golden, fixture, f))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return "", err
		}
	}
	return dir, WriteTokenizer(dir)
}
