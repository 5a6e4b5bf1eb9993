package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a section of text before pre-tokenization. Only ids
// matter here, so no offsets are tracked.
type normalizer func(string) string

var normalizerTypes = map[string]bool{
	"NFC": true, "NFD": true, "NFKC": true, "NFKD": true, "Lowercase": true,
	"Strip": true, "StripAccents": true, "Replace": true, "Prepend": true,
	"BertNormalizer": true, "Sequence": true,
}

func (d *decoder) normalizer(path string, raw json.RawMessage) (normalizer, error) {
	typ, err := d.typeOf(path, raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "NFC":
		return norm.NFC.String, nil
	case "NFD":
		return norm.NFD.String, nil
	case "NFKC":
		return norm.NFKC.String, nil
	case "NFKD":
		return norm.NFKD.String, nil
	case "Lowercase":
		return lowercase, nil
	case "StripAccents":
		return stripMarks, nil
	case "Strip":
		var c struct {
			Left  *bool `json:"strip_left"`
			Right *bool `json:"strip_right"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		left, right := c.Left == nil || *c.Left, c.Right == nil || *c.Right
		return func(s string) string {
			if left {
				s = strings.TrimLeftFunc(s, unicode.IsSpace)
			}
			if right {
				s = strings.TrimRightFunc(s, unicode.IsSpace)
			}
			return s
		}, nil
	case "Prepend":
		var c struct {
			Prepend string `json:"prepend"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		return func(s string) string {
			if s == "" {
				return s
			}
			return c.Prepend + s
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
		return func(s string) string { return replaceAll(m, s, c.Content) }, nil
	case "BertNormalizer":
		var c struct {
			CleanText    *bool `json:"clean_text"`
			ChineseChars *bool `json:"handle_chinese_chars"`
			StripAccents *bool `json:"strip_accents"`
			Lowercase    *bool `json:"lowercase"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		def := func(b *bool) bool { return b == nil || *b }
		clean, chinese, lower := def(c.CleanText), def(c.ChineseChars), def(c.Lowercase)
		// strip_accents null follows lowercase, as in BERT.
		strip := lower
		if c.StripAccents != nil {
			strip = *c.StripAccents
		}
		return func(s string) string { return bertNormalize(s, clean, chinese, strip, lower) }, nil
	case "Sequence":
		var c struct {
			Normalizers []json.RawMessage `json:"normalizers"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		var seq []normalizer
		for i, r := range c.Normalizers {
			n, err := d.normalizer(fmt.Sprintf("%s.normalizers[%d]", path, i), r)
			if err != nil {
				return nil, err
			}
			seq = append(seq, n)
		}
		return func(s string) string {
			for _, n := range seq {
				s = n(s)
			}
			return s
		}, nil
	}
	return nil, unsupported(d, path, typ, normalizerTypes)
}

func replaceAll(m matcher, s, content string) string {
	ms := m.find(s)
	if len(ms) == 0 {
		return s
	}
	var b strings.Builder
	prev := 0
	for _, r := range ms {
		b.WriteString(s[prev:r[0]])
		b.WriteString(content)
		prev = r[1]
	}
	b.WriteString(s[prev:])
	return b.String()
}

// lowercase maps each rune to its lower case, as Rust's char::to_lowercase
// does (İ becomes i plus a combining dot).
func lowercase(s string) string {
	if !strings.ContainsRune(s, 'İ') {
		return strings.ToLower(s)
	}
	return strings.ToLower(strings.ReplaceAll(s, "İ", "i\u0307"))
}

// stripMarks is the StripAccents normalizer: it drops every combining mark
// (Mn, Mc, Me), as the crate's is_combining_mark does.
func stripMarks(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsMark(r) {
			return -1
		}
		return r
	}, s)
}

// stripAccents is BertNormalizer's accent stripping, which drops only
// non-spacing marks (Mn).
func stripAccents(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, s)
}

func bertNormalize(s string, clean, chinese, strip, lower bool) string {
	var b strings.Builder
	for _, r := range s {
		if clean {
			if r == 0 || r == 0xFFFD || isControl(r) {
				continue
			}
			if isBertSpace(r) {
				b.WriteByte(' ')
				continue
			}
		}
		if chinese && isChinese(r) {
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(r)
	}
	s = b.String()
	if strip {
		s = stripAccents(norm.NFD.String(s))
	}
	if lower {
		s = lowercase(s)
	}
	return s
}

func isBertSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.White_Space, r)
}

// isControl is BertNormalizer's control test: the unicode_categories
// crate's is_other (Cc, Cf, Co; unassigned code points stay) except tab,
// newline and carriage return.
func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co)
}

// isChinese is the crate's CJK test, ranges as it writes them (its fifth
// range starts at U+2B920, not BERT's U+2B820).
func isChinese(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}
