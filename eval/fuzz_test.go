package eval

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReadTask feeds arbitrary bytes to the task-file reader: a refusal
// names the file (and the line, where there is one) and stays short; an
// accepted file has a name, a kind and documents, all valid UTF-8.
func FuzzReadTask(f *testing.F) {
	for _, s := range []string{
		`{"task": {"name": "mc", "kind": "multiple_choice", "baseline": 0.25}}` + "\n" + `{"context": "the cat", "choices": ["sat", "ran"], "gold": 0}` + "\n",
		`{"context": "2+2=", "target": " 4"}` + "\n",
		`{"text": "a long text"}` + "\n",
		`{"task": {"kind": "generate", "until": ["\n"], "filter": "(\\d+)"}}` + "\n" + `{"context": "Q: 1+1? A:", "answer": "2"}` + "\n",
		`{"text": "a", "text_pair": "b", "label": 1}` + "\n" + `{"text": "c", "label": 0}` + "\n",
		"\xef\xbb\xbf{\"text\": \"caf\xe9\"}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		task, err := ReadTask("t.jsonl", strings.NewReader(string(data)))
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "t.jsonl") || len(msg) > 2000 {
				t.Fatalf("message %.300q... (%d bytes): want it to start with the file and stay short", msg, len(msg))
			}
			return
		}
		if task.Name == "" || task.Kind == nil || len(task.Docs) == 0 {
			t.Fatalf("accepted a task without a name, kind or documents: %+v", task)
		}
		for _, d := range task.Docs {
			for _, s := range append([]string{d.Context, d.Target, d.Text, d.Pair, d.Answer}, d.Choices...) {
				if !utf8.ValidString(s) {
					t.Fatalf("line %d: accepted invalid UTF-8 %q", d.Line, s)
				}
			}
		}
	})
}
