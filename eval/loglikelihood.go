package eval

import (
	"context"
)

var loglikelihoodKind = &Kind{
	Name:    "loglikelihood",
	Doc:     "score a target after its context: acc is whether greedy decoding gives it, perplexity exp(−mean ll) (LAMBADA)",
	Fields:  []string{"context", "target"},
	Metrics: []string{"acc,none", "perplexity,none"},
	Main:    "acc,none",
	parse: func(t *Task, d *Doc, f docFields) error {
		var err error
		if d.Context, err = f.str("context"); err != nil {
			return err
		}
		d.Target, err = f.str("target")
		return err
	},
	run: runLoglikelihood,
}

// runLoglikelihood makes one request per document, (context, target) with
// the target as written (LAMBADA's target carries its leading space), and
// reports acc = is_greedy and perplexity = exp(−mean ll).
func runLoglikelihood(ctx context.Context, r *runner, t *Task, docs []Doc) (*TaskResult, error) {
	reqs := make([]LLRequest, len(docs))
	for i, d := range docs {
		q, err := FormRequest(r.tok, d.Context, d.Target)
		if err != nil {
			return nil, docErr(t, d, err)
		}
		if err := r.checkContinuation(t, d, q); err != nil {
			return nil, err
		}
		reqs[i] = q
	}
	got, notes, err := r.loglikelihood(ctx, t, reqs)
	if err != nil {
		return nil, err
	}
	tr := &TaskResult{Notes: notes}
	acc := make([]float64, len(docs))
	lls := make([]float64, len(docs))
	for i := range docs {
		acc[i] = b2f(got[i].IsGreedy)
		lls[i] = got[i].LogLikelihood
		resp := llResp(got[i])
		tr.lm = append(tr.lm, lmDoc{doc: pyDoc(docs[i].Raw), target: docs[i].Target,
			args: [][]any{{docs[i].Context, docs[i].Target}}, resps: []any{[]any{resp}},
			filters: []lmFilter{{"none", []any{resp}, object{{"perplexity", lls[i]}, {"acc", int(acc[i])}}}}})
		s := sample(t, i)
		s = append(s, Field{"target", docs[i].Target}, Field{"loglikelihood", lls[i]}, Field{"is_greedy", got[i].IsGreedy}, Field{"acc", acc[i]})
		tr.Samples = append(tr.Samples, s)
	}
	tr.Metrics = []Metric{meanMetric("acc", "none", acc), perplexityMetric(lls)}
	// Guessing a whole word out of a vocabulary is right almost never.
	tr.Baseline, tr.HasBaseline = 0, true
	return tr, nil
}
