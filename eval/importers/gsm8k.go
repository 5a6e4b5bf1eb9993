package importers

import "fmt"

// GSM8K (openai/gsm8k main), as lm-eval's gsm8k.yaml at 0 shots: the context
// is "Question: {{question}}\nAnswer:" and the answer the whole worked
// solution (its "#### N" line is what the filters compare). The header
// carries gsm8k.yaml's stop strings and lm-eval's default max_gen_toks; its
// regexes are the generate kind's defaults. lm-eval's gsm8k defaults to 5
// shots; the file is 0-shot.
var gsm8k = &Benchmark{
	Name: "gsm8k", Dataset: "openai/gsm8k main", Split: "test",
	Fields: []string{"question", "answer"},
	Header: Header{Kind: "generate", Baseline: ptr(0.0), Category: "math",
		Until: []string{"Question:", "</s>", "<|im_end|>"}, MaxGenToks: 256},
	convert: perRow(gsm8kDoc),
}

type answerDoc struct {
	Context string `json:"context"`
	Answer  string `json:"answer"`
}

func gsm8kDoc(r Row) (answerDoc, error) {
	q, err := r.str("question")
	if err != nil {
		return answerDoc{}, err
	}
	a, err := r.nonEmpty("answer")
	if err != nil {
		return answerDoc{}, err
	}
	return answerDoc{Context: fmt.Sprintf("Question: %s\nAnswer:", q), Answer: a}, nil
}
