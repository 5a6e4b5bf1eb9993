package passes

import "github.com/painterc/painterc/schedule"

// parallelPass is the paper's "parallel": "every middle block receives the
// same h; output = mean_i block_i(h). Block outputs include the residual, so
// this equals h + mean_i Δ_i."
var parallelPass = newMiddlePass("parallel",
	"run the middle blocks in parallel on the same input and average their outputs",
	"Parallel: every middle block receives the same h; the output is mean_i block_i(h) = h + mean_i delta_i (Figure 1).",
	nil,
	OverN,
	func(a, b int, o Options) ([]schedule.Step, string, []string, error) {
		return []schedule.Step{{Kind: schedule.StepParallel, Members: blocks(a, b), Repeat: 1}}, "", nil, nil
	})

// blocks returns a, a+1, ..., b.
func blocks(a, b int) []int {
	var m []int
	for i := a; i <= b; i++ {
		m = append(m, i)
	}
	return m
}
