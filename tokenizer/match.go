package tokenizer

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"

	"github.com/painterc/painterc/internal/clip"
)

// matcher finds the non-overlapping matches of a pattern, left to right, as
// byte ranges of s.
type matcher interface {
	find(s string) [][2]int
}

// stringMatcher matches a literal; the empty literal matches nothing, as in
// Hugging Face.
type stringMatcher string

func (m stringMatcher) find(s string) [][2]int {
	if m == "" {
		return nil
	}
	var out [][2]int
	for i := 0; i <= len(s); {
		j := strings.Index(s[i:], string(m))
		if j < 0 {
			break
		}
		out = append(out, [2]int{i + j, i + j + len(m)})
		i += j + len(m)
	}
	return out
}

// funcMatcher matches every single rune for which f is true.
type funcMatcher func(rune) bool

func (f funcMatcher) find(s string) [][2]int {
	var out [][2]int
	for i, r := range s {
		if f(r) {
			out = append(out, [2]int{i, i + utf8.RuneLen(r)})
		}
	}
	return out
}

// regexMatcher runs a pattern written for Oniguruma (the engine Hugging
// Face's Rust crate uses) on regexp2, which has the lookarounds that Go's
// regexp lacks (Llama-3's and Qwen's `\s+(?!\S)`). regexp2 counts in runes;
// find converts to bytes.
type regexMatcher struct {
	re *regexp2.Regexp
}

// matchTimeout bounds one regex search; a variable so that tests can lower
// it.
var matchTimeout = 10 * time.Second

func compileRegex(pattern string) (*regexMatcher, error) {
	re, err := regexp2.Compile(pattern, regexp2.None)
	if err != nil {
		return nil, err
	}
	// A guard against catastrophic backtracking on hostile input; real
	// pre-tokenizer patterns finish in microseconds.
	re.MatchTimeout = matchTimeout
	return &regexMatcher{re: re}, nil
}

func (m *regexMatcher) find(s string) [][2]int {
	if s == "" {
		return nil
	}
	runes := []rune(s)
	// byteAt[i] is the byte offset of rune i.
	byteAt := make([]int, len(runes)+1)
	off := 0
	for i, r := range runes {
		byteAt[i] = off
		off += utf8.RuneLen(r)
	}
	byteAt[len(runes)] = off
	var out [][2]int
	match, err := m.re.FindRunesMatch(runes)
	for err == nil && match != nil {
		a, b := match.Index, match.Index+match.Length
		if b > a {
			out = append(out, [2]int{byteAt[a], byteAt[b]})
		}
		match, err = m.re.FindNextMatch(match)
	}
	if err != nil {
		// Never leave text silently unsplit: Encode turns this into its
		// error.
		panic(regexFailure{regexError(m.re, s, err)})
	}
	return out
}

// regexError says which pattern failed on which text, quoting at most
// clip.Max characters of each: regexp2's own timeout message holds the
// whole text, which may be a document of megabytes.
func regexError(re *regexp2.Regexp, text string, err error) error {
	if strings.HasPrefix(err.Error(), "match timeout") {
		return fmt.Errorf("pattern %s found no match within %v on a text of %d bytes beginning %s: the pattern backtracks too much on this text; use a tokenizer.json with another pre-tokenizer pattern, or shorten the text",
			clip.Quote(re.String()), re.MatchTimeout, len(text), clip.Quote(text))
	}
	return fmt.Errorf("pattern %s: %s", clip.Quote(re.String()), clip.String(err.Error()))
}

// regexFailure carries a regexp2 error (a match timeout) out of the
// pipeline's closures to Encode.
type regexFailure struct{ err error }

func catchRegex(err *error) {
	if r := recover(); r != nil {
		f, ok := r.(regexFailure)
		if !ok {
			panic(r)
		}
		*err = f.err
	}
}

func validUTF8(s string) bool { return utf8.ValidString(s) }
