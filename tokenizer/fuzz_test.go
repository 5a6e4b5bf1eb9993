package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadEncode feeds corrupted tokenizer.json files and arbitrary text
// through Load, Encode and Decode: bad input must give an error, never a
// panic. The seeds are the tiny BPE tokenizer and the two fixtures.
func FuzzLoadEncode(f *testing.F) {
	seeds := []string{tiny}
	for _, name := range []string{"bert", "unigram"} {
		b, err := os.ReadFile(filepath.Join("testdata", name, "tokenizer.json"))
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, string(b))
	}
	for _, s := range seeds {
		f.Add([]byte(s), "Hello, wörld! <|end|> [MASK] 123 你好 😀\n\t")
		f.Add([]byte(strings.Replace(s, "}", "", 1)), "x")
	}
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		if len(data) > 1<<16 || len(text) > 1<<12 {
			return
		}
		tk, err := FromJSON("tokenizer.json", data, nil)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for _, special := range []bool{false, true} {
			ids, err := tk.Encode(text, special)
			if err != nil {
				continue
			}
			tk.Decode(ids)
			tk.DecodeWithSpecial(ids)
		}
		tk.Decode([]int{-1, 0, 1, 1 << 30})
		tk.VocabSize()
		tk.Prefix()
	})
}
