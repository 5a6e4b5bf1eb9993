package search

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/painterc/painterc/internal/fault"
	"github.com/painterc/painterc/schedule"
)

// Options steer the search.
type Options struct {
	// Budgets are the compute fractions to search for, each in (0, 1).
	Budgets []float64
	// Beam is how many candidates each round keeps by each ranking
	// (default 4).
	Beam int
	// Finalists is how many candidates per budget and per ranking (KL,
	// NLL) go on to be scored on the choosing tasks (default 3).
	Finalists int
	// Polish is how many rounds of same-cost rearrangements (swaps,
	// parallel groups, repeats and put-back blocks that fit the budget)
	// each budget's best candidates get; 0 is none.
	Polish int
	// Halves lets the search run a block's attention or MLP half alone,
	// where the layout has a mid-block stream.
	Halves bool
	// Batch is how many candidates go to the screener at once (default 16).
	Batch int
	// Progress, when set, is told about every batch screened.
	Progress func(Event)
}

func (o Options) withDefaults() Options {
	if o.Beam <= 0 {
		o.Beam = 4
	}
	if o.Finalists <= 0 {
		o.Finalists = 3
	}
	if o.Batch <= 0 {
		o.Batch = 16
	}
	return o
}

// Event reports screening progress: the phase ("search", "polish 0.75",
// "sleb 0.60"), candidates screened in this call and to screen in it, and
// the best candidate so far.
type Event struct {
	Phase       string
	Done, Total int
	Screened    int // distinct candidates screened in the whole run, the store's included
	Cached      int // of those, how many came from the store
}

// Candidate is a screened schedule.
type Candidate struct {
	Schedule string
	Fraction float64 // of the full model's block compute
	// Origin says how the candidate became a finalist: "kl" or "nll" (the
	// beam's rankings), "seed: METHOD, ..." (a baseline rule's schedule),
	// or "refined" (a neighbour of the choosing tasks' best).
	Origin string
	Screen
	st state
}

// screener screens states through a Screener and the store, once each.
type screener struct {
	sc     Screener
	store  *screenStore
	cost   Cost
	o      Options
	seen   map[string]*Candidate
	cached int
}

// screen returns the candidates for states, screening those never seen
// (in batches, stored as each finishes) and looking up the rest.
func (r *screener) screen(ctx context.Context, phase string, states []state) ([]*Candidate, error) {
	var out []*Candidate
	var todo []*Candidate
	inCall := map[string]bool{}
	for _, st := range states {
		k := st.key()
		if c, ok := r.seen[k]; ok {
			if !inCall[k] {
				out = append(out, c)
				inCall[k] = true
			}
			continue
		}
		c := &Candidate{Schedule: k, Fraction: r.cost.Fraction(st.Schedule()), st: st}
		r.seen[k] = c
		inCall[k] = true
		out = append(out, c)
		if sc, ok := r.store.get(k); ok {
			c.Screen = sc
			r.cached++
			continue
		}
		todo = append(todo, c)
	}
	for i := 0; i < len(todo); i += r.o.Batch {
		batch := todo[i:min(i+r.o.Batch, len(todo))]
		scheds := make([]string, len(batch))
		for j, c := range batch {
			scheds[j] = c.Schedule
		}
		rs, err := r.sc.Screen(ctx, schedulesOf(batch))
		if err != nil {
			return nil, fault.New(fault.Runtime, err)
		}
		if len(rs) != len(batch) {
			return nil, fmt.Errorf("internal error: the screener returned %d results for %d candidates", len(rs), len(batch))
		}
		for j, c := range batch {
			c.Screen = rs[j]
		}
		if err := r.store.put(scheds, rs); err != nil {
			return nil, fault.New(fault.Output, err)
		}
		if r.o.Progress != nil {
			r.o.Progress(Event{Phase: phase, Done: i + len(batch), Total: len(todo), Screened: len(r.seen), Cached: r.cached})
		}
	}
	return out, nil
}

// objective is one label-free way to rank candidates: by their
// divergence from the full model (KL), or by their own calibration NLL,
// SLEB's perplexity criterion. The search keeps the best by each, because
// the two disagree on which candidates keep task accuracy: on SmolLM2-135M
// at 60% of its block compute, the KL-ranked pick scored 0.26 median
// normalized on the reporting tasks and SLEB's perplexity-ranked one 0.36
// (make search-demo, before the search kept both), while at 75% the KL
// pick led.
type objective struct {
	name string
	// loss is the candidate's distance from the full model in nats: its
	// KL, or its NLL above the full model's (full).
	loss func(c, full *Candidate) float64
}

var objectives = []objective{
	{"kl", func(c, _ *Candidate) float64 { return c.KL }},
	{"nll", func(c, full *Candidate) float64 { return c.NLL - full.NLL }},
}

// efficiency ranks the shrinking rounds: the loss a candidate pays per
// unit of compute it saves, the marginal rate greedy knapsack uses.
// Ranking by loss alone would always take the smallest cut (an attention
// half) and need many more rounds to reach a budget.
func (o objective) efficiency(full *Candidate) func(*Candidate) float64 {
	return func(c *Candidate) float64 {
		saved := 1 - c.Fraction
		if saved <= 0 {
			return math.Inf(1)
		}
		return o.loss(c, full) / saved
	}
}

// by ranks by the loss itself, for candidates that fit one budget.
func (o objective) by(full *Candidate) func(*Candidate) float64 {
	return func(c *Candidate) float64 { return o.loss(c, full) }
}

// union keeps the first appearance of each candidate, in order.
func union(lists ...[]*Candidate) []*Candidate {
	seen := map[*Candidate]bool{}
	var out []*Candidate
	for _, l := range lists {
		for _, c := range l {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// best sorts cs by key (ascending), the schedule text breaking ties so
// that equal inputs give equal searches, and keeps the first n.
func best(cs []*Candidate, n int, key func(*Candidate) float64) []*Candidate {
	seen := map[*Candidate]bool{}
	var uniq []*Candidate
	for _, c := range cs {
		if !seen[c] {
			seen[c] = true
			uniq = append(uniq, c)
		}
	}
	cs = uniq
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := key(cs[i]), key(cs[j])
		if a != b {
			return a < b
		}
		return cs[i].Schedule < cs[j].Schedule
	})
	return cs[:min(n, len(cs))]
}

// beamSearch shrinks the full model a block at a time, keeping the Beam
// candidates that pay least loss per compute saved by each objective,
// until every kept candidate fits the smallest budget. Then, for each
// budget and each objective, the candidates that fit it with the least
// loss are polished with rearrangements of equal or lower cost, and the
// best Finalists by each objective remain: up to 2 × Finalists, the KL
// ones first. Half-block steps enter in the polish, where they spend what
// a budget leaves (a block put back as one half) or trade a block for one
// half; offered in every round they would triple its candidates.
func (r *screener) beamSearch(ctx context.Context, T int) (map[float64][]*Candidate, *Candidate, error) {
	floor := slices.Min(r.o.Budgets)
	start, err := r.screen(ctx, "full model", []state{full(T)})
	if err != nil {
		return nil, nil, err
	}
	whole := start[0]
	beam := start
	for round := 1; ; round++ {
		var next []state
		for _, c := range beam {
			if c.Fraction > floor {
				next = append(next, c.st.shrink(false)...)
			}
		}
		if len(next) == 0 {
			break
		}
		cs, err := r.screen(ctx, fmt.Sprintf("search round %d", round), next)
		if err != nil {
			return nil, nil, err
		}
		var kept [][]*Candidate
		for _, o := range objectives {
			kept = append(kept, best(cs, r.o.Beam, o.efficiency(whole)))
		}
		beam = union(kept...)
	}
	out := map[float64][]*Candidate{}
	for _, f := range r.o.Budgets {
		fits := func(c *Candidate) bool { return c.Fraction <= f+1e-12 }
		var pool []*Candidate
		for _, c := range r.seen {
			if fits(c) {
				pool = append(pool, c)
			}
		}
		if len(pool) == 0 {
			return nil, nil, fmt.Errorf("no candidate fits budget %.2f", f)
		}
		var finalists [][]*Candidate
		for _, o := range objectives {
			top := best(pool, r.o.Finalists, o.by(whole))
			for p := range r.o.Polish {
				var next []state
				for _, c := range top {
					next = append(next, r.moves(T, f, c.st)...)
				}
				cs, err := r.screen(ctx, fmt.Sprintf("polish %.2f by %s, round %d", f, o.name, p+1), next)
				if err != nil {
					return nil, nil, err
				}
				top = best(append(top, cs...), r.o.Finalists, o.by(whole))
			}
			for _, c := range top {
				if c.Origin == "" {
					c.Origin = o.name
				}
			}
			finalists = append(finalists, top)
		}
		out[f] = union(finalists...)
	}
	return out, whole, nil
}

// exchangeReach is how far (in block index) an exchange may move a
// dropped block: far enough to shift a skip set's hole to either
// neighbour and the one beyond, near enough to keep the neighbourhood
// to about 4 candidates per dropped block.
const exchangeReach = 2

// moves lists the candidates one move from s that fit budget f: the polish
// and the refinement share them. Rearrangements, exchanges, put-backs and
// repeats, and with halves, a block cut to one half.
func (r *screener) moves(T int, f float64, s state) []state {
	next := append(s.rearrange(), s.exchange(T, exchangeReach)...)
	next = append(next, s.grow(T, r.o.Halves)...)
	if r.o.Halves {
		next = append(next, s.halve()...)
	}
	var fit []state
	for _, st := range next {
		if r.cost.Fraction(st.Schedule()) <= f+1e-12 {
			fit = append(fit, st)
		}
	}
	return fit
}

// neighbours screens the candidates one move from c that fit budget f and
// returns the best Finalists of them by each objective, those in skip
// left out: what the choosing tasks score next when c is their best.
func (r *screener) neighbours(ctx context.Context, T int, f float64, c, whole *Candidate, skip map[string]bool) ([]*Candidate, error) {
	cs, err := r.screen(ctx, fmt.Sprintf("refine %.2f", f), r.moves(T, f, c.st))
	if err != nil {
		return nil, err
	}
	var fresh []*Candidate
	for _, n := range cs {
		if !skip[n.Schedule] {
			fresh = append(fresh, n)
		}
	}
	var tops [][]*Candidate
	for _, o := range objectives {
		tops = append(tops, best(fresh, r.o.Finalists, o.by(whole)))
	}
	out := union(tops...)
	for _, n := range out {
		if n.Origin == "" {
			n.Origin = "refined"
		}
	}
	return out, nil
}

func schedulesOf(cs []*Candidate) []schedule.Schedule {
	out := make([]schedule.Schedule, len(cs))
	for i, c := range cs {
		out[i] = c.st.Schedule()
	}
	return out
}
