package importers

import "fmt"

// PIQA (baber/piqa, the `datasets` copy lm-eval reads), as lm-eval's
// piqa.yaml: the context is "Question: {{goal}}\nAnswer:", the choices
// [sol1, sol2], gold is label. An id field, as
// the original release has, is kept.
var piqa = &Benchmark{
	Name: "piqa", Dataset: "baber/piqa", Split: "validation",
	Fields:  []string{"goal", "sol1", "sol2", "label"},
	Header:  Header{Kind: "multiple_choice", Category: "semantic"},
	convert: perRow(piqaDoc),
}

func piqaDoc(r Row) (multipleChoice, error) {
	var d multipleChoice
	goal, err := r.str("goal")
	if err != nil {
		return d, err
	}
	var sol [2]string
	for i, f := range []string{"sol1", "sol2"} {
		if sol[i], err = r.nonEmpty(f); err != nil {
			return d, err
		}
	}
	gold, err := r.index("label", 2, 0)
	if err != nil {
		return d, err
	}
	d = multipleChoice{Context: fmt.Sprintf("Question: %s\nAnswer:", goal), Choices: sol[:], Gold: gold}
	if r.has("id") { // the original release's; the datasets copy has none
		if d.ID, err = r.str("id"); err != nil {
			return d, err
		}
	}
	return d, nil
}
