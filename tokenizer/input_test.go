package tokenizer

import (
	"strings"
	"testing"
	"time"
)

// TestRegexTimeoutMessage: a pre-tokenizer pattern that backtracks without
// end on a long text fails with a message that quotes at most 200
// characters of the text (regexp2's own message holds all of it).
func TestRegexTimeoutMessage(t *testing.T) {
	defer func(d time.Duration) { matchTimeout = d }(matchTimeout)
	matchTimeout = 20 * time.Millisecond
	js := `{"version": "1.0", "added_tokens": [], "normalizer": null,
		"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a|aa)+b"}, "behavior": "Isolated", "invert": false},
		"post_processor": null, "decoder": null,
		"model": {"type": "WordLevel", "vocab": {"a": 0, "<unk>": 1}, "unk_token": "<unk>"}}`
	tk, err := FromJSON("tokenizer.json", []byte(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("a", 300000)
	_, err = tk.Encode(text, false)
	want := `pattern "(a|aa)+b" found no match within 20ms on a text of 300000 bytes beginning "` + strings.Repeat("a", 200) + `…" (300000 bytes): the pattern backtracks too much on this text; use a tokenizer.json with another pre-tokenizer pattern, or shorten the text`
	if err == nil || err.Error() != want {
		got := "<nil>"
		if err != nil {
			got = err.Error()
			if len(got) > 600 {
				got = got[:600] + "..."
			}
		}
		t.Errorf("got %s\nwant %s", got, want)
	}
}
