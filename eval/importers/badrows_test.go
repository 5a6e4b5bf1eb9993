package importers

import (
	"errors"
	"strings"
	"testing"
)

// TestBadRows pins the message for each kind of bad record: the file, the
// line (blank lines counted) and the field.
func TestBadRows(t *testing.T) {
	cases := []struct {
		name, bench, input, want string
	}{
		{"not-json", "piqa", "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": 0}\n\n{oops}\n",
			`in.jsonl:3: not a JSON object: invalid character 'o' looking for beginning of object key string at column 2`},
		{"not-object", "piqa", "[1]\n", `in.jsonl:1: not a JSON object: it is a JSON number`},
		{"empty-file", "piqa", "\n\n", `in.jsonl:1: no records: the file is empty; give the dataset split exported as JSON Lines (Dataset.to_json)`},
		{"missing-field", "piqa", `{"goal": "g", "sol1": "a", "label": 0}`,
			`in.jsonl:1: field "sol2" is missing; the record has "goal", "label", "sol1": is this file the benchmark you named?`},
		{"wrong-type", "gsm8k", `{"question": 3, "answer": "#### 3"}`, `in.jsonl:1: field "question" must be a string, not a number`},
		{"label-out-of-range", "piqa", `{"goal": "g", "sol1": "a", "sol2": "b", "label": 2}`,
			`in.jsonl:1: field "label" is 2 but there are 2 options: it must be 0 to 1`},
		{"test-split-label", "piqa", `{"goal": "g", "sol1": "a", "sol2": "b", "label": -1}`,
			`in.jsonl:1: field "label" is -1 but there are 2 options: it must be 0 to 1 (-1 marks a split without labels, such as a test split; convert the split lm-eval scores)`},
		{"empty-label", "hellaswag", `{"activity_label": "a", "ctx_a": "b", "ctx_b": "c", "endings": ["x", "y"], "label": ""}`,
			`in.jsonl:1: field "label" is empty: this split has no labels (a test split?); convert the split lm-eval scores`},
		{"label-not-number", "hellaswag", `{"activity_label": "a", "ctx_a": "b", "ctx_b": "c", "endings": ["x", "y"], "label": "two"}`,
			`in.jsonl:1: field "label" is "two", not an integer`},
		{"winogrande-answer", "winogrande", `{"sentence": "a _ b", "option1": "x", "option2": "y", "answer": "0"}`,
			`in.jsonl:1: field "answer" is 0 but there are 2 options: it must be 1 to 2`},
		{"winogrande-no-blank", "winogrande", `{"sentence": "a b", "option1": "x", "option2": "y", "answer": "1"}`,
			`in.jsonl:1: field "sentence" has no blank "_" for the options to fill`},
		{"arc-answer-key", "arc_easy", `{"question": "q", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "C"}`,
			`in.jsonl:1: field "answerKey" is "C", which is not one of choices.label ["A" "B"]`},
		{"arc-nested-type", "arc_easy", `{"question": "q", "choices": {"text": "a", "label": ["A"]}, "answerKey": "A"}`,
			`in.jsonl:1: field "choices.text" must be a list of strings, not a string`},
		{"arc-unpaired", "arc_easy", `{"question": "q", "choices": {"text": ["a", "b"], "label": ["A"]}, "answerKey": "A"}`,
			`in.jsonl:1: field "choices.label" has 1 labels for 2 texts: they must pair up`},
		{"hellaswag-empty-ending", "hellaswag", `{"activity_label": "a", "ctx_a": "b", "ctx_b": "c", "endings": ["x", " [step] "], "label": 0}`,
			`in.jsonl:1: field "endings" ending 1 is empty after lm-eval's preprocessing (it held only a bracketed tag or spaces)`},
		{"copa-question", "copa", `{"premise": "p.", "choice1": "a", "choice2": "b", "question": "why", "label": 0}`,
			`in.jsonl:1: field "question" is "why": want "cause" or "effect"`},
		{"lambada-empty", "lambada_openai", `{"text": ""}`, `in.jsonl:1: field "text" is empty`},
		{"wikitext-not-lines", "wikitext", `{"text": "a\nb\n"}`,
			`in.jsonl:1: field "text" holds more than one line: line-level WikiText has one line a record (for whole articles use the document-level export, field "page")`},
		{"array-element", "piqa", "[\n  {\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": 0},\n  {\"goal\": \"g\", \"sol1\": \"a\", \"label\": 1}\n]",
			`in.jsonl:3: field "sol2" is missing; the record has "goal", "label", "sol1": is this file the benchmark you named?`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Lookup(c.bench)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := ReadRows("in.jsonl", strings.NewReader(c.input))
			if err == nil {
				_, err = b.Convert(rows, "in.jsonl")
			}
			if err == nil {
				t.Fatalf("no error, want %s", c.want)
			}
			if err.Error() != c.want {
				t.Errorf("error\n got %s\nwant %s", err, c.want)
			}
			var re *RowError
			if !errors.As(err, &re) {
				t.Errorf("%T is not a *RowError", err)
			}
		})
	}
}

func TestLookupUnknown(t *testing.T) {
	_, err := Lookup("mmlu")
	want := `unknown benchmark "mmlu": want one of arc_challenge, arc_easy, copa, gsm8k, hellaswag, lambada_openai, piqa, wikitext, winogrande`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}
