package importers

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// The converters reproduce lm-eval's Python string handling. These helpers
// are Python's str methods where Go's differ.

// pyIsSpace is Python's str.isspace for one character (also what Python's
// re \s matches in a str pattern): Unicode White_Space plus U+001C..U+001F.
func pyIsSpace(r rune) bool {
	switch {
	case r >= 0x9 && r <= 0xd, r >= 0x1c && r <= 0x20, r == 0x85, r == 0xa0, r == 0x1680,
		r >= 0x2000 && r <= 0x200a, r == 0x2028, r == 0x2029, r == 0x202f, r == 0x205f, r == 0x3000:
		return true
	}
	return false
}

// pySpaceClass is pyIsSpace as the body of a regexp character class, for
// translating Python's \s (Go's \s is ASCII only and leaves out \v).
const pySpaceClass = `\t\n\v\f\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`

// pyRegexp compiles a Python regular expression after replacing its \s by
// Python's whitespace class. Only patterns whose other constructs mean the
// same in Go's RE2 (checked by the converters' tests) may go through it.
func pyRegexp(pattern string) *regexp.Regexp {
	return regexp.MustCompile(strings.ReplaceAll(pattern, `\s`, "["+pySpaceClass+"]"))
}

// pyStrip is Python's str.strip().
func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

var (
	lowerFull = cases.Lower(language.Und)
	titleFull = cases.Title(language.Und, cases.NoLower)
)

// pyCapitalize is Python's str.capitalize(): the first character in title
// case and the rest in lower case, with Unicode's full mappings ("ß" → "Ss",
// "İ" → "i̇"), as Python 3.8+ does.
func pyCapitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return titleFull.String(string(r)) + lowerFull.String(s[n:])
}

// pyLowerFirst is Python's s[0].lower() + s[1:].
func pyLowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return lowerFull.String(string(r)) + s[n:]
}
