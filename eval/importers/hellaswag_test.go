package importers

import "testing"

// lm-eval's preprocess: strip, " [title]" → ". ", drop [tags], "  " → " "
// once (so three spaces leave two).
func TestHellaswagPreprocess(t *testing.T) {
	for in, want := range map[string]string{
		"  How to cook [title] Boil water.  ": "How to cook. Boil water.",
		"[header] Step one [step] then":       " Step one then",
		"a   b":                               "a  b",
		"keep [open bracket":                  "keep [open bracket",
		"[a\nb] stays across lines":           "[a\nb] stays across lines",
	} {
		if got := hellaswagPreprocess(in); got != want {
			t.Errorf("preprocess(%q) = %q, want %q", in, got, want)
		}
	}
}

// ctx_b.capitalize() upper-cases the first character and lower-cases the
// rest, as Python does, with full case mappings.
func TestPyCapitalize(t *testing.T) {
	for in, want := range map[string]string{
		"she Bends DOWN": "She bends down", "": "", "ßa": "Ssa", "ǆx": "ǅx", "éCLAIR": "Éclair", "1St": "1st",
	} {
		if got := pyCapitalize(in); got != want {
			t.Errorf("capitalize(%q) = %q, want %q", in, got, want)
		}
	}
}
