package importers

import (
	"encoding/json"
	"testing"
)

// rowOf makes a record from Go values, as a dataset file would hold them.
func rowOf(t *testing.T, fields map[string]any) Row {
	t.Helper()
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	r, err := decodeRow("t.jsonl", 1, b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
