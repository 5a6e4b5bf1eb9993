// Package tokenizer reads Hugging Face tokenizer.json files and encodes and
// decodes text token for token as Hugging Face's tokenizers library does.
//
// The pipeline is Hugging Face's: added tokens are cut out of the raw text
// first, each remaining section is normalized (then normalized added tokens
// are cut out), pre-tokenized into words, and each word goes through the
// model (BPE, WordPiece, Unigram or WordLevel). The post-processor adds the
// template's special tokens when asked. Decoding maps ids to token strings
// and runs the decoder chain.
//
// It implements eval.Tokenizer but imports nothing else of painterc
// besides the internal helpers for reading inputs and quoting them.
package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/painterc/painterc/internal/safeio"
)

// Tokenizer is a loaded tokenizer.json. It is safe for concurrent use.
type Tokenizer struct {
	normalizer   normalizer
	preTokenizer preTokenizer
	model        model
	post         postProcessor
	decoder      decoderFn

	raw           *trie // added tokens matched on the raw text
	norm          *trie // added tokens matched after normalization
	hasNormTokens bool

	added    []addedToken
	idToTok  map[int]string
	tokToID  map[string]int
	special  map[int]bool
	bos      int
	hasBOS   bool
	eos      []int
	cleanUp  bool
	vocabLen int
}

type addedToken struct {
	id                         int
	content                    string
	singleWord, lstrip, rstrip bool
	normalized, special        bool
}

// Load reads a tokenizer.json, and the tokenizer_config.json beside it when
// there is one (bos_token, eos_token, add_bos_token, ...).
func Load(path string) (*Tokenizer, error) {
	data, err := safeio.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg *tokenConfig
	cfgPath := filepath.Join(filepath.Dir(path), "tokenizer_config.json")
	if cdata, err := safeio.ReadFile(cfgPath); err == nil {
		if cfg, err = parseTokenConfig(cfgPath, cdata); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return parse(path, data, cfg)
}

// FromJSON builds a tokenizer from the bytes of a tokenizer.json and,
// optionally, of a tokenizer_config.json (nil when there is none). name is
// the file name errors mention.
func FromJSON(name string, data, config []byte) (*Tokenizer, error) {
	var cfg *tokenConfig
	if config != nil {
		var err error
		if cfg, err = parseTokenConfig(strings.TrimSuffix(name, filepath.Base(name))+"tokenizer_config.json", config); err != nil {
			return nil, err
		}
	}
	return parse(name, data, cfg)
}

func parse(name string, data []byte, cfg *tokenConfig) (_ *Tokenizer, err error) {
	defer catchRegex(&err)
	file := name
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, jsonError(file, "", data, 0, err)
	}
	d := &decoder{file: file, data: data}
	var f fileJSON
	if err := d.decode("", data, &f); err != nil {
		return nil, err
	}
	t := &Tokenizer{tokToID: map[string]int{}, special: map[int]bool{}}
	if !isNull(f.Normalizer) {
		if t.normalizer, err = d.normalizer("normalizer", f.Normalizer); err != nil {
			return nil, err
		}
	}
	if !isNull(f.PreTokenizer) {
		if t.preTokenizer, err = d.preTokenizer("pre_tokenizer", f.PreTokenizer); err != nil {
			return nil, err
		}
	}
	if t.model, err = d.model("model", f.Model); err != nil {
		return nil, err
	}
	if !isNull(f.PostProcessor) {
		if t.post, err = d.postProcessor("post_processor", f.PostProcessor); err != nil {
			return nil, err
		}
	}
	if !isNull(f.Decoder) {
		if t.decoder, err = d.decoder("decoder", f.Decoder); err != nil {
			return nil, err
		}
	}

	// The id <-> token tables: the model's vocabulary, then added tokens.
	maxID := -1
	for _, id := range t.model.vocab() {
		maxID = max(maxID, id)
	}
	for i, a := range f.AddedTokens {
		if a.ID < 0 {
			return nil, d.errf(fmt.Sprintf("added_tokens[%d].id", i), "negative id %d", a.ID)
		}
		if a.Content == "" {
			return nil, d.errf(fmt.Sprintf("added_tokens[%d].content", i), "empty")
		}
		maxID = max(maxID, a.ID)
	}
	if maxID >= 1<<31-1 {
		return nil, d.errf("", "token id %d is too large", maxID)
	}
	t.vocabLen = maxID + 1
	t.idToTok = make(map[int]string, len(t.model.vocab())+len(f.AddedTokens))
	for tok, id := range t.model.vocab() {
		if id < 0 {
			return nil, d.errf("model.vocab", "token %q has negative id %d", tok, id)
		}
		// Several tokens may share an id in a broken file; keep one, the
		// same one every time.
		if old, dup := t.idToTok[id]; !dup || tok < old {
			t.idToTok[id] = tok
		}
		t.tokToID[tok] = id
	}
	t.raw, t.norm = newTrie(), newTrie()
	for _, a := range f.AddedTokens {
		at := addedToken{id: a.ID, content: a.Content, singleWord: a.SingleWord, lstrip: a.LStrip,
			rstrip: a.RStrip, special: a.Special, normalized: !a.Special}
		if a.Normalized != nil {
			at.normalized = *a.Normalized
		}
		t.added = append(t.added, at)
		t.idToTok[a.ID] = a.Content
		t.tokToID[a.Content] = a.ID
		if a.Special {
			t.special[a.ID] = true
		}
		idx := len(t.added) - 1
		if at.normalized && t.normalizer != nil {
			if n := t.normalizer(a.Content); n != "" {
				t.norm.add(n, idx)
				t.hasNormTokens = true
			}
		} else {
			t.raw.add(a.Content, idx)
		}
	}

	// tokenizer_config.json: bos/eos, and the template transformers
	// rebuilds for Llama and Gemma tokenizers from add_bos_token and
	// add_eos_token.
	if cfg != nil {
		t.cleanUp = cfg.CleanUp != nil && *cfg.CleanUp
		if cfg.hasBOS {
			if id, ok := t.tokToID[cfg.BOS]; ok {
				t.bos, t.hasBOS = id, true
			}
		}
		if cfg.hasEOS {
			if id, ok := t.tokToID[cfg.EOS]; ok {
				t.eos = []int{id}
			}
		}
		for _, s := range cfg.AdditionalSpecial {
			if id, ok := t.tokToID[s]; ok {
				t.special[id] = true
			}
		}
		switch strings.TrimSuffix(cfg.Class, "Fast") {
		case "LlamaTokenizer", "CodeLlamaTokenizer", "GemmaTokenizer":
			addBOS, addEOS := cfg.AddBOS == nil || *cfg.AddBOS, cfg.AddEOS != nil && *cfg.AddEOS
			var tmpl []int
			if addBOS && t.hasBOS {
				tmpl = append(tmpl, t.bos)
			}
			tmpl = append(tmpl, -1)
			if addEOS && len(t.eos) > 0 {
				tmpl = append(tmpl, t.eos[0])
			}
			t.post = templatePost(tmpl)
		}
	} else {
		t.guessSpecials()
	}
	return t, nil
}

// guessSpecials finds BOS and EOS by their usual names when no
// tokenizer_config.json says.
func (t *Tokenizer) guessSpecials() {
	for _, name := range []string{"<s>", "<bos>", "<|begin_of_text|>", "[CLS]"} {
		if id, ok := t.tokToID[name]; ok {
			t.bos, t.hasBOS = id, true
			break
		}
	}
	for _, name := range []string{"</s>", "<eos>", "<|end_of_text|>", "<|endoftext|>", "[SEP]"} {
		if id, ok := t.tokToID[name]; ok {
			t.eos = []int{id}
			break
		}
	}
}

// ---- added tokens ----

type trie struct {
	next  map[byte]*trie
	token int // index into added, -1 if none ends here
}

func newTrie() *trie { return &trie{token: -1} }

func (n *trie) add(s string, token int) {
	for i := 0; i < len(s); i++ {
		if n.next == nil {
			n.next = map[byte]*trie{}
		}
		c := n.next[s[i]]
		if c == nil {
			c = newTrie()
			n.next[s[i]] = c
		}
		n = c
	}
	if n.token < 0 {
		n.token = token
	}
}

// longest returns the longest token that starts s, and its length.
func (n *trie) longest(s string) (token, length int) {
	token = -1
	for i := 0; i < len(s) && n != nil; i++ {
		n = n.next[s[i]]
		if n != nil && n.token >= 0 {
			token, length = n.token, i+1
		}
	}
	return token, length
}

// section is a part of the text: an added token (token >= 0) or text.
type section struct {
	s       string
	token   int
	atStart bool
}

// isWordChar is the regex crate's \w, which single_word looks at.
func isWordChar(r rune) bool { return isWordRune(r) }

// splitAdded cuts the added tokens of tr out of s, leftmost-longest, with
// single_word, lstrip and rstrip as Hugging Face applies them.
func (t *Tokenizer) splitAdded(tr *trie, s string, atStart bool, out []section) []section {
	if tr.next == nil {
		return append(out, section{s: s, token: -1, atStart: atStart})
	}
	prev := 0
	for i := 0; i < len(s); {
		if tr.next[s[i]] == nil {
			i++
			continue
		}
		tok, n := tr.longest(s[i:])
		if tok < 0 {
			i++
			continue
		}
		a := t.added[tok]
		start, stop := i, i+n
		if a.singleWord {
			before, _ := utf8.DecodeLastRuneInString(s[:start])
			after, _ := utf8.DecodeRuneInString(s[stop:])
			if (start > 0 && isWordChar(before)) || (stop < len(s) && isWordChar(after)) {
				i = stop
				continue
			}
		}
		if a.lstrip {
			for start > prev {
				r, size := utf8.DecodeLastRuneInString(s[prev:start])
				if !unicode.IsSpace(r) {
					break
				}
				start -= size
			}
		}
		if a.rstrip {
			for stop < len(s) {
				r, size := utf8.DecodeRuneInString(s[stop:])
				if !unicode.IsSpace(r) {
					break
				}
				stop += size
			}
		}
		if start > prev {
			out = append(out, section{s: s[prev:start], token: -1, atStart: atStart && prev == 0})
		}
		out = append(out, section{s: s[start:stop], token: a.id, atStart: atStart && start == 0})
		prev, i = stop, stop
	}
	if prev < len(s) {
		out = append(out, section{s: s[prev:], token: -1, atStart: atStart && prev == 0})
	}
	return out
}

// ---- encoding ----

// Encode returns the ids of text. addSpecial adds the post-processor's
// special tokens (a leading BOS, [CLS] ... [SEP], ...), as Hugging Face's
// encode does by default. Special-token text in the input, such as "<s>",
// always becomes the special token, as in Hugging Face.
func (t *Tokenizer) Encode(text string, addSpecial bool) (ids []int, err error) {
	defer catchRegex(&err)
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	ids = make([]int, 0, len(text)/3+4)
	for _, sec := range t.splitAdded(t.raw, text, true, nil) {
		if sec.token >= 0 {
			ids = append(ids, sec.token)
			continue
		}
		s := sec.s
		if t.normalizer != nil {
			s = t.normalizer(s)
		}
		subs := []section{{s: s, token: -1, atStart: sec.atStart}}
		if t.hasNormTokens {
			subs = t.splitAdded(t.norm, s, sec.atStart, nil)
		}
		for _, sub := range subs {
			if sub.token >= 0 {
				ids = append(ids, sub.token)
				continue
			}
			if sub.s == "" {
				continue
			}
			words := []piece{{s: sub.s, atStart: sub.atStart}}
			if t.preTokenizer != nil {
				words = t.preTokenizer(words)
			}
			for _, w := range words {
				ids = t.model.tokenize(w.s, ids)
			}
		}
	}
	if addSpecial && t.post != nil {
		ids = t.post(ids)
	}
	return ids, nil
}

// ---- decoding ----

// Decode turns ids back into text, leaving out special tokens.
func (t *Tokenizer) Decode(ids []int) string { return t.decode(ids, true) }

// DecodeWithSpecial turns ids back into text, special tokens included.
func (t *Tokenizer) DecodeWithSpecial(ids []int) string { return t.decode(ids, false) }

func (t *Tokenizer) decode(ids []int, skipSpecial bool) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		tok, ok := t.idToTok[id]
		if !ok {
			continue // unknown ids are dropped, as Hugging Face does
		}
		if skipSpecial && t.special[id] {
			continue
		}
		toks = append(toks, tok)
	}
	var s string
	if t.decoder != nil {
		s = strings.Join(t.decoder(toks), "")
	} else {
		s = strings.Join(toks, " ")
	}
	if t.cleanUp {
		s = cleanUpSpaces(s)
	}
	return s
}

// ---- lookups ----

// TokenToID returns the id of a token string (vocabulary or added token).
func (t *Tokenizer) TokenToID(tok string) (int, bool) {
	id, ok := t.tokToID[tok]
	return id, ok
}

// IDToToken returns the token string of an id.
func (t *Tokenizer) IDToToken(id int) (string, bool) {
	tok, ok := t.idToTok[id]
	return tok, ok
}

// VocabSize counts every id the tokenizer can produce, added tokens
// included: one more than the largest id.
func (t *Tokenizer) VocabSize() int { return t.vocabLen }

// BOS returns the beginning-of-sequence id, if the tokenizer has one.
func (t *Tokenizer) BOS() (int, bool) { return t.bos, t.hasBOS }

// EOS returns the ids that end a sequence.
func (t *Tokenizer) EOS() []int { return append([]int(nil), t.eos...) }

// Prefix is lm-eval's prefix token: BOS when there is one, else EOS, else
// -1.
func (t *Tokenizer) Prefix() int {
	if t.hasBOS {
		return t.bos
	}
	if len(t.eos) > 0 {
		return t.eos[0]
	}
	return -1
}

// SpecialTokens lists the ids Decode leaves out, in order.
func (t *Tokenizer) SpecialTokens() []int {
	ids := make([]int, 0, len(t.special))
	for id := range t.special {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}
