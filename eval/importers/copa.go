package importers

import (
	"encoding/json"
	"unicode/utf8"
)

// COPA (aps/super_glue copa), as lm-eval's super_glue/copa/utils.py: the
// context is the premise, stripped, less its last character (the period),
// then " because" or " therefore" for a question of "cause" or "effect"; the
// choices are " " + the choice with its first character lower-cased; gold
// is label. The choices' leading space comes on top of the default target
// delimiter " ", so lm-eval scores "  the toilet..." with two spaces, and so
// does painterc with these files. The record's idx is kept.
var copa = &Benchmark{
	Name: "copa", Dataset: "aps/super_glue copa", Split: "validation",
	Fields:  []string{"premise", "choice1", "choice2", "question", "label"},
	Header:  Header{Kind: "multiple_choice", Category: "semantic"},
	convert: perRow(copaDoc),
}

type copaDocument struct {
	Context string           `json:"context"`
	Choices []string         `json:"choices"`
	Gold    int              `json:"gold"`
	Idx     *json.RawMessage `json:"idx,omitempty"`
}

func (d copaDocument) options() int { return len(d.Choices) }

var copaConnector = map[string]string{"cause": "because", "effect": "therefore"}

func copaDoc(r Row) (copaDocument, error) {
	var d copaDocument
	premise, err := r.str("premise")
	if err != nil {
		return d, err
	}
	q, err := r.str("question")
	if err != nil {
		return d, err
	}
	conn, ok := copaConnector[q]
	if !ok {
		return d, r.errorf("question", "is %q: want \"cause\" or \"effect\"", q)
	}
	var ch [2]string
	for i, f := range []string{"choice1", "choice2"} {
		if ch[i], err = r.nonEmpty(f); err != nil {
			return d, err
		}
	}
	gold, err := r.index("label", 2, 0)
	if err != nil {
		return d, err
	}
	p := pyStrip(premise)
	if p == "" {
		return d, r.errorf("premise", "is empty")
	}
	_, last := utf8.DecodeLastRuneInString(p) // Python's [:-1] drops a character
	d.Context = p[:len(p)-last] + " " + conn
	d.Choices = []string{" " + pyLowerFirst(ch[0]), " " + pyLowerFirst(ch[1])}
	d.Gold = gold
	if r.has("idx") {
		v := r.Fields["idx"]
		d.Idx = &v
	}
	return d, nil
}
