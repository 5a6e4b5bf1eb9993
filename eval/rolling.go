package eval

import (
	"context"
	"fmt"
	"math"
)

var rollingKind = &Kind{
	Name:    "rolling",
	Doc:     "perplexity of whole texts in lm-eval's disjoint rolling windows (WikiText)",
	Fields:  []string{"text"},
	Metrics: []string{"word_perplexity,none", "byte_perplexity,none", "bits_per_byte,none"},
	Main:    "word_perplexity,none",
	parse: func(t *Task, d *Doc, f docFields) error {
		var err error
		d.Text, err = f.str("text")
		return err
	},
	run: runRolling,
}

// runRolling encodes each text without special tokens, cuts it into
// RollingWindows for the model's maximum length, sends every window of
// every document in one call, and sums each document's windows. The
// metrics are lm-eval's weighted perplexities over (ll, words) and (ll,
// bytes) pairs; their standard errors are "N/A", as in lm-eval, which does
// not bootstrap weighted_perplexity or bits_per_byte.
func runRolling(ctx context.Context, r *runner, t *Task, docs []Doc) (*TaskResult, error) {
	L := r.model.MaxLength()
	var reqs []LLRequest
	owner := []int{}
	ntok := make([]int, len(docs))
	for i, d := range docs {
		toks, err := r.tok.Encode(d.Text, false)
		if err != nil {
			return nil, docErr(t, d, fmt.Errorf("encoding the text: %v", err))
		}
		ntok[i] = len(toks)
		for _, w := range RollingWindows(toks, r.tok.Prefix(), L) {
			reqs = append(reqs, w)
			owner = append(owner, i)
		}
	}
	got, notes, err := r.loglikelihood(ctx, t, reqs)
	if err != nil {
		return nil, err
	}
	lls := make([]float64, len(docs))
	for j, g := range got {
		lls[owner[j]] += g.LogLikelihood
	}
	tr := &TaskResult{Notes: notes}
	words := make([]int, len(docs))
	byteCounts := make([]int, len(docs))
	for i, d := range docs {
		words[i] = WordCount(d.Text)
		byteCounts[i] = len(d.Text)
		s := sample(t, i)
		s = append(s, Field{"loglikelihood", lls[i]}, Field{"words", words[i]}, Field{"bytes", byteCounts[i]}, Field{"tokens", ntok[i]})
		tr.Samples = append(tr.Samples, s)
	}
	totalBytes := 0
	for _, b := range byteCounts {
		totalBytes += b
	}
	if totalBytes == 0 {
		return nil, inputErrorf("every text is empty: byte perplexity divides by the number of bytes")
	}
	wb := weightedMean(lls, byteCounts)
	tr.Metrics = []Metric{
		{Name: "word_perplexity", Filter: "none", Value: math.Exp(-weightedMean(lls, words))},
		{Name: "byte_perplexity", Filter: "none", Value: math.Exp(-wb)},
		{Name: "bits_per_byte", Filter: "none", Value: -wb / math.Ln2},
	}
	return tr, nil
}
