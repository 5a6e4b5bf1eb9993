package search

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/painterc/painterc/plot"
	"github.com/painterc/painterc/report"
)

// Paired is a paired bootstrap of the search's margin over a baseline on
// the reporting documents: both were scored on the same documents, so
// resampling documents (the same draw for both, and for the full model
// that normalizes them) gives the margin's spread without counting the
// noise they share. It needs every document's outcome, which rows stored
// before painterc kept them lack.
type Paired struct {
	Versus    string  // the baseline: the best one at the budget
	Low, High float64 // the 2.5th and 97.5th percentiles of the margin
	Ahead     float64 // the share of resamples in which the search is ahead
	Resamples int
}

// pairedResamples and pairedSeed fix the bootstrap, so that search.md is
// the same on every rerun.
const (
	pairedResamples = 2000
	pairedSeed      = 1
)

// pairedMargin bootstraps median normalized score of variant a minus that
// of variant b (labels) over the reporting tasks not at chance. ok is
// false when a task lacks any of the three variants' document outcomes
// or they were scored on different numbers of documents.
func pairedMargin(rows []report.Result, chance []report.ChanceTask, a, b string) (p Paired, ok bool) {
	skip := map[string]bool{}
	for _, c := range chance {
		skip[c.Task] = true
	}
	type task struct {
		base         float64
		full, va, vb []float64
	}
	byTask := map[string]*task{}
	for _, r := range rows {
		if skip[r.Task] || !r.HasBaseline {
			continue
		}
		t := byTask[r.Task]
		if t == nil {
			t = &task{base: r.Baseline}
			byTask[r.Task] = t
		}
		switch {
		case r.Pass == "identity":
			t.full = r.Docs
		case r.Label() == a:
			t.va = r.Docs
		case r.Label() == b:
			t.vb = r.Docs
		}
	}
	var names []string
	for name, t := range byTask {
		n := len(t.full)
		if n == 0 || len(t.va) != n || len(t.vb) != n {
			return Paired{}, false
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return Paired{}, false
	}
	sort.Strings(names) // the draw order must not depend on map order
	rng := rand.New(rand.NewPCG(pairedSeed, 0xb007))
	margins := make([]float64, 0, pairedResamples)
	na, nb := make([]float64, len(names)), make([]float64, len(names))
	ahead := 0
	for range pairedResamples {
		usable := true
		for i, name := range names {
			t := byTask[name]
			n := len(t.full)
			var sf, sa, sb float64
			for range n {
				j := rng.IntN(n)
				sf, sa, sb = sf+t.full[j], sa+t.va[j], sb+t.vb[j]
			}
			den := sf/float64(n) - t.base
			if den <= 0 {
				usable = false // the full model at chance in this draw
				continue
			}
			na[i], nb[i] = (sa/float64(n)-t.base)/den, (sb/float64(n)-t.base)/den
		}
		if !usable {
			continue
		}
		m := plot.MedianOf(na) - plot.MedianOf(nb)
		margins = append(margins, m)
		if m > 0 {
			ahead++
		}
	}
	if len(margins) == 0 {
		return Paired{}, false
	}
	sort.Float64s(margins)
	q := func(f float64) float64 { return margins[int(math.Round(f*float64(len(margins)-1)))] }
	return Paired{Low: q(0.025), High: q(0.975), Ahead: float64(ahead) / float64(len(margins)), Resamples: len(margins)}, true
}
