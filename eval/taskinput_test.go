package eval

import (
	"strings"
	"testing"
)

// TestTaskInvalidUTF8: a task file that is not UTF-8 is refused with the
// line and the byte, instead of scoring U+FFFD in place of the bytes.
func TestTaskInvalidUTF8(t *testing.T) {
	content := "{\"context\": \"a\", \"choices\": [\"b\"], \"gold\": 0}\n{\"context\": \"caf\xe9\", \"choices\": [\"b\"], \"gold\": 0}\n"
	_, err := ReadTask("t.jsonl", strings.NewReader(content))
	want := "t.jsonl:2: invalid UTF-8 at byte 17 of the line (0xe9): task files are UTF-8 text; convert the file (for example with iconv -f latin1 -t utf-8) or fix the bytes"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	// A byte-order mark is UTF-8 and stays allowed.
	readTask(t, "t.jsonl", "\xef\xbb\xbf{\"context\": \"café\", \"choices\": [\"b\"], \"gold\": 0}\n")
}

// TestTaskLongValuesClipped: a message quotes at most 200 characters of
// what the file holds.
func TestTaskLongValuesClipped(t *testing.T) {
	long := strings.Repeat("k", 300000)
	for _, c := range []struct{ content, want string }{
		{`{"task": {"kind": "` + long + `"}}` + "\n", `t.jsonl:1: header: unknown task kind "` + strings.Repeat("k", 200) + `…" (300000 bytes): the kinds are multiple_choice, loglikelihood, rolling, generate, classification`},
		{`{"task": {"kind": "multiple_choice", "` + long + `": 1}}` + "\n", `t.jsonl:1: header: unknown option "` + strings.Repeat("k", 200) + `…" (300000 bytes) for kind multiple_choice: its options are name, kind, baseline, metric, description, category, version, target_delimiter`},
		{`{"context": "a", "choices": ["b"], "gold": 0.` + strings.Repeat("5", 300000) + `}` + "\n", `t.jsonl:1: field "gold" must be an integer, not 0.` + strings.Repeat("5", 198) + `…`},
	} {
		_, err := ReadTask("t.jsonl", strings.NewReader(c.content))
		if err == nil || err.Error() != c.want {
			got := "<nil>"
			if err != nil {
				got = err.Error()
				if len(got) > 400 {
					got = got[:400] + "..."
				}
			}
			t.Errorf("got %s\nwant %s", got, c.want)
		}
	}
}
