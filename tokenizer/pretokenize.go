package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// piece is one pre-token. atStart says that it begins where the whole input
// began, which Metaspace's prepend_scheme "first" looks at.
type piece struct {
	s       string
	atStart bool
}

// preTokenizer splits pieces into smaller pieces.
type preTokenizer func([]piece) []piece

// behavior is what Split does with the matches of its pattern.
type behavior int

const (
	removed behavior = iota
	isolated
	mergedWithPrevious
	mergedWithNext
	contiguous
)

var behaviors = map[string]behavior{
	"Removed": removed, "Isolated": isolated, "MergedWithPrevious": mergedWithPrevious,
	"MergedWithNext": mergedWithNext, "Contiguous": contiguous,
}

// splitBy cuts s at the matches of m the way Hugging Face's
// NormalizedString::split does: the matches and the gaps between them
// alternate, invert swaps their roles, and b says how matches join their
// neighbours. Empty pieces are dropped.
func splitBy(s string, m matcher, b behavior, invert bool) []string {
	type span struct {
		a, b  int
		match bool
	}
	var spans []span
	prev := 0
	for _, r := range m.find(s) {
		if r[0] > prev {
			spans = append(spans, span{prev, r[0], invert})
		}
		spans = append(spans, span{r[0], r[1], !invert})
		prev = r[1]
	}
	if prev < len(s) {
		spans = append(spans, span{prev, len(s), invert})
	}
	var out []span
	switch b {
	case removed:
		for _, sp := range spans {
			if !sp.match {
				out = append(out, sp)
			}
		}
	case isolated:
		out = spans
	case mergedWithPrevious:
		prevMatch := false
		for _, sp := range spans {
			if sp.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].b = sp.b
			} else {
				out = append(out, sp)
			}
			prevMatch = sp.match
		}
	case mergedWithNext:
		prevMatch := false
		for i := len(spans) - 1; i >= 0; i-- {
			sp := spans[i]
			if sp.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].a = sp.a
			} else {
				out = append(out, sp)
			}
			prevMatch = sp.match
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	case contiguous:
		prevMatch := false
		for i, sp := range spans {
			if i > 0 && sp.match == prevMatch {
				out[len(out)-1].b = sp.b
			} else {
				out = append(out, sp)
			}
			prevMatch = sp.match
		}
	}
	res := make([]string, 0, len(out))
	for _, sp := range out {
		if sp.b > sp.a {
			res = append(res, s[sp.a:sp.b])
		}
	}
	return res
}

// splitEach applies f to every piece; the first part of a piece keeps its
// atStart.
func splitEach(in []piece, f func(string) []string) []piece {
	out := make([]piece, 0, len(in))
	for _, p := range in {
		for i, s := range f(p.s) {
			out = append(out, piece{s: s, atStart: p.atStart && i == 0})
		}
	}
	return out
}

var preTokenizerTypes = map[string]bool{
	"ByteLevel": true, "Split": true, "Metaspace": true, "BertPreTokenizer": true,
	"Whitespace": true, "WhitespaceSplit": true, "Punctuation": true, "Digits": true,
	"CharDelimiterSplit": true, "Sequence": true,
}

// gpt2Pattern is the split ByteLevel's use_regex applies.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

func (d *decoder) behavior(path, name string) (behavior, error) {
	b, ok := behaviors[name]
	if !ok {
		return 0, d.errf(path+".behavior", "%q is not a split behavior (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)", name)
	}
	return b, nil
}

func (d *decoder) preTokenizer(path string, raw json.RawMessage) (preTokenizer, error) {
	typ, err := d.typeOf(path, raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "ByteLevel":
		var c struct {
			AddPrefixSpace *bool `json:"add_prefix_space"`
			UseRegex       *bool `json:"use_regex"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		prefix := c.AddPrefixSpace == nil || *c.AddPrefixSpace
		var re matcher
		if c.UseRegex == nil || *c.UseRegex {
			re, _ = knownScanner(gpt2Pattern)
		}
		return func(in []piece) []piece {
			return splitEach(in, func(s string) []string {
				if prefix && !strings.HasPrefix(s, " ") {
					s = " " + s
				}
				parts := []string{s}
				if re != nil {
					parts = splitBy(s, re, isolated, false)
				}
				for i, p := range parts {
					parts[i] = byteLevelEncode(p)
				}
				return parts
			})
		}, nil
	case "Split":
		var c struct {
			Pattern  patternJSON `json:"pattern"`
			Behavior string      `json:"behavior"`
			Invert   bool        `json:"invert"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		m, err := d.pattern(path+".pattern", c.Pattern)
		if err != nil {
			return nil, err
		}
		b, err := d.behavior(path, c.Behavior)
		if err != nil {
			return nil, err
		}
		return func(in []piece) []piece {
			return splitEach(in, func(s string) []string { return splitBy(s, m, b, c.Invert) })
		}, nil
	case "Metaspace":
		var c struct {
			Replacement    *string `json:"replacement"`
			PrependScheme  *string `json:"prepend_scheme"`
			AddPrefixSpace *bool   `json:"add_prefix_space"`
			Split          *bool   `json:"split"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		rep, scheme, err := d.metaspace(path, c.Replacement, c.PrependScheme, c.AddPrefixSpace)
		if err != nil {
			return nil, err
		}
		split := c.Split == nil || *c.Split
		return func(in []piece) []piece {
			out := make([]piece, 0, len(in))
			for _, p := range in {
				s := strings.ReplaceAll(p.s, " ", rep)
				if !strings.HasPrefix(s, rep) && (scheme == "always" || scheme == "first" && p.atStart) {
					s = rep + s
				}
				parts := []string{s}
				if split {
					parts = splitBy(s, stringMatcher(rep), mergedWithNext, false)
				}
				for i, q := range parts {
					out = append(out, piece{s: q, atStart: p.atStart && i == 0})
				}
			}
			return out
		}, nil
	case "BertPreTokenizer":
		return func(in []piece) []piece {
			return splitEach(in, func(s string) []string {
				var out []string
				for _, w := range splitBy(s, funcMatcher(unicode.IsSpace), removed, false) {
					out = append(out, splitBy(w, funcMatcher(isBertPunct), isolated, false)...)
				}
				return out
			})
		}, nil
	case "Whitespace":
		return func(in []piece) []piece { return splitEach(in, whitespaceSplit) }, nil
	case "WhitespaceSplit":
		return func(in []piece) []piece {
			return splitEach(in, func(s string) []string {
				return splitBy(s, funcMatcher(unicode.IsSpace), removed, false)
			})
		}, nil
	case "Punctuation":
		var c struct {
			Behavior *string `json:"behavior"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		b := isolated
		if c.Behavior != nil {
			if b, err = d.behavior(path, *c.Behavior); err != nil {
				return nil, err
			}
		}
		return func(in []piece) []piece {
			return splitEach(in, func(s string) []string { return splitBy(s, funcMatcher(isBertPunct), b, false) })
		}, nil
	case "Digits":
		var c struct {
			Individual bool `json:"individual_digits"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		b := contiguous
		if c.Individual {
			b = isolated
		}
		isNum := funcMatcher(func(r rune) bool { return unicode.IsNumber(r) })
		return func(in []piece) []piece {
			return splitEach(in, func(s string) []string { return splitBy(s, isNum, b, false) })
		}, nil
	case "CharDelimiterSplit":
		var c struct {
			Delimiter string `json:"delimiter"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(c.Delimiter) != 1 {
			return nil, d.errf(path+".delimiter", "must be one character, not %q", c.Delimiter)
		}
		return func(in []piece) []piece {
			return splitEach(in, func(s string) []string { return splitBy(s, stringMatcher(c.Delimiter), removed, false) })
		}, nil
	case "Sequence":
		var c struct {
			PreTokenizers []json.RawMessage `json:"pretokenizers"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		var seq []preTokenizer
		for i, r := range c.PreTokenizers {
			p, err := d.preTokenizer(fmt.Sprintf("%s.pretokenizers[%d]", path, i), r)
			if err != nil {
				return nil, err
			}
			seq = append(seq, p)
		}
		return func(in []piece) []piece {
			for _, p := range seq {
				in = p(in)
			}
			return in
		}, nil
	}
	return nil, unsupported(d, path, typ, preTokenizerTypes)
}

// metaspace reads the options Metaspace's pre-tokenizer and decoder share;
// old files say add_prefix_space instead of prepend_scheme.
func (d *decoder) metaspace(path string, replacement, scheme *string, addPrefix *bool) (string, string, error) {
	rep := "▁"
	if replacement != nil {
		rep = *replacement
	}
	if rep == "" || utf8.RuneCountInString(rep) != 1 {
		return "", "", d.errf(path+".replacement", "must be one character, not %q", rep)
	}
	sc := "always"
	switch {
	case scheme != nil:
		sc = *scheme
		if sc != "always" && sc != "first" && sc != "never" {
			return "", "", d.errf(path+".prepend_scheme", "%q is not one of always, first, never", sc)
		}
	case addPrefix != nil && !*addPrefix:
		sc = "never"
	}
	return rep, sc, nil
}

// isBertPunct is BERT's punctuation: ASCII symbols and Unicode P*.
func isBertPunct(r rune) bool {
	if (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126) {
		return true
	}
	return unicode.IsPunct(r)
}

// isWordRune is the regex crate's Unicode \w: Alphabetic (letters, Nl and
// Other_Alphabetic such as Ⓐ), marks, decimal digits, connector
// punctuation and the two joiners.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) ||
		unicode.Is(unicode.Pc, r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) ||
		r == 0x200C || r == 0x200D
}

// whitespaceSplit is the Whitespace pre-tokenizer, `\w+|[^\w\s]+`.
func whitespaceSplit(s string) []string {
	var out []string
	start, kind := -1, 0 // kind 1: word run, 2: other run
	for i, r := range s {
		k := 2
		switch {
		case isWordRune(r):
			k = 1
		case unicode.IsSpace(r):
			k = 0
		}
		if k != kind {
			if kind != 0 {
				out = append(out, s[start:i])
			}
			start, kind = i, k
		}
	}
	if kind != 0 {
		out = append(out, s[start:])
	}
	return out
}

// The GPT-2 byte-to-unicode table: printable bytes stand for themselves and
// the rest move to U+0100 and up.
var byteToRune, runeToByte = func() ([256]rune, map[rune]byte) {
	var t [256]rune
	rev := map[rune]byte{}
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			t[b] = rune(b)
		} else {
			t[b] = rune(256 + n)
			n++
		}
		rev[t[b]] = byte(b)
	}
	return t, rev
}()

func byteLevelEncode(s string) string {
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		b.WriteRune(byteToRune[s[i]])
	}
	return b.String()
}
