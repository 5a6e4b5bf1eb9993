package ortmodel

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/painterc/painterc/eval"
)

// Classify runs an encoder whose logits are [batch, labels] and returns
// each request's row. Sequences longer than MaxLength keep their first
// MaxLength tokens (Hugging Face's truncation from the end). Rows are
// right-padded in batches, longest first; token_type_ids are the request's
// TypeIDs, zeros when nil.
func (m *Model) Classify(ctx context.Context, reqs []eval.ClassRequest, progress eval.Progress) ([][]float32, error) {
	if m.io.causal {
		return nil, fmt.Errorf("ortmodel: Classify needs a classifier (logits [batch, labels]); this model is a causal LM")
	}
	L := m.opts.MaxLength
	ids := make([][]int, len(reqs))
	types := make([][]int, len(reqs))
	for i, r := range reqs {
		if len(r.IDs) == 0 {
			return nil, fmt.Errorf("ortmodel: classification request %d has no tokens", i)
		}
		if r.TypeIDs != nil && len(r.TypeIDs) != len(r.IDs) {
			return nil, fmt.Errorf("ortmodel: classification request %d has %d token type ids for %d tokens", i, len(r.TypeIDs), len(r.IDs))
		}
		if err := m.checkTokens(fmt.Sprintf("classification request %d", i), r.IDs); err != nil {
			return nil, err
		}
		ids[i] = r.IDs[:min(len(r.IDs), L)]
		if r.TypeIDs != nil {
			types[i] = r.TypeIDs[:len(ids[i])]
		}
	}
	order := make([]int, len(reqs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(ids[b]), len(ids[a])) })
	out := make([][]float32, len(reqs))
	done := 0
	for s := 0; s < len(order); {
		if err := checkCtx(ctx); err != nil {
			return nil, err
		}
		S := len(ids[order[s]])
		batch := order[s:min(s+m.rowsFor(S, 0), len(order))]
		s += len(batch)
		var rows, tt [][]int
		for _, i := range batch {
			rows = append(rows, ids[i])
			tt = append(tt, types[i])
		}
		in, _ := m.feeds(rows, S, nil, tt)
		res, err := m.sess.Run(in, logitsName)
		if err != nil {
			return nil, fmt.Errorf("ortmodel: %w", err)
		}
		lg := res[logitsName]
		v, err := lg.Float32s()
		if err != nil || len(lg.Shape) != 2 || int(lg.Shape[0]) != len(batch) {
			return nil, fmt.Errorf("ortmodel: logits came back as %v, want [%d labels]", lg, len(batch))
		}
		w := int(lg.Shape[1])
		for b, i := range batch {
			out[i] = v[b*w : (b+1)*w : (b+1)*w]
		}
		done += len(batch)
		if progress != nil {
			progress(done)
		}
	}
	return out, nil
}
