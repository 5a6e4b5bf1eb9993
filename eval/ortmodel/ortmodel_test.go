package ortmodel

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

var bg = context.Background()

// decoders are the causal families, with and without the cache.
var decoders = []testmodels.Spec{
	{Family: testmodels.Llama, Seed: 31},
	{Family: testmodels.Llama, KVCache: true, Seed: 32},
	{Family: testmodels.GPT2, Seed: 33},
	{Family: testmodels.GPT2, KVCache: true, Seed: 34},
}

func specName(s testmodels.Spec) string {
	if s.KVCache {
		return s.Family.String() + "-kv"
	}
	return s.Family.String()
}

// llRequests makes n random requests (contexts of 1..maxCtx tokens,
// continuations of 1..maxCont), with pairs sharing a context.
func llRequests(r *rand.Rand, n, maxCtx, maxCont, vocab int) []eval.LLRequest {
	var reqs []eval.LLRequest
	for len(reqs) < n {
		ctx := randTokens(r, 1+r.IntN(maxCtx), vocab)
		for range 1 + r.IntN(2) {
			reqs = append(reqs, eval.LLRequest{Context: ctx, Continuation: randTokens(r, 1+r.IntN(maxCont), vocab)})
		}
	}
	return reqs
}

// TestLogLikelihoodMatchesReference: every decoder family, with and
// without the cache, over maximum lengths that truncate most requests,
// some, or none, in padded batches of 3: each request's log-likelihood is
// the reference's within 1e-4 and IsGreedy is the reference's. One request
// per model continues with the reference's own greedy tokens, so IsGreedy
// is true at least once.
func TestLogLikelihoodMatchesReference(t *testing.T) {
	for _, s := range decoders {
		sched := identity(t, s)
		r := rand.New(rand.NewPCG(uint64(s.Seed), 1))
		reqs := llRequests(r, 9, 20, 4, 64)
		ctx := randTokens(r, 6, 64)
		reqs = append(reqs, eval.LLRequest{Context: ctx, Continuation: refGreedy(t, s, sched, ctx, 3)})
		for _, L := range []int{5, 12, 48} {
			m := open(t, build(t, s, sched), Options{MaxLength: L, BatchSize: 3})
			got, err := m.LogLikelihood(bg, reqs, nil)
			if err != nil {
				t.Fatal(err)
			}
			greedy := 0
			for i, req := range reqs {
				want := refLL(t, s, sched, req, L)
				if d := math.Abs(got[i].LogLikelihood - want.LogLikelihood); d > 1e-4 || got[i].IsGreedy != want.IsGreedy {
					t.Errorf("%s L=%d request %d: got %+v, reference %+v (diff %g)", specName(s), L, i, got[i], want, d)
				}
				if got[i].IsGreedy {
					greedy++
				}
			}
			if L == 48 && !got[len(reqs)-1].IsGreedy {
				t.Errorf("%s: the reference's greedy continuation is not greedy", specName(s))
			}
		}
	}
}

// TestEpilogueAfterHead: when the logits cannot be replaced (here another
// node reads them, as a second output) the epilogue gathers the scored
// positions from the full logits, in both forms, and still matches the
// reference.
func TestEpilogueAfterHead(t *testing.T) {
	for _, s := range []testmodels.Spec{decoders[1], decoders[2]} {
		sched := identity(t, s)
		r := rand.New(rand.NewPCG(17, uint64(s.Seed)))
		reqs := llRequests(r, 6, 15, 4, 64)
		for _, o := range []Options{
			{MaxLength: 12, BatchSize: 3},
			{MaxLength: 12, BatchSize: 3, keepHead: true},
			{MaxLength: 12, BatchSize: 3, keepHead: true, epilogue: formLogSumExp},
			{MaxLength: 12, BatchSize: 3, epilogue: formLogSumExp},
		} {
			m := build(t, s, sched)
			if !o.keepHead {
				g := m.Graph
				g.Node = append(g.Node, &onnx.Node{OpType: "Identity", Input: []string{"logits"}, Output: []string{"logits_copy"}})
				g.Output = append(g.Output, valueInfo("logits_copy", onnx.Float))
			}
			got, err := open(t, m, o).LogLikelihood(bg, reqs, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, q := range reqs {
				want := refLL(t, s, sched, q, o.MaxLength)
				if d := math.Abs(got[i].LogLikelihood - want.LogLikelihood); d > 1e-4 || got[i].IsGreedy != want.IsGreedy {
					t.Errorf("%s %+v request %d: %+v, reference %+v", specName(s), o, i, got[i], want)
				}
			}
		}
	}
}

// TestPaddingInvariance: a request scores the same alone and right-padded
// in a batch with longer and shorter requests.
func TestPaddingInvariance(t *testing.T) {
	for _, s := range decoders {
		m := build(t, s, identity(t, s))
		alone := open(t, m, Options{MaxLength: 40, BatchSize: 1})
		batched := open(t, m, Options{MaxLength: 40, BatchSize: 8})
		r := rand.New(rand.NewPCG(7, uint64(s.Seed)))
		target := eval.LLRequest{Context: randTokens(r, 9, 64), Continuation: randTokens(r, 3, 64)}
		reqs := []eval.LLRequest{
			{Context: randTokens(r, 30, 64), Continuation: randTokens(r, 5, 64)},
			target,
			{Context: randTokens(r, 2, 64), Continuation: randTokens(r, 1, 64)},
			{Context: randTokens(r, 20, 64), Continuation: randTokens(r, 2, 64)},
		}
		one, err := alone.LogLikelihood(bg, []eval.LLRequest{target}, nil)
		if err != nil {
			t.Fatal(err)
		}
		many, err := batched.LogLikelihood(bg, reqs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(one[0].LogLikelihood - many[1].LogLikelihood); d > 1e-5 || one[0].IsGreedy != many[1].IsGreedy {
			t.Errorf("%s: alone %+v, in a padded batch %+v (diff %g)", specName(s), one[0], many[1], d)
		}
	}
}

// mcRequests is a multiple-choice task: docs of 4 choices after a shared
// context, with a lone request between docs.
func mcRequests(r *rand.Rand, docs, ctxLen, contLen, vocab int) []eval.LLRequest {
	var reqs []eval.LLRequest
	for d := range docs {
		ctx := randTokens(r, ctxLen-d, vocab)
		for range 4 {
			reqs = append(reqs, eval.LLRequest{Context: ctx, Continuation: randTokens(r, 1+r.IntN(contLen), vocab)})
		}
		reqs = append(reqs, eval.LLRequest{Context: randTokens(r, 3, vocab), Continuation: randTokens(r, 2, vocab)})
	}
	return reqs
}

// TestSharedContextMatchesUncached: on KV models, choices that share a
// context are scored from one prefilled cache (the groups are checked to
// form); the results equal the same model's request-by-request path within
// 1e-4, and the reference's. Batch sizes 3 and 0 (automatic) split the
// docs and choices differently; at L=14 some choices need truncation and
// leave their group.
func TestSharedContextMatchesUncached(t *testing.T) {
	for _, s := range decoders {
		if !s.KVCache {
			continue
		}
		sched := identity(t, s)
		r := rand.New(rand.NewPCG(11, uint64(s.Seed)))
		reqs := mcRequests(r, 3, 12, 4, 64)
		for _, o := range []Options{{MaxLength: 40, BatchSize: 3}, {MaxLength: 40}, {MaxLength: 14, BatchSize: 5}} {
			m := build(t, s, sched)
			shared := open(t, m, o)
			plain := open(t, m, o)
			plain.noShare = true
			var items []llItem
			for i, q := range reqs {
				items = append(items, llItem{req: i, ctx: q.Context, cont: q.Continuation})
			}
			groups, _ := sharedGroups(items, o.MaxLength)
			if o.MaxLength == 40 && len(groups) != 3 {
				t.Fatalf("%d shared groups, want 3", len(groups))
			}
			a, err := shared.LogLikelihood(bg, reqs, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := plain.LogLikelihood(bg, reqs, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range reqs {
				want := refLL(t, s, sched, reqs[i], o.MaxLength)
				if d := math.Abs(a[i].LogLikelihood - b[i].LogLikelihood); d > 1e-4 || a[i].IsGreedy != b[i].IsGreedy {
					t.Errorf("%s %+v request %d: shared cache %+v, uncached %+v (diff %g)", specName(s), o, i, a[i], b[i], d)
				}
				if d := math.Abs(a[i].LogLikelihood - want.LogLikelihood); d > 1e-4 || a[i].IsGreedy != want.IsGreedy {
					t.Errorf("%s %+v request %d: shared cache %+v, reference %+v (diff %g)", specName(s), o, i, a[i], want, d)
				}
			}
		}
	}
}

// TestProgressAndOrder: progress counts every request once, ending at the
// total, and results come back in request order (a reversed request list
// gives the reversed results).
func TestProgressAndOrder(t *testing.T) {
	s := decoders[1]
	m := open(t, build(t, s, identity(t, s)), Options{MaxLength: 32, BatchSize: 2})
	r := rand.New(rand.NewPCG(3, 3))
	reqs := mcRequests(r, 2, 10, 3, 64)
	reqs = append(reqs, eval.LLRequest{Context: []int{1}, Continuation: nil})
	var seen []int
	a, err := m.LogLikelihood(bg, reqs, func(done int) { seen = append(seen, done) })
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 || seen[len(seen)-1] != len(reqs) || !slices.IsSorted(seen) {
		t.Errorf("progress %v, want increasing to %d", seen, len(reqs))
	}
	if last := a[len(a)-1]; last.LogLikelihood != 0 || !last.IsGreedy {
		t.Errorf("empty continuation: %+v, want 0, greedy", last)
	}
	rev := slices.Clone(reqs)
	slices.Reverse(rev)
	b, err := m.LogLikelihood(bg, rev, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range reqs {
		if d := math.Abs(a[i].LogLikelihood - b[len(b)-1-i].LogLikelihood); d > 1e-5 {
			t.Errorf("request %d: %v in order, %v reversed", i, a[i], b[len(b)-1-i])
		}
	}
}

// rewritten compiles the plain KV model with painterc (Detect + Lower), so
// its cache slots are renumbered per block instance.
func rewritten(t *testing.T, s testmodels.Spec, src string) (schedule.Schedule, *Model) {
	t.Helper()
	sched, err := schedule.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := testmodels.Default(s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := compile.Run(context.Background(), compile.Input{Model: plain}, compile.Options{Schedule: src})
	if err != nil {
		t.Fatal(err)
	}
	return sched, open(t, r.Model, Options{MaxLength: 40, BatchSize: 2})
}

// TestGenerate: greedy decoding with the cache equals full recomputation
// on the same model and the reference's greedy tokens, on plain KV models
// and on a painterc rewrite with 6 renumbered cache slots; a model without
// cache I/O decodes by recomputation alone.
func TestGenerate(t *testing.T) {
	type tc struct {
		name  string
		s     testmodels.Spec
		sched schedule.Schedule
		m     *Model
	}
	var cases []tc
	for _, s := range decoders {
		sched := identity(t, s)
		cases = append(cases, tc{specName(s), s, sched, open(t, build(t, s, sched), Options{MaxLength: 40, BatchSize: 2})})
	}
	rs := testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 32}
	sched, m := rewritten(t, rs, "0,[1-2]x2,3")
	if len(m.io.slots) != 6 || !m.io.cached {
		t.Fatalf("rewritten model: %d cache slots (cached %v), want 6", len(m.io.slots), m.io.cached)
	}
	cases = append(cases, tc{"llama-kv rewritten 0,[1-2]x2,3", rs, sched, m})
	r := rand.New(rand.NewPCG(5, 5))
	ctxs := [][]int{randTokens(r, 3, 64), randTokens(r, 11, 64), randTokens(r, 7, 64)}
	for _, c := range cases {
		var reqs []eval.GenRequest
		var want [][]int
		for i, ctx := range ctxs {
			n := 4 + 2*i
			reqs = append(reqs, eval.GenRequest{Context: ctx, MaxTokens: n})
			want = append(want, refGreedy(t, c.s, c.sched, ctx, n))
		}
		cached, err := c.m.Generate(bg, reqs, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.m.noCache = true
		full, err := c.m.Generate(bg, reqs, nil)
		c.m.noCache = false
		if err != nil {
			t.Fatal(err)
		}
		for i := range reqs {
			if !slices.Equal(cached[i].Tokens, want[i]) || !slices.Equal(full[i].Tokens, want[i]) {
				t.Errorf("%s request %d: cached %v, recomputed %v, reference %v", c.name, i, cached[i].Tokens, full[i].Tokens, want[i])
			}
		}
	}
}

// TestGenerateStops: EOS ends a row and is kept, Stop ends it after the
// tokens it sees, MaxTokens bounds it, and a long context is left-truncated
// to MaxLength - MaxTokens, as lm-eval does.
func TestGenerateStops(t *testing.T) {
	s := decoders[1]
	sched := identity(t, s)
	m := open(t, build(t, s, sched), Options{MaxLength: 16, BatchSize: 4})
	r := rand.New(rand.NewPCG(9, 9))
	ctx := randTokens(r, 5, 64)
	ref := refGreedy(t, s, sched, ctx, 8)
	eos := ref[2]
	cut := slices.Index(ref, eos) + 1
	long := randTokens(r, 30, 64)
	reqs := []eval.GenRequest{
		{Context: ctx, MaxTokens: 8, EOS: []int{eos}},
		{Context: ctx, MaxTokens: 8, Stop: func(g []int) bool { return len(g) == 2 }},
		{Context: ctx, MaxTokens: 8},
		{Context: long, MaxTokens: 4},
	}
	for _, noCache := range []bool{false, true} {
		m.noCache = noCache
		got, err := m.Generate(bg, reqs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[0].Tokens, ref[:cut]) {
			t.Errorf("noCache=%v EOS %d: %v, want %v", noCache, eos, got[0].Tokens, ref[:cut])
		}
		if !slices.Equal(got[1].Tokens, ref[:2]) {
			t.Errorf("noCache=%v Stop after 2: %v, want %v", noCache, got[1].Tokens, ref[:2])
		}
		if !slices.Equal(got[2].Tokens, ref) {
			t.Errorf("noCache=%v MaxTokens 8: %v, want %v", noCache, got[2].Tokens, ref)
		}
		if w := refGreedy(t, s, sched, long[len(long)-12:], 4); !slices.Equal(got[3].Tokens, w) {
			t.Errorf("noCache=%v truncated context: %v, want %v", noCache, got[3].Tokens, w)
		}
	}
}

func TestCausalErrors(t *testing.T) {
	s := decoders[0]
	m := open(t, build(t, s, identity(t, s)), Options{MaxLength: 8})
	for _, c := range []struct {
		reqs []eval.LLRequest
		want string
	}{
		{[]eval.LLRequest{{Context: nil, Continuation: []int{1}}}, "ortmodel: request 0 has an empty context (lm-eval puts the prefix token there)"},
		{[]eval.LLRequest{{Context: []int{1}, Continuation: make([]int, 9)}}, "ortmodel: request 0: continuation of 9 tokens does not fit the maximum length 8"},
		{[]eval.LLRequest{{Context: []int{1}, Continuation: []int{64}}}, "ortmodel: request 0: token id 64 outside the vocabulary [0, 64)"},
	} {
		if _, err := m.LogLikelihood(bg, c.reqs, nil); err == nil || err.Error() != c.want {
			t.Errorf("got %v\nwant %s", err, c.want)
		}
	}
	if _, err := m.Classify(bg, []eval.ClassRequest{{IDs: []int{1}}}, nil); err == nil {
		t.Error("Classify on a causal LM succeeded")
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := m.LogLikelihood(ctx, []eval.LLRequest{{Context: []int{1}, Continuation: []int{2}}}, nil); err != context.Canceled {
		t.Errorf("cancelled context: %v", err)
	}
	if m.VocabSize() != 64 || m.MaxLength() != 8 {
		t.Errorf("VocabSize %d, MaxLength %d", m.VocabSize(), m.MaxLength())
	}
	if err := m.Close(); err != nil {
		t.Error(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestAutoBatch: without BatchSize the rows per run shrink with the padded
// length and the scored positions, within [1, 64]; BatchSize overrides.
func TestAutoBatch(t *testing.T) {
	m := &Model{io: &iface{causal: true}, vocab: 128000, hidden: 4096, headMoved: true, opts: Options{MemoryBudget: 1 << 30}}
	short, long := m.rowsFor(128, 1), m.rowsFor(2048, 1)
	if !(long < short && long >= 1 && short <= maxAutoBatch) {
		t.Errorf("rows for 128 tokens %d, for 2048 tokens %d", short, long)
	}
	if many := m.rowsFor(128, 128); many >= short {
		t.Errorf("scoring every position allows %d rows, scoring one %d", many, short)
	}
	m.headMoved = false
	if full := m.rowsFor(128, 1); full >= short {
		t.Errorf("with the full logits %d rows, gathered %d", full, short)
	}
	m.opts.MemoryBudget = 1
	if r := m.rowsFor(128, 1); r != 1 {
		t.Errorf("tiny budget: %d rows", r)
	}
	m.opts.BatchSize = 5
	if r := m.rowsFor(4096, 4096); r != 5 {
		t.Errorf("BatchSize 5: %d rows", r)
	}
}

// TestConcurrentCalls: one Model serves several goroutines at once (run
// with -race), each getting what a lone call gets.
func TestConcurrentCalls(t *testing.T) {
	s := decoders[1]
	m := open(t, build(t, s, identity(t, s)), Options{MaxLength: 32, BatchSize: 3})
	r := rand.New(rand.NewPCG(12, 12))
	reqs := mcRequests(r, 2, 10, 3, 64)
	want, err := m.LogLikelihood(bg, reqs, nil)
	if err != nil {
		t.Fatal(err)
	}
	gen := []eval.GenRequest{{Context: randTokens(r, 5, 64), MaxTokens: 4}}
	wantGen, err := m.Generate(bg, gen, nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 6)
	for range 3 {
		go func() {
			got, err := m.LogLikelihood(bg, reqs, nil)
			if err == nil && !slices.Equal(got, want) {
				err = fmt.Errorf("concurrent LogLikelihood %v, alone %v", got, want)
			}
			errs <- err
		}()
		go func() {
			got, err := m.Generate(bg, gen, nil)
			if err == nil && !slices.Equal(got[0].Tokens, wantGen[0].Tokens) {
				err = fmt.Errorf("concurrent Generate %v, alone %v", got[0].Tokens, wantGen[0].Tokens)
			}
			errs <- err
		}()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
