package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/painterc/painterc/similarity"
)

// The baselines: what each peer method would run at the same budget. Each
// drops whole blocks until the schedule's compute fits, by its own rule.
// None of them reorders, repeats, groups or halves blocks.

// Baseline is one method's schedule at one budget.
type Baseline struct {
	Method   string // "shortgpt", "angular", "sleb", "random"
	Budget   float64
	Schedule string
	Fraction float64
	Dropped  []int // blocks dropped, ascending
}

// Methods are the baselines in the order reports list them, with what
// each does in a line.
var Methods = []struct{ Name, Does string }{
	{"shortgpt", "ShortGPT (Men et al. 2024): drop the blocks of lowest Block Influence"},
	{"angular", "Gromov et al. 2024: drop the span of blocks with the smallest angular distance at the last token"},
	{"sleb", "SLEB (Song et al. 2024): drop blocks one at a time, each time the one whose removal gives the lowest calibration perplexity"},
	{"random", "a seeded random choice of blocks to drop"},
}

// dropUntil drops blocks in the order given until the compute fits f.
func dropUntil(T int, cost Cost, f float64, order []int) []int {
	var dropped []int
	left := cost.Total()
	for _, blk := range order {
		if left <= f*cost.Total()+1e-9 {
			break
		}
		dropped = append(dropped, blk)
		left -= cost.Block[blk]
	}
	slices.Sort(dropped)
	return dropped
}

// keep is the schedule that runs 0..T-1 but the dropped blocks.
func keep(T int, dropped []int) state {
	var s state
	for i := range T {
		if !slices.Contains(dropped, i) {
			s = append(s, item{blocks: []int{i}})
		}
	}
	return s
}

func baseline(method string, T int, cost Cost, f float64, dropped []int) Baseline {
	s := keep(T, dropped)
	return Baseline{Method: method, Budget: f, Schedule: s.key(), Fraction: cost.Fraction(s.Schedule()), Dropped: dropped}
}

// ShortGPT drops the blocks of lowest Block Influence (ties: the lower
// index first).
func ShortGPT(a *similarity.Analysis, cost Cost, f float64) Baseline {
	order := make([]int, a.T)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return a.BI[order[i]] < a.BI[order[j]] })
	return baseline("shortgpt", a.T, cost, f, dropUntil(a.T, cost, f, order))
}

// Angular drops the span Gromov et al. prune: of the spans long enough to
// bring the compute within f, the shortest length that has one, and of
// those the span with the smallest angular distance between the states
// before and after it (the earliest on a tie).
func Angular(a *similarity.Analysis, cost Cost, f float64) Baseline {
	for n := 1; n < a.T; n++ {
		bestStart, bestD := -1, 0.0
		for l := 0; l+n <= a.T; l++ {
			var span []int
			for b := l; b < l+n; b++ {
				span = append(span, b)
			}
			if cost.Fraction(keep(a.T, span).Schedule()) > f+1e-12 {
				continue
			}
			if d := a.Distance(n, l); bestStart < 0 || d < bestD {
				bestStart, bestD = l, d
			}
		}
		if bestStart >= 0 {
			var span []int
			for b := bestStart; b < bestStart+n; b++ {
				span = append(span, b)
			}
			return baseline("angular", a.T, cost, f, span)
		}
	}
	return baseline("angular", a.T, cost, f, nil)
}

// Random drops blocks in a seeded random order.
func Random(T int, cost Cost, f float64, seed uint64) Baseline {
	order := rand.New(rand.NewPCG(seed, 0x5eed)).Perm(T)
	b := baseline("random", T, cost, f, dropUntil(T, cost, f, order))
	return b
}

// sleb runs SLEB: from the full model, drop the one block whose removal
// gives the lowest calibration NLL (the log of the perplexity), again and
// again until the compute fits each budget in turn (largest first, so one
// run serves every budget: SLEB's removals are nested).
func (r *screener) sleb(ctx context.Context, T int, budgets []float64) ([]Baseline, error) {
	bs := slices.Clone(budgets)
	slices.Sort(bs)
	slices.Reverse(bs)
	cur := full(T)
	var dropped []int
	var out []Baseline
	for _, f := range bs {
		for r.cost.Fraction(cur.Schedule()) > f+1e-12 {
			if len(cur) == 1 {
				return nil, fmt.Errorf("sleb: budget %.2f cannot be met by dropping whole blocks", f)
			}
			cands, err := r.screen(ctx, fmt.Sprintf("sleb %.2f", f), cur.shrink(false))
			if err != nil {
				return nil, err
			}
			c := best(cands, 1, func(c *Candidate) float64 { return c.NLL })[0]
			for _, it := range cur {
				if !c.st.runs(it.blocks[0]) {
					dropped = append(dropped, it.blocks[0])
				}
			}
			cur = c.st
		}
		out = append(out, baseline("sleb", T, r.cost, f, slices.Sorted(slices.Values(dropped))))
	}
	return out, nil
}
