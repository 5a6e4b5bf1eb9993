package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/painterc/painterc/eval"
)

var _ eval.Tokenizer = (*Tokenizer)(nil)

// Unit tests for the parts the referee cannot see: the Split behaviours the
// JavaScript port does not implement, Metaspace's split, error messages,
// and the eval.Tokenizer side.

func TestSplitBehaviors(t *testing.T) {
	// Hugging Face's documented example for SplitDelimiterBehavior.
	const s = "the-final--countdown"
	for _, c := range []struct {
		b      behavior
		invert bool
		want   []string
	}{
		{removed, false, []string{"the", "final", "countdown"}},
		{isolated, false, []string{"the", "-", "final", "-", "-", "countdown"}},
		{mergedWithPrevious, false, []string{"the-", "final-", "-", "countdown"}},
		{mergedWithNext, false, []string{"the", "-final", "-", "-countdown"}},
		{contiguous, false, []string{"the", "-", "final", "--", "countdown"}},
		{removed, true, []string{"-", "-", "-"}},
		{isolated, true, []string{"the", "-", "final", "-", "-", "countdown"}},
		{mergedWithPrevious, true, []string{"the", "-final", "-", "-countdown"}},
	} {
		got := splitBy(s, stringMatcher("-"), c.b, c.invert)
		if !slices.Equal(got, c.want) {
			t.Errorf("behavior %d invert %v: got %q, want %q", c.b, c.invert, got, c.want)
		}
	}
}

func pretok(t *testing.T, js, text string) []string {
	t.Helper()
	d := &decoder{file: "tokenizer.json"}
	p, err := d.preTokenizer("pre_tokenizer", json.RawMessage(js))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range p([]piece{{s: text, atStart: true}}) {
		out = append(out, w.s)
	}
	return out
}

func TestPreTokenizers(t *testing.T) {
	for _, c := range []struct {
		js, text string
		want     []string
	}{
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}`, "Hey friend!", []string{"▁Hey", "▁friend!"}},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":true}`, "Hey  friend", []string{"Hey", "▁", "▁friend"}},
		{`{"type":"Metaspace","replacement":"▁","add_prefix_space":true}`, "a b", []string{"▁a", "▁b"}},
		{`{"type":"Digits","individual_digits":true}`, "Call 123 please", []string{"Call ", "1", "2", "3", " please"}},
		{`{"type":"Digits","individual_digits":false}`, "Call 123 please", []string{"Call ", "123", " please"}},
		{`{"type":"Punctuation","behavior":"Isolated"}`, "Hey friend!?", []string{"Hey friend", "!", "?"}},
		{`{"type":"Punctuation","behavior":"Contiguous"}`, "Hey friend!?", []string{"Hey friend", "!?"}},
		{`{"type":"Whitespace"}`, "Hey friend!  ça va? ⒶⒷ\u200dx", []string{"Hey", "friend", "!", "ça", "va", "?", "ⒶⒷ\u200dx"}},
		{`{"type":"WhitespaceSplit"}`, " Hey\tfriend!\n", []string{"Hey", "friend!"}},
		{`{"type":"BertPreTokenizer"}`, "Hey, friend!", []string{"Hey", ",", "friend", "!"}},
		{`{"type":"CharDelimiterSplit","delimiter":"|"}`, "a|b||c ", []string{"a", "b", "c "}},
		{`{"type":"ByteLevel","add_prefix_space":true,"use_regex":true}`, "Hello there  x", []string{"ĠHello", "Ġthere", "Ġ", "Ġx"}},
		{`{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}`, "a b\n", []string{"aĠbĊ"}},
		{`{"type":"Split","pattern":{"Regex":"\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false}`, "a   b", []string{"a", "  ", " ", "b"}},
		{`{"type":"Split","pattern":{"String":" "},"behavior":"MergedWithPrevious","invert":false}`, "a b  c", []string{"a ", "b ", " ", "c"}},
		{`{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Digits","individual_digits":true}]}`, "ab12 c3", []string{"ab", "1", "2", "c", "3"}},
	} {
		if got := pretok(t, c.js, c.text); !slices.Equal(got, c.want) {
			t.Errorf("%s on %q: got %q, want %q", c.js, c.text, got, c.want)
		}
	}
}

// TestMetaspaceFirst: prepend_scheme "first" marks only the piece where the
// text began, so a section after a leading special token gets no ▁.
func TestMetaspaceFirst(t *testing.T) {
	tk, err := Load(filepath.Join("testdata", "unigram", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := tk.Encode("hello", false)
	b, _ := tk.Encode("<s>hello", false)
	if a[0] == b[1] || b[0] != 1 {
		t.Errorf("hello -> %v, <s>hello -> %v: want ▁hello only at the start", a, b)
	}
}

func TestNormalizers(t *testing.T) {
	d := &decoder{file: "tokenizer.json"}
	for _, c := range []struct{ js, in, want string }{
		{`{"type":"NFD"}`, "é", "e\u0301"},
		{`{"type":"NFKC"}`, "ﬁ①", "fi1"},
		{`{"type":"Lowercase"}`, "HeLLo İ", "hello i\u0307"},
		{`{"type":"StripAccents"}`, "e\u0301", "e"},
		{`{"type":"StripAccents"}`, "हिन्दी", "हनद"}, // Mc marks go too
		{`{"type":"BertNormalizer","clean_text":false,"handle_chinese_chars":false,"strip_accents":true,"lowercase":false}`, "हिन्दी", "हिनदी"}, // only Mn
		{`{"type":"Strip","strip_left":true,"strip_right":false}`, "  a  ", "a  "},
		{`{"type":"Prepend","prepend":"▁"}`, "a", "▁a"},
		{`{"type":"Prepend","prepend":"▁"}`, "", ""},
		{`{"type":"Replace","pattern":{"Regex":" {2,}"},"content":" "}`, "a    b  c", "a b c"},
		{`{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true}`, "Héllo\t你好\u200b\U000F0000", "hello  你  好 "}, // Cf and Co go
		{`{"type":"Sequence","normalizers":[{"type":"NFKD"},{"type":"Lowercase"}]}`, "Ⅻ", "xii"},
	} {
		n, err := d.normalizer("normalizer", json.RawMessage(c.js))
		if err != nil {
			t.Fatal(err)
		}
		if got := n(c.in); got != c.want {
			t.Errorf("%s(%q) = %q, want %q", c.js, c.in, got, c.want)
		}
	}
}

func TestDecoders(t *testing.T) {
	d := &decoder{file: "tokenizer.json"}
	for _, c := range []struct {
		js   string
		toks []string
		want string
	}{
		{`{"type":"ByteFallback"}`, []string{"a", "<0xE2>", "<0x82>", "<0xAC>", "b"}, "a€b"},
		// An invalid run gives one U+FFFD per byte.
		{`{"type":"ByteFallback"}`, []string{"a", "<0xE2>", "<0x82>", "<0xAC>", "<0xFF>", "b"}, "a\ufffd\ufffd\ufffd\ufffdb"},
		{`{"type":"ByteLevel"}`, []string{"Hello", "Ġw", "Ã¶", "rld"}, "Hello wörld"},
		{`{"type":"ByteLevel"}`, []string{"âĤ", "a"}, "\ufffda"}, // a cut-off € is one U+FFFD
		{`{"type":"Strip","content":" ","start":1,"stop":1}`, []string{"  a  "}, " a "},
		{`{"type":"WordPiece","prefix":"##","cleanup":true}`, []string{"un", "##aff", "##able", "!"}, "unaffable!"},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"always"}`, []string{"▁Hey", "▁friend"}, "Hey friend"},
		// Hugging Face drops every ▁ of the first token, not only a leading one.
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"first"}`, []string{"▁▁a▁b", "▁c"}, "ab c"},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"never"}`, []string{"▁a", "▁b"}, " a b"},
		{`{"type":"BPEDecoder","suffix":"</w>"}`, []string{"hel", "lo</w>", "there</w>"}, "hello there"},
	} {
		f, err := d.decoder("decoder", json.RawMessage(c.js))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(f(c.toks), ""); got != c.want {
			t.Errorf("%s(%q) = %q, want %q", c.js, c.toks, got, c.want)
		}
	}
}

// tiny is a complete small byte-level BPE tokenizer.json.
const tiny = `{
 "added_tokens": [{"id": 7, "content": "<|end|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                  {"id": 8, "content": "cat", "single_word": true, "lstrip": false, "rstrip": false, "normalized": false, "special": false}],
 "normalizer": null,
 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
 "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|end|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
   "special_tokens": {"<|end|>": {"id": "<|end|>", "ids": [7], "tokens": ["<|end|>"]}}},
 "decoder": {"type": "ByteLevel"},
 "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4, "c": 5, "abc": 6}, "merges": ["a b", ["Ġ", "ab"], "ab c"]}
}`

func TestTiny(t *testing.T) {
	tk, err := FromJSON("tokenizer.json", []byte(tiny), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in      string
		special bool
		want    []int
	}{
		{"ab abc", false, []int{2, 4, 5}},
		{"ab abc", true, []int{7, 2, 4, 5}},
		{"abc<|end|>ab", false, []int{6, 7, 2}},
		{"cat", false, []int{8}},
		{"a cat", false, []int{0, 3, 8}}, // the space before "cat" is its own pre-token
		{"cats", false, []int{5, 0}},     // single_word: no match inside a word (t, s are unknown)
		{"", true, []int{7}},
	} {
		got, err := tk.Encode(c.in, c.special)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q, %v) = %v, want %v", c.in, c.special, got, c.want)
		}
	}
	if got := tk.Decode([]int{7, 2, 4, 99, -1}); got != "ab ab" {
		t.Errorf("Decode = %q", got)
	}
	if got := tk.DecodeWithSpecial([]int{7, 2}); got != "<|end|>ab" {
		t.Errorf("DecodeWithSpecial = %q", got)
	}
	if tk.VocabSize() != 9 {
		t.Errorf("VocabSize = %d", tk.VocabSize())
	}
	if id, ok := tk.TokenToID("Ġab"); !ok || id != 4 {
		t.Errorf("TokenToID = %d %v", id, ok)
	}
	if s, ok := tk.IDToToken(8); !ok || s != "cat" {
		t.Errorf("IDToToken = %q %v", s, ok)
	}
}

// TestSpecialIDs reads bos/eos from tokenizer_config.json.
func TestSpecialIDs(t *testing.T) {
	tk, err := Load(filepath.Join("testdata", "unigram", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tk.BOS(); ok {
		t.Error("the unigram fixture has no bos_token")
	}
	if !slices.Equal(tk.EOS(), []int{2}) || tk.Prefix() != 2 {
		t.Errorf("EOS %v Prefix %d, want [2] 2", tk.EOS(), tk.Prefix())
	}
	// Llama's template comes from add_bos_token/add_eos_token, as
	// transformers rebuilds it.
	dir := t.TempDir()
	js := strings.Replace(tiny, `"id": 8, "content": "cat"`, `"id": 8, "content": "<s>"`, 1)
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(js), 0o644)
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"tokenizer_class": "LlamaTokenizerFast",
		"bos_token": {"content": "<s>"}, "eos_token": "<|end|>", "add_bos_token": true, "add_eos_token": true}`), 0o644)
	tk, err = Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := tk.Encode("ab", true); !slices.Equal(got, []int{8, 2, 7}) {
		t.Errorf("Encode with add_bos/add_eos = %v, want [8 2 7]", got)
	}
	if b, ok := tk.BOS(); !ok || b != 8 || tk.Prefix() != 8 {
		t.Errorf("BOS %d %v", b, ok)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct{ js, want string }{
		{`{"model": {"type": "BPE", "vocab": {}, "merges": []}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}, {"type": "Foo"}]}}`,
			`tokenizer.json: pre_tokenizer.pretokenizers[1]: type "Foo" is not supported (supported: BertPreTokenizer, ByteLevel, CharDelimiterSplit, Digits, Metaspace, Punctuation, Sequence, Split, Whitespace, WhitespaceSplit)`},
		{`{"model": {"type": "Mystery"}}`, `tokenizer.json: model: type "Mystery" is not supported (supported: BPE, Unigram, WordLevel, WordPiece)`},
		{`{"model": {"type": "BPE", "vocab": {}, "merges": []}, "normalizer": {"type": "Precompiled"}}`, `tokenizer.json: normalizer: type "Precompiled" is not supported`},
		{`{"model": {"type": "BPE", "vocab": {}, "merges": []}, "decoder": {"type": "CTC"}}`, `tokenizer.json: decoder: type "CTC" is not supported`},
		{`{"model": {"type": "BPE", "vocab": {}, "merges": []}, "post_processor": {"type": "Nope"}}`, `tokenizer.json: post_processor: type "Nope" is not supported`},
		{`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}`, `tokenizer.json: model.merges[0]: token "b" is not in the vocabulary`},
		{`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [1]}}`, `tokenizer.json: model: a merge must be`},
		{`{"model": {"type": "BPE", "vocab": {"a": "x"}}}`, `tokenizer.json: model.vocab: expected a JSON number, found string (byte offset`},
		{`{"model": {"type": "BPE", "vocab": {}, "merges": []}, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(["}, "behavior": "Isolated"}}`, `tokenizer.json: pre_tokenizer.pattern.Regex: cannot compile "(["`},
		{`{"model": {"type": "BPE", "vocab": {}, "merges": []}, "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways"}}`, `tokenizer.json: pre_tokenizer.behavior: "Sideways" is not a split behavior`},
		{`{"model": {"type": "BPE", "vocab": {}, "merges": []},` + "\n" + ` "normalizer": {"type": "NFC",}}`, `tokenizer.json: malformed JSON at byte offset 85 (line 2, column 31): invalid character '}'`},
		{`{"model": `, `tokenizer.json: malformed JSON: the file ends early, at byte offset 10 (is it truncated?)`},
		{`{}`, `tokenizer.json: model: missing`},
		{`{"model": {"type": "WordPiece", "vocab": {"a": 0}}}`, `tokenizer.json: model.unk_token: "[UNK]" is not in the vocabulary`},
	} {
		_, err := FromJSON("tokenizer.json", []byte(c.js), nil)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %s...", c.js, err, c.want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.json")); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("missing file: %v", err)
	}
}

// TestModels covers model options no npm tokenizer or fixture uses.
func TestModels(t *testing.T) {
	for _, c := range []struct {
		name, js, in string
		want         []int
	}{
		{"BPE fuse_unk", `{"model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "vocab": {"<unk>": 0, "a": 1}, "merges": []}}`, "a€€a€", []int{1, 0, 1, 0}},
		{"BPE unk, no fusing", `{"model": {"type": "BPE", "unk_token": "<unk>", "vocab": {"<unk>": 0, "a": 1}, "merges": []}}`, "a€€", []int{1, 0, 0}},
		{"BPE byte_fallback", `{"model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": true, "vocab": {"<unk>": 0, "a": 1, "<0xC3>": 2, "<0xA9>": 3}, "merges": []}}`, "aé€", []int{1, 2, 3, 0}},
		{"BPE ignore_merges", `{"model": {"type": "BPE", "ignore_merges": true, "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4}, "merges": ["a b"]}}`, "abc", []int{4}},
		{"BPE merges by rank", `{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4}, "merges": ["b c", "a b"]}}`, "abc", []int{0, 4}},
		{"BPE prefix and suffix", `{"model": {"type": "BPE", "continuing_subword_prefix": "##", "end_of_word_suffix": "</w>", "vocab": {"a": 0, "##b": 1, "##c</w>": 2, "ab": 3}, "merges": ["a ##b"]}}`, "abc", []int{3, 2}},
		{"WordLevel", `{"model": {"type": "WordLevel", "unk_token": "<unk>", "vocab": {"<unk>": 0, "hi": 1}}, "pre_tokenizer": {"type": "WhitespaceSplit"}}`, "hi there hi", []int{1, 0, 1}},
		{"WordPiece too long", `{"model": {"type": "WordPiece", "max_input_chars_per_word": 3, "vocab": {"[UNK]": 0, "a": 1, "##a": 2}}, "pre_tokenizer": {"type": "WhitespaceSplit"}}`, "aaa aaaa", []int{1, 2, 2, 0}},
		{"Unigram byte_fallback", `{"model": {"type": "Unigram", "unk_id": 0, "byte_fallback": true, "vocab": [["<unk>", 0], ["a", -1], ["<0xE2>", -5], ["<0x82>", -5], ["<0xAC>", -5]]}}`, "a€a", []int{1, 2, 3, 4, 1}},
		{"Unigram best path", `{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0], ["a", -1], ["b", -1], ["ab", -1.5], ["abc", -10], ["c", -2]]}}`, "abc", []int{3, 5}},
		{"Roberta", `{"model": {"type": "WordLevel", "unk_token": "<unk>", "vocab": {"<unk>": 3, "<s>": 0, "</s>": 2, "x": 5}}, "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0]}}`, "x", []int{0, 5, 2}},
		{"post Sequence", `{"model": {"type": "WordLevel", "unk_token": "<unk>", "vocab": {"<unk>": 3, "x": 5}}, "post_processor": {"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "eos", "type_id": 0}}], "special_tokens": {"eos": {"id": "eos", "ids": [9], "tokens": ["eos"]}}}]}}`, "x", []int{5, 9}},
	} {
		tk, err := FromJSON("tokenizer.json", []byte(c.js), nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got, _ := tk.Encode(c.in, true); !slices.Equal(got, c.want) {
			t.Errorf("%s: Encode(%q) = %v, want %v", c.name, c.in, got, c.want)
		}
	}
}

// TestAddedTokenOptions checks lstrip and rstrip, which absorb the
// whitespace beside the token, and normalized tokens, which are matched
// after the normalizer.
func TestAddedTokenOptions(t *testing.T) {
	js := `{
	 "added_tokens": [
	  {"id": 10, "content": "<L>", "lstrip": true, "rstrip": false, "normalized": false, "special": true},
	  {"id": 11, "content": "<R>", "lstrip": false, "rstrip": true, "normalized": false, "special": true},
	  {"id": 12, "content": "Hey", "normalized": true, "special": false}],
	 "normalizer": {"type": "Lowercase"},
	 "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Isolated", "invert": false},
	 "model": {"type": "WordLevel", "unk_token": "?", "vocab": {"?": 0, " ": 1, "a": 2, "b": 3}}}`
	tk, err := FromJSON("tokenizer.json", []byte(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   string
		want []int
	}{
		{"a  <L> b", []int{2, 10, 1, 3}},
		{"a <R>  b", []int{2, 1, 11, 3}},
		{"a HEY b", []int{2, 1, 12, 1, 3}}, // "HEY" lowercases to "hey", the token's normalized form
		{"<L><R>", []int{10, 11}},
	} {
		if got, _ := tk.Encode(c.in, false); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	if got := tk.Decode([]int{12, 10, 2}); got != "Hey a" {
		t.Errorf("Decode = %q", got)
	}
}

// TestConcurrentEncode: a Tokenizer is shared by goroutines (go test -race).
func TestConcurrentEncode(t *testing.T) {
	tk, err := Load(filepath.Join("testdata", "bert", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	texts := refereeTexts()[:100]
	want := make([][]int, len(texts))
	for i, s := range texts {
		want[i], _ = tk.Encode(s, true)
	}
	tkBPE, err := FromJSON("tokenizer.json", []byte(tiny), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for g := range 4 {
		go func() {
			for i := range texts {
				j := (i + g*17) % len(texts)
				got, _ := tk.Encode(texts[j], true)
				if !slices.Equal(got, want[j]) {
					done <- fmt.Errorf("goroutine %d, %q: %v, want %v", g, texts[j], got, want[j])
					return
				}
				tkBPE.Encode(texts[j], false)
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
