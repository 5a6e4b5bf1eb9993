package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// The split patterns of GPT-2 (ByteLevel's use_regex), Llama 3 and
// Qwen 2/3 cover most byte-level tokenizers, and regexp2 spends most of
// encoding's time on them. wordScanner matches each of them by hand, with
// the semantics of a backtracking engine (alternatives tried in order, the
// first that matches wins). TestScannerMatchesRegexp2 and
// FuzzScannerMatchesRegexp2 hold it to regexp2 on the same pattern.

const (
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	qwenPattern   = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

type wordScanner struct {
	llama  bool // Llama-3 style; otherwise GPT-2 style
	digits int  // most digits per match; 0 for no limit
}

// knownScanner returns the hand-written matcher for pattern, if there is
// one.
func knownScanner(pattern string) (matcher, bool) {
	switch pattern {
	case gpt2Pattern:
		return wordScanner{}, true
	case llama3Pattern:
		return wordScanner{llama: true, digits: 3}, true
	case qwenPattern:
		return wordScanner{llama: true, digits: 1}, true
	}
	return nil, false
}

// isSpace is the regex \s: \t \n \v \f \r, space, U+0085 and Unicode Z.
func isSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x85:
		return true
	}
	return r > 0x7f && unicode.In(r, unicode.Z)
}

func isL(r rune) bool {
	return r < 0x80 && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') || r >= 0x80 && unicode.IsLetter(r)
}
func isN(r rune) bool { return r < 0x80 && '0' <= r && r <= '9' || r >= 0x80 && unicode.IsNumber(r) }

// isOther is [^\s\p{L}\p{N}].
func isOther(r rune) bool { return !isSpace(r) && !isL(r) && !isN(r) }

func (w wordScanner) find(s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); {
		n := w.matchAt(s, i)
		if n == 0 { // cannot happen: every character starts some alternative
			_, n = utf8.DecodeRuneInString(s[i:])
		}
		out = append(out, [2]int{i, i + n})
		i += n
	}
	return out
}

func at(s string, i int) (rune, int) {
	if i >= len(s) {
		return -1, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// run returns where the run of f-characters starting at i ends.
func run(s string, i int, f func(rune) bool) int {
	for i < len(s) {
		r, n := at(s, i)
		if !f(r) {
			break
		}
		i += n
	}
	return i
}

// foldEq reports whether r equals the ASCII lower-case letter c under
// Unicode simple case folding, as the (?i:...) group in Llama 3's pattern
// compares.
func foldEq(r rune, c rune) bool {
	if r == c {
		return true
	}
	for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
		if r == f {
			return true
		}
	}
	return false
}

// contraction matches 's|'t|'re|'ve|'m|'ll|'d at i and returns its length.
func contraction(s string, i int, fold bool) int {
	if i >= len(s) || s[i] != '\'' {
		return 0
	}
	eq := func(r, c rune) bool { return r == c }
	if fold {
		eq = foldEq
	}
	r1, n1 := at(s, i+1)
	if r1 < 0 {
		return 0
	}
	for _, c := range []rune{'s', 't'} {
		if eq(r1, c) {
			return 1 + n1
		}
	}
	r2, n2 := at(s, i+1+n1)
	for _, p := range [][2]rune{{'r', 'e'}, {'v', 'e'}} {
		if eq(r1, p[0]) && r2 >= 0 && eq(r2, p[1]) {
			return 1 + n1 + n2
		}
	}
	if eq(r1, 'm') {
		return 1 + n1
	}
	if eq(r1, 'l') && r2 >= 0 && eq(r2, 'l') {
		return 1 + n1 + n2
	}
	if eq(r1, 'd') {
		return 1 + n1
	}
	return 0
}

// matchAt returns the length of the match at i.
func (w wordScanner) matchAt(s string, i int) int {
	if n := contraction(s, i, w.llama); n > 0 {
		return n
	}
	r, n := at(s, i)
	if w.llama {
		// [^\r\n\p{L}\p{N}]?\p{L}+
		if isL(r) {
			return run(s, i, isL) - i
		}
		if r != '\r' && r != '\n' && !isN(r) {
			if r2, _ := at(s, i+n); r2 >= 0 && isL(r2) {
				return run(s, i+n, isL) - i
			}
		}
		// \p{N}{1,digits}
		if isN(r) {
			j := i
			for k := 0; j < len(s) && (w.digits == 0 || k < w.digits); k++ {
				rr, nn := at(s, j)
				if !isN(rr) {
					break
				}
				j += nn
			}
			return j - i
		}
		// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
		j := i
		if r == ' ' {
			j++
		}
		if rr, _ := at(s, j); rr >= 0 && isOther(rr) {
			j = run(s, j, isOther)
			return run(s, j, func(r rune) bool { return r == '\r' || r == '\n' }) - i
		}
		// \s*[\r\n]+ : up to the last CR or LF of the whitespace run.
		end := run(s, i, isSpace)
		last := -1
		for k := i; k < end; k++ {
			if s[k] == '\r' || s[k] == '\n' {
				last = k
			}
		}
		if last >= 0 {
			return last + 1 - i
		}
	} else {
		// ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+'
		j := i
		if r == ' ' {
			j++
		}
		if rr, _ := at(s, j); rr >= 0 {
			for _, f := range []func(rune) bool{isL, isN, isOther} {
				if f(rr) {
					return run(s, j, f) - i
				}
			}
		}
	}
	// \s+(?!\S) then \s+
	end := run(s, i, isSpace)
	if end == i {
		return 0
	}
	if end == len(s) {
		return end - i
	}
	// Give back the last whitespace character so that the next one is not
	// \S, when that leaves at least one.
	_, lastN := utf8.DecodeLastRuneInString(s[i:end])
	if end-lastN > i {
		return end - lastN - i
	}
	return end - i
}
