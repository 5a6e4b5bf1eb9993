package ortmodel

import "slices"

// runCost is what one session run costs beyond its token positions,
// counted in padded token positions. A run streams every weight from
// memory once however few rows it has, and on a CPU that takes about as
// long as computing 2·FLOP/s ÷ (bytes/s) ≈ 20 token positions (each
// position costs 2 FLOPs per 4-byte fp32 weight), whatever the model's
// size; ONNX Runtime's per-node dispatch adds a little. On SmolLM2-135M
// (2 threads) a 2-token run after a cached context took 21 ms and a
// prefill cost about 1.2 ms a token, which puts it near 18.
const runCost = 24

// splitRuns cuts n items, sorted longest first, into contiguous batches:
// it returns each batch's [lo, hi). length(i) is item i's padded length, so a
// batch starting at i runs length(i) positions per row; rows(S) caps a
// batch whose rows are S long. With a fixed Options.BatchSize (which rows
// returns, unless the path allows less) the cut is every rows(S) items, as
// lm-eval's batches are; otherwise the cut is
// the one that minimizes the padded positions plus runCost per run, by
// dynamic programming over where each batch ends. One batch of every
// item pads the short ones to the longest; one batch each streams the
// weights n times; the minimum sits between.
func (m *Model) splitRuns(n int, length func(i int) int, rows func(S int) int) [][2]int {
	if n == 0 {
		return nil
	}
	if m.opts.BatchSize > 0 {
		var cuts [][2]int
		for lo := 0; lo < n; lo = cuts[len(cuts)-1][1] {
			cuts = append(cuts, [2]int{lo, min(lo+max(rows(length(lo)), 1), n)})
		}
		return cuts
	}
	// best[j]: the least cost of the first j items; from[j]: where the
	// last batch of that cut starts.
	best := make([]int64, n+1)
	from := make([]int, n+1)
	for j := 1; j <= n; j++ {
		best[j] = -1
	}
	for i := 0; i < n; i++ {
		S := length(i)
		cap := max(rows(S), 1)
		for j := i + 1; j <= min(n, i+cap); j++ {
			c := best[i] + int64(j-i)*int64(S) + runCost
			if best[j] < 0 || c < best[j] {
				best[j], from[j] = c, i
			}
		}
	}
	var cuts [][2]int
	for j := n; j > 0; j = from[j] {
		cuts = append(cuts, [2]int{from[j], j})
	}
	slices.Reverse(cuts)
	return cuts
}
