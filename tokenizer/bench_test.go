package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchText is about 100 KB of mixed prose, code and other scripts, built
// from the referee strings.
func benchText() string {
	var b strings.Builder
	for b.Len() < 100_000 {
		for _, s := range refereeTexts() {
			b.WriteString(s)
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func benchTokenizer(b *testing.B, name string) *Tokenizer {
	b.Helper()
	path := filepath.Join(npmDir(), name, "models", "tokenizer.json")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("%s is missing; run `make tokenizers`", path)
	}
	tk, err := Load(path)
	if err != nil {
		b.Fatal(err)
	}
	return tk
}

// BenchmarkEncode measures encoding throughput on the real tokenizers:
// warm is with the BPE word cache filled (the usual case in a long run),
// cold empties the cache before every pass.
func BenchmarkEncode(b *testing.B) {
	text := benchText()
	for _, name := range []string{"llama2", "llama3", "qwen3", "gemma3"} {
		tk := benchTokenizer(b, name)
		for _, mode := range []string{"warm", "cold"} {
			b.Run(name+"/"+mode, func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				if _, err := tk.Encode(text, true); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for b.Loop() {
					if mode == "cold" {
						if m, ok := tk.model.(*bpeModel); ok {
							m.clearCache()
						}
					}
					tk.Encode(text, true)
				}
			})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	text := benchText()
	tk := benchTokenizer(b, "llama3")
	ids, _ := tk.Encode(text, false)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tk.Decode(ids)
	}
}

// BenchmarkLoad reads Gemma 3's 33 MB tokenizer.json (262k tokens, 515k
// merges).
func BenchmarkLoad(b *testing.B) {
	path := filepath.Join(npmDir(), "gemma3", "models", "tokenizer.json")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("%s is missing; run `make tokenizers`", path)
	}
	for b.Loop() {
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}
