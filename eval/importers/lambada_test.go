package importers

import "testing"

// The cut is at the last " " only: text.split(' ')[:-1] and ' ' + [-1].
func TestLambadaDoc(t *testing.T) {
	for in, want := range map[string]targetDoc{
		"a b c":      {Context: "a b", Target: " c"},
		"a b\nc":     {Context: "a", Target: " b\nc"},
		"a\tb":       {Context: "", Target: " a\tb"},
		"a  b":       {Context: "a ", Target: " b"},
		"ends here ": {Context: "ends here", Target: " "},
	} {
		got, err := lambadaDoc(rowOf(t, map[string]any{"text": in}))
		if err != nil || got != want {
			t.Errorf("lambada(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}
