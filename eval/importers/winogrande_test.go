package importers

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Partial evaluation: the sentence is cut at the blank, each option ends its
// own context, the rest (stripped) is the one continuation; answer "2" is
// gold 1.
func TestWinograndeDoc(t *testing.T) {
	rows, err := ReadRows("w.jsonl", strings.NewReader(`{"sentence": "Ann gave Bo a pen because _  needed one. ", "option1": "Ann", "option2": "Bo", "answer": "2"}`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := winograndeDoc(rows[0])
	if err != nil {
		t.Fatal(err)
	}
	want := partialChoice{Contexts: []string{"Ann gave Bo a pen because Ann", "Ann gave Bo a pen because Bo"}, Continuation: "needed one.", Gold: 1}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Error(diff)
	}
}
