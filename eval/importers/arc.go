package importers

import "fmt"

// ARC (allenai/ai2_arc), as lm-eval's arc_easy.yaml and arc_challenge.yaml
// (which include the same template): the context is
// "Question: {{question}}\nAnswer:", the choices are choices.text, and gold
// is choices.label.index(answerKey). The record's id is kept.
var arcEasy = &Benchmark{
	Name: "arc_easy", Dataset: "allenai/ai2_arc ARC-Easy", Split: "test",
	Fields:  []string{"id", "question", "choices.text", "choices.label", "answerKey"},
	Header:  Header{Kind: "multiple_choice", Category: "semantic"},
	convert: perRow(arcDoc),
}

var arcChallenge = &Benchmark{
	Name: "arc_challenge", Dataset: "allenai/ai2_arc ARC-Challenge", Split: "test",
	Fields:  arcEasy.Fields,
	Header:  arcEasy.Header,
	convert: perRow(arcDoc),
}

func arcDoc(r Row) (multipleChoice, error) {
	var d multipleChoice
	q, err := r.str("question")
	if err != nil {
		return d, err
	}
	key, err := r.nonEmpty("answerKey")
	if err != nil {
		return d, err
	}
	choices, err := r.object("choices")
	if err != nil {
		return d, err
	}
	texts, err := choices.strings("text")
	if err != nil {
		return d, err
	}
	labels, err := choices.strings("label")
	if err != nil {
		return d, err
	}
	if len(texts) == 0 {
		return d, r.errorf("choices.text", "is empty: a question needs choices")
	}
	if len(labels) != len(texts) {
		return d, r.errorf("choices.label", "has %d labels for %d texts: they must pair up", len(labels), len(texts))
	}
	if i := emptyChoice(texts); i >= 0 {
		return d, r.errorf("choices.text", "choice %d is empty", i)
	}
	gold := -1
	for i, l := range labels {
		if l == key {
			gold = i
			break
		}
	}
	if gold < 0 {
		return d, r.errorf("answerKey", "is %q, which is not one of choices.label %q", key, labels)
	}
	d = multipleChoice{Context: fmt.Sprintf("Question: %s\nAnswer:", q), Choices: texts, Gold: gold}
	if r.has("id") {
		if d.ID, err = r.str("id"); err != nil {
			return d, err
		}
	}
	return d, nil
}

// emptyChoice returns the index of the first empty choice, or -1: the
// scorer refuses them (acc_norm divides by the choice's length).
func emptyChoice(choices []string) int {
	for i, c := range choices {
		if c == "" {
			return i
		}
	}
	return -1
}
