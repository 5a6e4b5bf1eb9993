package eval

import (
	"context"
	"fmt"
	"math"
)

var rollingKind = &Kind{
	Name:     "rolling",
	Doc:      "perplexity of whole texts in lm-eval's disjoint rolling windows (WikiText)",
	Fields:   []string{"text"},
	Optional: []string{"page_words", "page_bytes"},
	Metrics:  []string{"word_perplexity,none", "byte_perplexity,none", "bits_per_byte,none"},
	Main:     "word_perplexity,none",
	parse: func(t *Task, d *Doc, f docFields) error {
		var err error
		if d.Text, err = f.str("text"); err != nil {
			return err
		}
		// WikiText's words and bytes are counted on the raw page before
		// lm-eval's detokenizer runs, while the model sees the detokenized
		// text: a task file carries those counts beside the text.
		for _, c := range []struct {
			name string
			n    *int
			has  *bool
		}{{"page_words", &d.Words, &d.HasWords}, {"page_bytes", &d.Bytes, &d.HasBytes}} {
			if _, ok := f[c.name]; !ok {
				continue
			}
			if *c.n, err = f.int(c.name); err != nil {
				return err
			}
			if *c.n < 0 {
				return fmt.Errorf("field %q is %d: a count cannot be negative", c.name, *c.n)
			}
			*c.has = true
		}
		return nil
	},
	run: runRolling,
}

// runRolling encodes each text with the tokenizer's default special tokens
// (a BOS-adding tokenizer puts BOS first, as lm-eval ≥ 0.4.9.2 does), cuts it into
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
		toks, err := r.tok.Encode(d.Text, true)
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
		words[i], byteCounts[i] = WordCount(d.Text), len(d.Text)
		if d.HasWords {
			words[i] = d.Words
		}
		if d.HasBytes {
			byteCounts[i] = d.Bytes
		}
		ll := pyStr(lls[i])
		tr.lm = append(tr.lm, lmDoc{doc: pyDoc(d.Raw), target: d.Text, args: [][]any{{d.Text}}, resps: []any{[]any{ll}},
			filters: []lmFilter{{"none", []any{ll}, object{
				{"word_perplexity", []any{lls[i], words[i]}}, {"byte_perplexity", []any{lls[i], byteCounts[i]}}, {"bits_per_byte", []any{lls[i], byteCounts[i]}},
			}}}})
		s := sample(t, i)
		s = append(s, Field{"loglikelihood", lls[i]}, Field{"words", words[i]}, Field{"bytes", byteCounts[i]}, Field{"tokens", ntok[i]})
		tr.Samples = append(tr.Samples, s)
	}
	totalBytes := 0
	for _, b := range byteCounts {
		totalBytes += b
	}
	if totalBytes == 0 {
		return nil, inputErrorf("every text is empty (or every page_bytes is 0): byte perplexity divides by the number of bytes")
	}
	wb := weightedMean(lls, byteCounts)
	tr.Metrics = []Metric{
		{Name: "word_perplexity", Filter: "none", Value: math.Exp(-weightedMean(lls, words))},
		{Name: "byte_perplexity", Filter: "none", Value: math.Exp(-wb)},
		{Name: "bits_per_byte", Filter: "none", Value: -wb / math.Ln2},
	}
	return tr, nil
}
