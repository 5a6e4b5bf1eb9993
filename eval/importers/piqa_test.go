package importers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPiqaDoc(t *testing.T) {
	d, err := piqaDoc(rowOf(t, map[string]any{"goal": "Dry a phone", "sol1": "rice", "sol2": "oven", "label": 0}))
	if err != nil {
		t.Fatal(err)
	}
	want := multipleChoice{Context: "Question: Dry a phone\nAnswer:", Choices: []string{"rice", "oven"}, Gold: 0}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Error(diff)
	}
}
