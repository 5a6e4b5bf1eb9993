package importers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// gold is the answer key's position among the labels, whatever they are.
func TestArcDoc(t *testing.T) {
	d, err := arcDoc(rowOf(t, map[string]any{"id": "x1", "question": "Why?",
		"choices":   map[string]any{"text": []string{"one", "two", "three"}, "label": []string{"1", "2", "3"}},
		"answerKey": "3"}))
	if err != nil {
		t.Fatal(err)
	}
	want := multipleChoice{Context: "Question: Why?\nAnswer:", Choices: []string{"one", "two", "three"}, Gold: 2, ID: "x1"}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Error(diff)
	}
}
