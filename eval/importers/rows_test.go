package importers

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A JSON array (to_json(lines=False)) reads as the same records as JSON
// Lines, each with the line it starts on.
func TestReadRowsArray(t *testing.T) {
	lines, err := ReadRows("a", strings.NewReader("\ufeff{\"text\": \"a b\"}\n\n{\"text\": \"c d\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	array, err := ReadRows("a", strings.NewReader("[{\"text\": \"a b\"},\n\n  {\"text\": \"c d\"}]"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lines, array, cmp.AllowUnexported(Row{})); diff != "" {
		t.Errorf("array records differ from JSON Lines records:\n%s", diff)
	}
	if lines[1].Line != 3 {
		t.Errorf("second record on line %d, want 3", lines[1].Line)
	}
}
