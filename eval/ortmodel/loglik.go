package ortmodel

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/painterc/painterc/eval"
)

// llItem is one request in model terms.
type llItem struct {
	req   int
	ctx   []int
	cont  []int
	whole []int // ctx + cont, untruncated: lm-eval's sort key
	inp   []int // (ctx+cont)[-(L+1):][:-1]
	tgt   []int // (ctx+cont)[-(L+1):][1:]: what each input position predicts
}

// LogLikelihood scores each request's continuation as lm-eval does (see the
// package comment). Requests sharing a Context with their neighbours are
// scored from one prefilled cache when the model has cache I/O; the result
// is the same as scoring them separately.
func (m *Model) LogLikelihood(ctx context.Context, reqs []eval.LLRequest, progress eval.Progress) ([]eval.LLResult, error) {
	if err := m.needCausal("LogLikelihood"); err != nil {
		return nil, err
	}
	L := m.opts.MaxLength
	out := make([]eval.LLResult, len(reqs))
	items := make([]llItem, 0, len(reqs))
	done := 0
	for i, r := range reqs {
		if len(r.Continuation) == 0 {
			out[i] = eval.LLResult{LogLikelihood: 0, IsGreedy: true}
			done++
			continue
		}
		if len(r.Context) == 0 {
			return nil, fmt.Errorf("ortmodel: request %d has an empty context (lm-eval puts the prefix token there)", i)
		}
		if len(r.Continuation) > L {
			return nil, fmt.Errorf("ortmodel: request %d: continuation of %d tokens does not fit the maximum length %d", i, len(r.Continuation), L)
		}
		if err := m.checkTokens(fmt.Sprintf("request %d", i), r.Context); err != nil {
			return nil, err
		}
		if err := m.checkTokens(fmt.Sprintf("request %d", i), r.Continuation); err != nil {
			return nil, err
		}
		whole := make([]int, 0, len(r.Context)+len(r.Continuation))
		whole = append(append(whole, r.Context...), r.Continuation...)
		w := whole[max(0, len(whole)-(L+1)):]
		items = append(items, llItem{req: i, ctx: r.Context, cont: r.Continuation, whole: whole, inp: w[:len(w)-1], tgt: w[1:]})
	}
	report := func(n int) {
		done += n
		if progress != nil && n > 0 {
			progress(done)
		}
	}
	var rest []int // items scored without a shared cache
	if m.io.cached && !m.noShare {
		groups, alone := sharedGroups(items, L)
		rest = alone
		if m.gqa {
			groups, rest = gqaWorthSharing(items, groups, rest)
		}
		if err := m.scoreShared(ctx, items, groups, out, report); err != nil {
			return nil, err
		}
	} else {
		for i := range items {
			rest = append(rest, i)
		}
	}
	maxCont := 0
	for _, i := range rest {
		maxCont = max(maxCont, len(items[i].cont))
	}
	// lm-eval's order: longest first, then by the tokens.
	slices.SortStableFunc(rest, func(a, b int) int {
		x, y := items[a].whole, items[b].whole
		if c := cmp.Compare(len(y), len(x)); c != 0 {
			return c
		}
		return slices.Compare(x, y)
	})
	cuts := m.splitRuns(len(rest), func(i int) int { return len(items[rest[i]].inp) },
		func(S int) int { return m.rowsFor(S, maxCont) })
	for _, c := range cuts {
		if err := checkCtx(ctx); err != nil {
			return nil, err
		}
		batch := rest[c[0]:c[1]]
		st := step{}
		for _, i := range batch {
			it := items[i]
			from := len(it.inp) - len(it.cont)
			st.tokens = append(st.tokens, it.inp)
			st.score = append(st.score, span(from, len(it.cont)))
			st.targets = append(st.targets, it.tgt[from:])
		}
		res, err := m.run(st)
		if err != nil {
			return nil, err
		}
		for b, i := range batch {
			out[items[i].req] = score(res, b, st.targets[b])
		}
		report(len(batch))
	}
	if len(items) == 0 && done > 0 && progress != nil {
		progress(done) // only empty continuations: done without a run
	}
	return out, nil
}

// score sums row b's log-probabilities of its scored positions, whose
// targets are tgt, and checks that each target was the argmax.
func score(res *result, b int, tgt []int) eval.LLResult {
	r := eval.LLResult{IsGreedy: true}
	for j, t := range tgt {
		k := res.off[b] + j
		r.LogLikelihood += float64(res.logp[k])
		if res.argmax[k] != int64(t) {
			r.IsGreedy = false
		}
	}
	return r
}

// group is a run of adjacent requests with the same context, scored from
// one prefill of ctx[:-1].
type group struct {
	ctx     []int
	members []int // item indices
}

// sharedGroups finds runs of two or more adjacent items with an identical
// context that need no truncation (so every member sees the whole context)
// and whose context has at least two tokens (so there is something to
// prefill). Every other item is returned in alone.
func sharedGroups(items []llItem, L int) (groups []group, alone []int) {
	fits := func(it llItem) bool { return len(it.ctx) >= 2 && len(it.ctx)+len(it.cont) <= L+1 }
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && slices.Equal(items[j].ctx, items[i].ctx) {
			j++
		}
		var g group
		for k := i; k < j; k++ {
			if fits(items[k]) {
				g.members = append(g.members, k)
			} else {
				alone = append(alone, k)
			}
		}
		if len(g.members) >= 2 {
			g.ctx = items[i].ctx
			groups = append(groups, g)
		} else {
			alone = append(alone, g.members...)
		}
		i = j
	}
	return groups, alone
}

// scoreShared prefills the contexts of several groups in one batch (right
// padded: the mask keeps each row's padding out of its continuations'
// view, and HF position ids skip it), then scores every member's
// continuation from its group's cache row: the input is ctx[-1] followed by
// cont[:-1], and every position is scored.
func (m *Model) scoreShared(ctx context.Context, items []llItem, groups []group, out []eval.LLResult, report func(int)) error {
	slices.SortStableFunc(groups, func(a, b group) int { return cmp.Compare(len(b.ctx), len(a.ctx)) })
	cuts := m.splitRuns(len(groups), func(i int) int { return len(groups[i].ctx) - 1 },
		func(P int) int { return m.sharedRows(P, 1) })
	for _, c := range cuts {
		if err := checkCtx(ctx); err != nil {
			return err
		}
		chunk := groups[c[0]:c[1]]
		if err := m.scoreChunk(items, chunk, len(chunk[0].ctx)-1, out, report); err != nil {
			return err
		}
	}
	return nil
}

// scoreChunk runs one batch of scoreShared: the prefill of chunk's
// contexts, P tokens at most, and then their members in batches of their
// own.
func (m *Model) scoreChunk(items []llItem, chunk []group, P int, out []eval.LLResult, report func(int)) error {
	maxCont := 0
	for _, g := range chunk {
		for _, k := range g.members {
			maxCont = max(maxCont, len(items[k].cont))
		}
	}
	pre := step{presents: true}
	for _, g := range chunk {
		pre.tokens = append(pre.tokens, g.ctx[:len(g.ctx)-1])
	}
	pres, err := m.run(pre)
	if err != nil {
		return err
	}
	type row struct{ item, src int }
	var all []row
	for g, gr := range chunk {
		for _, k := range gr.members {
			all = append(all, row{k, g})
		}
	}
	// Longest continuation first, so that batches pad little.
	slices.SortStableFunc(all, func(a, b row) int { return cmp.Compare(len(items[b.item].cont), len(items[a.item].cont)) })
	cuts := m.splitRuns(len(all), func(i int) int { return len(items[all[i].item].cont) },
		func(int) int { return m.sharedRows(P+maxCont, maxCont) })
	for _, c := range cuts {
		batch := all[c[0]:c[1]]
		st := step{}
		src := make([]int, len(batch))
		for b, r := range batch {
			it := items[r.item]
			in := make([]int, 0, len(it.cont))
			in = append(append(in, it.ctx[len(it.ctx)-1]), it.cont[:len(it.cont)-1]...)
			st.tokens = append(st.tokens, in)
			st.score = append(st.score, span(0, len(it.cont)))
			st.targets = append(st.targets, it.cont)
			st.pastMask = append(st.pastMask, pres.mask[r.src])
			src[b] = r.src
		}
		if st.past, err = selectRows(pres.presents, src); err != nil {
			return err
		}
		res, err := m.run(st)
		if err != nil {
			return err
		}
		for b, r := range batch {
			it := items[r.item]
			out[it.req] = score(res, b, it.cont)
		}
		report(len(batch))
	}
	return nil
}

// sharedRows is rowsFor for the shared-context path: GroupQueryAttention
// takes a past only at batch 1, so its prefills and its continuations run
// one row at a time.
func (m *Model) sharedRows(n, k int) int {
	if m.gqa {
		return 1
	}
	return m.rowsFor(n, k)
}

// gqaWorthSharing keeps the groups a GroupQueryAttention model should score
// from a shared prefill and moves the others' members to alone. Such a
// model takes a past only at batch 1, so sharing trades padded batches for
// unbatched runs; it pays when the tokens it saves, (members − 1) × the
// prefilled context, are at least a third of the tokens the members
// would run alone. On SmolLM2-135M's builder export (`painterc score
// --threads 2 --limit 60` on one task at a time), sharing every group took ARC-Easy from 11.2 s to 10.3 s and HellaSwag
// from 14.3 s to 11.5 s, but PIQA (two long solutions after a short
// question) from 7.5 s to 8.2 s; this rule shares the first two and not
// the third.
func gqaWorthSharing(items []llItem, groups []group, alone []int) (keep []group, rest []int) {
	rest = alone
	for _, g := range groups {
		P := len(g.ctx) - 1
		whole := 0
		for _, k := range g.members {
			whole += len(items[k].ctx) + len(items[k].cont) - 1
		}
		if 3*(len(g.members)-1)*P >= whole {
			keep = append(keep, g)
		} else {
			rest = append(rest, g.members...)
		}
	}
	return keep, rest
}
