package tokenizer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decoderFn rewrites the token strings on the way back to text; the
// results are concatenated at the end.
type decoderFn func([]string) []string

var decoderTypes = map[string]bool{
	"ByteLevel": true, "Metaspace": true, "ByteFallback": true, "Fuse": true,
	"Strip": true, "Replace": true, "WordPiece": true, "BPEDecoder": true, "Sequence": true,
}

func (d *decoder) decoder(path string, raw json.RawMessage) (decoderFn, error) {
	typ, err := d.typeOf(path, raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "ByteLevel":
		return func(toks []string) []string { return []string{byteLevelDecode(toks)} }, nil
	case "Metaspace":
		var c struct {
			Replacement    *string `json:"replacement"`
			PrependScheme  *string `json:"prepend_scheme"`
			AddPrefixSpace *bool   `json:"add_prefix_space"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		rep, scheme, err := d.metaspace(path, c.Replacement, c.PrependScheme, c.AddPrefixSpace)
		if err != nil {
			return nil, err
		}
		// As in Hugging Face's crate, every ▁ of the first token is dropped
		// (not only a leading one) unless prepend_scheme is "never".
		return func(toks []string) []string {
			out := make([]string, len(toks))
			for i, t := range toks {
				if i == 0 && scheme != "never" {
					t = strings.ReplaceAll(t, rep, "")
				} else {
					t = strings.ReplaceAll(t, rep, " ")
				}
				out[i] = t
			}
			return out
		}, nil
	case "ByteFallback":
		return byteFallbackDecode, nil
	case "Fuse":
		return func(toks []string) []string { return []string{strings.Join(toks, "")} }, nil
	case "Strip":
		var c struct {
			Content string `json:"content"`
			Start   int    `json:"start"`
			Stop    int    `json:"stop"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(c.Content) != 1 {
			return nil, d.errf(path+".content", "must be one character, not %q", c.Content)
		}
		return func(toks []string) []string {
			out := make([]string, len(toks))
			for i, t := range toks {
				for k := 0; k < c.Start && strings.HasPrefix(t, c.Content); k++ {
					t = t[len(c.Content):]
				}
				for k := 0; k < c.Stop && strings.HasSuffix(t, c.Content); k++ {
					t = t[:len(t)-len(c.Content)]
				}
				out[i] = t
			}
			return out
		}, nil
	case "Replace":
		var c struct {
			Pattern patternJSON `json:"pattern"`
			Content string      `json:"content"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		m, err := d.pattern(path+".pattern", c.Pattern)
		if err != nil {
			return nil, err
		}
		return func(toks []string) []string {
			out := make([]string, len(toks))
			for i, t := range toks {
				out[i] = replaceAll(m, t, c.Content)
			}
			return out
		}, nil
	case "WordPiece":
		var c struct {
			Prefix  *string `json:"prefix"`
			Cleanup *bool   `json:"cleanup"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		prefix := "##"
		if c.Prefix != nil {
			prefix = *c.Prefix
		}
		cleanup := c.Cleanup == nil || *c.Cleanup
		return func(toks []string) []string {
			out := make([]string, len(toks))
			for i, t := range toks {
				if i > 0 {
					if prefix != "" && strings.HasPrefix(t, prefix) {
						t = t[len(prefix):]
					} else {
						t = " " + t
					}
				}
				if cleanup {
					t = wordPieceCleanup(t)
				}
				out[i] = t
			}
			return out
		}, nil
	case "BPEDecoder":
		var c struct {
			Suffix *string `json:"suffix"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		suffix := "</w>"
		if c.Suffix != nil {
			suffix = *c.Suffix
		}
		return func(toks []string) []string {
			out := make([]string, len(toks))
			for i, t := range toks {
				rep := " "
				if i == len(toks)-1 {
					rep = ""
				}
				out[i] = strings.ReplaceAll(t, suffix, rep)
			}
			return out
		}, nil
	case "Sequence":
		var c struct {
			Decoders []json.RawMessage `json:"decoders"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		var seq []decoderFn
		for i, r := range c.Decoders {
			f, err := d.decoder(fmt.Sprintf("%s.decoders[%d]", path, i), r)
			if err != nil {
				return nil, err
			}
			seq = append(seq, f)
		}
		return func(toks []string) []string {
			for _, f := range seq {
				toks = f(toks)
			}
			return toks
		}, nil
	}
	return nil, unsupported(d, path, typ, decoderTypes)
}

// byteLevelDecode maps the GPT-2 characters back to bytes (a token with a
// character outside the table keeps its own bytes) and reads them as UTF-8,
// with U+FFFD for each maximal invalid subsequence.
func byteLevelDecode(toks []string) string {
	var buf []byte
	for _, t := range toks {
		start := len(buf)
		ok := true
		for _, r := range t {
			b, in := runeToByte[r]
			if !in {
				ok = false
				break
			}
			buf = append(buf, b)
		}
		if !ok {
			buf = append(buf[:start], t...)
		}
	}
	return lossyUTF8(buf)
}

// lossyUTF8 decodes b the way WHATWG's decoder and Rust's from_utf8_lossy
// do: each maximal prefix of a valid sequence that breaks off becomes one
// U+FFFD.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			sb.WriteRune(r)
			i += size
			continue
		}
		// Skip the longest prefix of b[i:] that could start a valid sequence.
		n := maximalSubpart(b[i:])
		sb.WriteRune(utf8.RuneError)
		i += n
	}
	return sb.String()
}

func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(b); k++ {
		x := b[n]
		if k == 0 {
			if x < lo || x > hi {
				break
			}
		} else if x < 0x80 || x > 0xBF {
			break
		}
		n++
	}
	return n
}

// byteFallbackDecode turns runs of <0xHH> tokens into text; a run that is
// not valid UTF-8 gives one U+FFFD per byte, as Hugging Face does.
func byteFallbackDecode(toks []string) []string {
	var out []string
	var run []byte
	flush := func() {
		if len(run) == 0 {
			return
		}
		if utf8.Valid(run) {
			out = append(out, string(run))
		} else {
			for range run {
				out = append(out, "\uFFFD")
			}
		}
		run = run[:0]
	}
	for _, t := range toks {
		if len(t) == 6 && strings.HasPrefix(t, "<0x") && t[5] == '>' {
			if v, err := strconv.ParseUint(t[3:5], 16, 8); err == nil {
				run = append(run, byte(v))
				continue
			}
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// cleanUpSpaces is transformers' clean_up_tokenization, applied one
// replacement after another as it does.
func cleanUpSpaces(s string) string { return replaceChain(s, cleanUpPairs) }

// wordPieceCleanup is the WordPiece decoder's cleanup in Hugging Face's Rust
// crate: the same list plus " do not" -> " don't".
func wordPieceCleanup(s string) string { return replaceChain(s, wordPiecePairs) }

var cleanUpPairs = []string{
	" .", ".", " ?", "?", " !", "!", " ,", ",", " ' ", "'", " n't", "n't",
	" 'm", "'m", " 's", "'s", " 've", "'ve", " 're", "'re",
}

var wordPiecePairs = []string{
	" .", ".", " ?", "?", " !", "!", " ,", ",", " ' ", "'", " n't", "n't",
	" 'm", "'m", " do not", " don't", " 's", "'s", " 've", "'ve", " 're", "'re",
}

func replaceChain(s string, pairs []string) string {
	for i := 0; i < len(pairs); i += 2 {
		if strings.Contains(s, pairs[i]) {
			s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
		}
	}
	return s
}
