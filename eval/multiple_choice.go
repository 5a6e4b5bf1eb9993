package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

type mcConfig struct {
	delimiter string
}

var multipleChoiceKind = &Kind{
	Name:      "multiple_choice",
	Doc:       "pick the choice with the highest log-likelihood after the context (ARC, HellaSwag, Winogrande)",
	Fields:    []string{"context", "choices", "gold"},
	AltFields: []string{"contexts", "continuation", "gold"},
	Options:   []string{"target_delimiter"},
	Metrics:   []string{"acc,none", "acc_norm,none"},
	Main:      "acc,none",
	configure: func(t *Task, opts map[string]json.RawMessage) error {
		t.mc.delimiter = " "
		if _, ok := opts["target_delimiter"]; ok {
			s, err := docFields(opts).str("target_delimiter")
			if err != nil {
				return err
			}
			t.mc.delimiter = s
		}
		return nil
	},
	parse: func(t *Task, d *Doc, f docFields) error {
		var err error
		_, hasContexts := f["contexts"]
		_, hasContext := f["context"]
		_, hasChoices := f["choices"]
		options, noun := "choices", "choice"
		switch {
		case hasContexts && (hasContext || hasChoices):
			return errors.New("the document has both \"contexts\" (partial evaluation) and \"context\"/\"choices\": give one shape, context+choices or contexts+continuation")
		case hasContexts:
			// Partial evaluation: one context per option, a shared
			// continuation.
			options, noun = "contexts", "context"
			if d.Contexts, err = f.strs("contexts"); err != nil {
				return err
			}
			if d.Continuation, err = f.str("continuation"); err != nil {
				return err
			}
			d.Choices = d.Contexts
		default:
			if d.Context, err = f.str("context"); err != nil {
				return err
			}
			if d.Choices, err = f.strs("choices"); err != nil {
				return err
			}
		}
		if len(d.Choices) == 0 {
			return fmt.Errorf("field %q is empty: a multiple_choice document needs at least one %s", options, noun)
		}
		for i, c := range d.Choices {
			if c == "" {
				return fmt.Errorf("field %q: %s %d is empty: acc_norm divides by a %s's length", options, noun, i, noun)
			}
		}
		if d.Gold, err = f.int("gold"); err != nil {
			return err
		}
		if d.Gold < 0 || d.Gold >= len(d.Choices) {
			return fmt.Errorf("field \"gold\" is %d but there are %d %s: it must be 0 to %d", d.Gold, len(d.Choices), options, len(d.Choices)-1)
		}
		return nil
	},
	run: runMultipleChoice,
}

// runMultipleChoice makes request i = (context, delimiter + choice i) for
// every document, its choices adjacent, and scores acc (argmax of the
// summed log-likelihood) and acc_norm (argmax of the log-likelihood over
// the choice's length in code points, delimiter left out). A partial-
// evaluation document (lm-eval's multiple-input task, WinoGrande) makes
// request i = (contexts[i], delimiter + continuation); its "choices" are
// the contexts, so acc_norm divides by the length of contexts[i], as
// lm-eval's process_results does with doc_to_choice.
func runMultipleChoice(ctx context.Context, r *runner, t *Task, docs []Doc) (*TaskResult, error) {
	var reqs []LLRequest
	for _, d := range docs {
		for _, c := range d.Choices {
			ctxText, cont := d.Context, t.mc.delimiter+c
			if d.Contexts != nil {
				ctxText, cont = c, t.mc.delimiter+d.Continuation
			}
			q, err := FormRequest(r.tok, ctxText, cont)
			if err != nil {
				return nil, docErr(t, d, err)
			}
			if err := r.checkContinuation(t, d, q); err != nil {
				return nil, err
			}
			reqs = append(reqs, q)
		}
	}
	got, notes, err := r.loglikelihood(ctx, t, reqs)
	if err != nil {
		return nil, err
	}
	tr := &TaskResult{Notes: notes}
	acc := make([]float64, len(docs))
	accNorm := make([]float64, len(docs))
	base := 0.0
	at := 0
	for i, d := range docs {
		n := len(d.Choices)
		lls := make([]float64, n)
		norm := make([]float64, n)
		greedy := make([]bool, n)
		for j := range n {
			lls[j] = got[at+j].LogLikelihood
			greedy[j] = got[at+j].IsGreedy
			norm[j] = lls[j] / float64(pyLen(d.Choices[j]))
		}
		at += n
		acc[i] = b2f(argmax(lls) == d.Gold)
		accNorm[i] = b2f(argmax(norm) == d.Gold)
		base += 1 / float64(n)
		lm := lmDoc{doc: pyDoc(d.Raw), target: d.Gold}
		if d.Contexts != nil {
			lm.target = d.Continuation
		}
		var filtered []any
		for j, c := range d.Choices {
			if d.Contexts != nil {
				lm.args = append(lm.args, []any{c, t.mc.delimiter + d.Continuation})
			} else {
				lm.args = append(lm.args, []any{d.Context, t.mc.delimiter + c})
			}
			resp := llResp(got[at-n+j])
			lm.resps = append(lm.resps, []any{resp})
			filtered = append(filtered, resp)
		}
		lm.filters = []lmFilter{{"none", filtered, object{{"acc", acc[i]}, {"acc_norm", accNorm[i]}}}}
		tr.lm = append(tr.lm, lm)
		s := sample(t, i)
		s = append(s, Field{"target", d.Gold}, Field{"loglikelihoods", lls}, Field{"is_greedy", greedy}, Field{"acc", acc[i]}, Field{"acc_norm", accNorm[i]})
		tr.Samples = append(tr.Samples, s)
	}
	tr.Metrics = []Metric{meanMetric("acc", "none", acc), meanMetric("acc_norm", "none", accNorm)}
	tr.Baseline, tr.HasBaseline = base/float64(len(docs)), true
	return tr, nil
}
