// Package clip shortens what painterc quotes from its inputs in messages:
// a message names the place and the problem, and a document, a token or a
// JSON value from a file can be megabytes long.
package clip

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Max is the most characters of an input a message quotes.
const Max = 200

// Quote is strconv.Quote(s) for at most Max characters of s; a longer s is
// cut at a character boundary and the quote says how long it was:
// "aaaa…" (300000 bytes).
func Quote(s string) string {
	if utf8.RuneCountInString(s) <= Max {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%s (%d bytes)", strconv.Quote(String(s)), len(s))
}

// String is s cut to Max characters, with "…" when it was longer.
func String(s string) string {
	n := 0
	for i := range s {
		if n == Max {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
