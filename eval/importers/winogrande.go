package importers

import "strings"

// WinoGrande (allenai/winogrande), as lm-eval's preprocess_winogrande.py:
// partial evaluation. The blank "_" splits the sentence; option i's context
// is the sentence before the blank followed by option i, and the shared
// continuation is the rest of the sentence after the blank, stripped. gold
// is answer ("1" or "2") less one. The document has the shape the task
// files give partial evaluation: contexts, continuation, gold.
var winogrande = &Benchmark{
	Name: "winogrande", Dataset: "allenai/winogrande winogrande_xl", Split: "validation",
	Fields:  []string{"sentence", "option1", "option2", "answer"},
	Header:  Header{Kind: "multiple_choice", Category: "semantic"},
	convert: perRow(winograndeDoc),
}

type partialChoice struct {
	Contexts     []string `json:"contexts"`
	Continuation string   `json:"continuation"`
	Gold         int      `json:"gold"`
}

func (d partialChoice) options() int { return len(d.Contexts) }

func winograndeDoc(r Row) (partialChoice, error) {
	var d partialChoice
	s, err := r.str("sentence")
	if err != nil {
		return d, err
	}
	var opt [2]string
	for i, f := range []string{"option1", "option2"} {
		if opt[i], err = r.str(f); err != nil {
			return d, err
		}
	}
	gold, err := r.index("answer", 2, 1)
	if err != nil {
		return d, err
	}
	blank := strings.Index(s, "_")
	if blank < 0 {
		return d, r.errorf("sentence", "has no blank \"_\" for the options to fill")
	}
	// Python's index and slices count characters, Go's bytes; "_" is one
	// byte, so the cuts are the same.
	d.Contexts = []string{s[:blank] + opt[0], s[:blank] + opt[1]}
	d.Continuation = pyStrip(s[blank+1:])
	d.Gold = gold
	return d, nil
}
