package ortmodel

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// runsCost is splitRuns' objective for a cut: padded positions plus
// runCost per run.
func runsCost(lens []int, cuts [][2]int) int {
	c := 0
	for _, r := range cuts {
		c += (r[1]-r[0])*lens[r[0]] + runCost
	}
	return c
}

// sizes lists each batch's size.
func sizes(cuts [][2]int) []int {
	var out []int
	for _, r := range cuts {
		out = append(out, r[1]-r[0])
	}
	return out
}

// cheapestCut tries every cut of lens into contiguous batches within cap.
func cheapestCut(lens []int, cap func(S int) int) int {
	best := -1
	var try func(i, cost int)
	try = func(i, cost int) {
		if i == len(lens) {
			if best < 0 || cost < best {
				best = cost
			}
			return
		}
		for n := 1; n <= min(cap(lens[i]), len(lens)-i); n++ {
			try(i+n, cost+n*lens[i]+runCost)
		}
	}
	try(0, 0)
	return best
}

// TestSplitRunsIsCheapest: on random lengths, sorted longest first as
// LogLikelihood sorts them, the cut covers every item in order, keeps each
// batch within its cap, and costs exactly the least of every possible cut.
func TestSplitRunsIsCheapest(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	m := &Model{}
	for trial := range 300 {
		n := 1 + r.IntN(11)
		lens := make([]int, n)
		for i := range lens {
			lens[i] = 1 + r.IntN(80)
		}
		slices.SortFunc(lens, func(a, b int) int { return b - a })
		limit := 1 + r.IntN(6)
		cap := func(S int) int { return max(1, limit*40/S) }
		cuts := m.splitRuns(n, func(i int) int { return lens[i] }, cap)
		i := 0
		for _, r := range cuts {
			s := r[1] - r[0]
			if r[0] != i || s < 1 || s > cap(lens[i]) {
				t.Fatalf("trial %d: lengths %v, cut %v: batch %v after item %d breaks order or the cap %d", trial, lens, cuts, r, i, cap(lens[i]))
			}
			i = r[1]
		}
		if i != n {
			t.Fatalf("trial %d: cut %v covers %d of %d items", trial, cuts, i, n)
		}
		if got, want := runsCost(lens, cuts), cheapestCut(lens, cap); got != want {
			t.Fatalf("trial %d: lengths %v: cut %v costs %d, the cheapest costs %d", trial, lens, cuts, got, want)
		}
	}
}

// TestSplitRunsCases pins the trade-off: a long outlier gets its own run
// rather than padding many short rows, a few slightly shorter rows share a
// run rather than pay for another, and a fixed batch size is obeyed as
// lm-eval obeys it.
func TestSplitRunsCases(t *testing.T) {
	m := &Model{}
	wide := func(int) int { return 64 }
	for _, c := range []struct {
		lens []int
		want []int
	}{
		{[]int{74, 20, 20, 20, 20, 20}, []int{1, 5}},
		{[]int{30, 29, 28, 27}, []int{4}},
		{[]int{9}, []int{1}},
		{nil, nil},
	} {
		got := sizes(m.splitRuns(len(c.lens), func(i int) int { return c.lens[i] }, wide))
		if !slices.Equal(got, c.want) {
			t.Errorf("lengths %v: cut %v, want %v", c.lens, got, c.want)
		}
	}
	fixed := &Model{opts: Options{BatchSize: 4}}
	if got := sizes(fixed.splitRuns(10, func(int) int { return 5 }, func(S int) int { return fixed.rowsFor(S, 1) })); !slices.Equal(got, []int{4, 4, 2}) {
		t.Errorf("BatchSize 4 over 10 items: cut %v, want [4 4 2]", got)
	}
	one := func(int) int { return 1 } // GroupQueryAttention's shared path
	if got := sizes(fixed.splitRuns(3, func(int) int { return 5 }, one)); !slices.Equal(got, []int{1, 1, 1}) {
		t.Errorf("BatchSize 4 where the path takes one row: cut %v, want [1 1 1]", got)
	}
}
