package importers

import "strings"

// LAMBADA as OpenAI detokenized it (EleutherAI/lambada_openai), as lm-eval's
// lambada_openai.yaml: the context is every space-separated piece of text
// but the last, rejoined with spaces, and the target " " + the last piece.
// The cut is at the last space (" " only, as Python's split(' ')), so a
// last word holding a newline keeps it.
var lambadaOpenAI = &Benchmark{
	Name: "lambada_openai", Dataset: "EleutherAI/lambada_openai default", Split: "test",
	Fields:  []string{"text"},
	Header:  Header{Kind: "loglikelihood", Baseline: ptr(0.0), Category: "semantic"},
	convert: perRow(lambadaDoc),
}

type targetDoc struct {
	Context string `json:"context"`
	Target  string `json:"target"`
}

func lambadaDoc(r Row) (targetDoc, error) {
	text, err := r.nonEmpty("text")
	if err != nil {
		return targetDoc{}, err
	}
	i := strings.LastIndexByte(text, ' ')
	if i < 0 {
		// text.split(' ') is [text]: an empty context, the whole text the target.
		return targetDoc{Context: "", Target: " " + text}, nil
	}
	return targetDoc{Context: text[:i], Target: " " + text[i+1:]}, nil
}
