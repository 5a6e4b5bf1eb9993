package importers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The premise loses its last character after stripping, the connector
// follows; each choice gets a space and a lower-case first letter.
func TestCopaDoc(t *testing.T) {
	d, err := copaDoc(rowOf(t, map[string]any{
		"premise": " It rained all day!\n", "choice1": "I stayed inside.", "choice2": "Über-dry ground.",
		"question": "effect", "label": 0, "idx": 7}))
	if err != nil {
		t.Fatal(err)
	}
	if d.Context != "It rained all day therefore" || d.Gold != 0 || string(*d.Idx) != "7" {
		t.Errorf("got %+v", d)
	}
	if diff := cmp.Diff([]string{" i stayed inside.", " über-dry ground."}, d.Choices); diff != "" {
		t.Error(diff)
	}
	d, err = copaDoc(rowOf(t, map[string]any{"premise": "The glass broke.", "choice1": "A", "choice2": "B", "question": "cause", "label": 1}))
	if err != nil || d.Context != "The glass broke because" || d.Idx != nil {
		t.Errorf("got %+v, %v", d, err)
	}
}
