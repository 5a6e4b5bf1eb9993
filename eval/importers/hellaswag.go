package importers

import (
	"regexp"
	"strings"
)

// HellaSwag (Rowan/hellaswag), as lm-eval's hellaswag/utils.py: the
// context is preprocess(activity_label + ": " + ctx_a + " " +
// ctx_b.capitalize()), each ending is preprocessed, gold is int(label). The
// record's ctx field (ctx_a and ctx_b joined, without the capital) is not
// what lm-eval reads.
var hellaswag = &Benchmark{
	Name: "hellaswag", Dataset: "Rowan/hellaswag", Split: "validation",
	Fields:  []string{"activity_label", "ctx_a", "ctx_b", "endings", "label"},
	Header:  Header{Kind: "multiple_choice", Category: "semantic"},
	convert: perRow(hellaswagDoc),
}

func hellaswagDoc(r Row) (multipleChoice, error) {
	var d multipleChoice
	var f [3]string
	for i, name := range []string{"activity_label", "ctx_a", "ctx_b"} {
		s, err := r.str(name)
		if err != nil {
			return d, err
		}
		f[i] = s
	}
	endings, err := r.strings("endings")
	if err != nil {
		return d, err
	}
	if len(endings) == 0 {
		return d, r.errorf("endings", "is empty: a context needs endings")
	}
	gold, err := r.index("label", len(endings), 0)
	if err != nil {
		return d, err
	}
	d.Context = hellaswagPreprocess(f[0] + ": " + f[1] + " " + pyCapitalize(f[2]))
	d.Choices = make([]string, len(endings))
	for i, e := range endings {
		d.Choices[i] = hellaswagPreprocess(e)
	}
	if i := emptyChoice(d.Choices); i >= 0 {
		return d, r.errorf("endings", "ending %d is empty after lm-eval's preprocessing (it held only a bracketed tag or spaces)", i)
	}
	d.Gold = gold
	return d, nil
}

// hellaswagTag is lm-eval's re.sub("\\[.*?\\]", "", text): WikiHow's
// bracketed tags. "." stops at a newline in both Python and Go.
var hellaswagTag = regexp.MustCompile(`\[.*?\]`)

// hellaswagPreprocess is lm-eval's hellaswag preprocess.
func hellaswagPreprocess(text string) string {
	text = pyStrip(text)
	text = strings.ReplaceAll(text, " [title]", ". ")
	text = hellaswagTag.ReplaceAllLiteralString(text, "")
	return strings.ReplaceAll(text, "  ", " ")
}
