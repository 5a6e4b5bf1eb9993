package ortmodel

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/painterc/painterc/eval"
)

// defaultMaxTokens is lm-eval's max_gen_toks.
const defaultMaxTokens = 256

// genRow is one request being decoded.
type genRow struct {
	req    int
	ctx    []int // truncated context
	max    int
	eos    []int
	stop   func([]int) bool
	out    []int
	done   bool
	tokens []int // ctx + out, for full recomputation
}

// push records the next greedy token and decides whether the row is done.
func (r *genRow) push(tok int) {
	r.out = append(r.out, tok)
	r.tokens = append(r.tokens, tok)
	if slices.Contains(r.eos, tok) || len(r.out) >= r.max || (r.stop != nil && r.stop(r.out)) {
		r.done = true
	}
}

// Generate decodes greedily: with the KV cache when the model has cache
// I/O (prefill the batch's contexts, then one token per run), by full
// recomputation otherwise. A row stops at one of its EOS ids (kept), when
// Stop says so, or after MaxTokens (default 256) new tokens. As lm-eval
// does, the context is left-truncated to MaxLength - MaxTokens tokens
// (at least one).
func (m *Model) Generate(ctx context.Context, reqs []eval.GenRequest, progress eval.Progress) ([]eval.GenResult, error) {
	if err := m.needCausal("Generate"); err != nil {
		return nil, err
	}
	L := m.opts.MaxLength
	rows := make([]*genRow, len(reqs))
	for i, r := range reqs {
		if len(r.Context) == 0 {
			return nil, fmt.Errorf("ortmodel: generation request %d has an empty context", i)
		}
		if err := m.checkTokens(fmt.Sprintf("generation request %d", i), r.Context); err != nil {
			return nil, err
		}
		mx := r.MaxTokens
		if mx <= 0 {
			mx = defaultMaxTokens
		}
		mx = min(mx, L-1)
		if mx < 1 {
			return nil, fmt.Errorf("ortmodel: maximum length %d leaves no room to generate", L)
		}
		c := r.Context[max(0, len(r.Context)-(L-mx)):]
		rows[i] = &genRow{req: i, ctx: c, max: mx, eos: r.EOS, stop: r.Stop, tokens: slices.Clone(c)}
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(rows[b].ctx)+rows[b].max, len(rows[a].ctx)+rows[a].max) })
	done := 0
	for s := 0; s < len(order); {
		if err := checkCtx(ctx); err != nil {
			return nil, err
		}
		first := rows[order[s]]
		n := m.rowsFor(len(first.ctx)+first.max, 1)
		var batch []*genRow
		for _, i := range order[s:min(s+n, len(order))] {
			batch = append(batch, rows[i])
		}
		s += len(batch)
		var err error
		if m.io.cached && !m.noCache {
			err = m.decodeCached(ctx, batch)
		} else {
			err = m.decodeFull(ctx, batch)
		}
		if err != nil {
			return nil, err
		}
		done += len(batch)
		if progress != nil {
			progress(done)
		}
	}
	out := make([]eval.GenResult, len(rows))
	for i, r := range rows {
		out[i] = eval.GenResult{Tokens: r.out}
	}
	return out, nil
}

func allDone(batch []*genRow) bool {
	for _, r := range batch {
		if !r.done {
			return false
		}
	}
	return true
}

// decodeCached prefills the batch's contexts (right-padded), then feeds one
// token per row per run, the presents becoming the next pasts. Finished rows
// keep being fed (their tokens are ignored) so the cache stays one batch.
func (m *Model) decodeCached(ctx context.Context, batch []*genRow) error {
	st := step{presents: true}
	for _, r := range batch {
		st.tokens = append(st.tokens, r.ctx)
		st.score = append(st.score, []int{len(r.ctx) - 1})
		st.targets = append(st.targets, []int{0})
	}
	res, err := m.run(st)
	if err != nil {
		return err
	}
	for b, r := range batch {
		r.push(int(res.argmax[res.off[b]]))
	}
	for !allDone(batch) {
		if err := checkCtx(ctx); err != nil {
			return err
		}
		st := step{presents: true, past: res.presents, pastMask: res.mask}
		for _, r := range batch {
			st.tokens = append(st.tokens, []int{r.out[len(r.out)-1]})
			if r.done {
				st.score = append(st.score, nil)
				st.targets = append(st.targets, nil)
			} else {
				st.score = append(st.score, []int{0})
				st.targets = append(st.targets, []int{0})
			}
		}
		if res, err = m.run(st); err != nil {
			return err
		}
		for b, r := range batch {
			if !r.done {
				r.push(int(res.argmax[res.off[b]]))
			}
		}
	}
	return nil
}

// decodeFull recomputes every row's whole sequence for each new token.
func (m *Model) decodeFull(ctx context.Context, batch []*genRow) error {
	for !allDone(batch) {
		if err := checkCtx(ctx); err != nil {
			return err
		}
		var live []*genRow
		st := step{}
		for _, r := range batch {
			if !r.done {
				live = append(live, r)
				st.tokens = append(st.tokens, r.tokens)
				st.score = append(st.score, []int{len(r.tokens) - 1})
				st.targets = append(st.targets, []int{0})
			}
		}
		res, err := m.run(st)
		if err != nil {
			return err
		}
		for b, r := range live {
			r.push(int(res.argmax[res.off[b]]))
		}
	}
	return nil
}
