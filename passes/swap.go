package passes

import (
	"fmt"
	"github.com/painterc/painterc/schedule"
)

// swapPass is the paper's Figure 2 probe "swap blocks i and i+1": every
// block runs once, in order, except that i+1 runs before i.
var swapPass = &Pass{
	Name:  "swap",
	Doc:   "exchange blocks I and I+1 (--index)",
	Paper: "Swap (Figure 2): blocks i and i+1 trade places and every other block runs in order.",
	Flags: []string{"index"},
	Build: func(T int, o Options) (Result, error) {
		i, err := index("swap", "the first of the two blocks to swap", T, o, T-2)
		if err != nil {
			return Result{}, err
		}
		var steps []schedule.Step
		if i > 0 {
			steps = append(steps, schedule.Span(0, i-1)...)
		}
		steps = append(steps, schedule.Span(i+1, i)...)
		if i+2 <= T-1 {
			steps = append(steps, schedule.Span(i+2, T-1)...)
		}
		return Result{Schedule: schedule.Schedule{Steps: steps}, Affected: 2, Params: fmt.Sprintf("index=%d", i)}, nil
	},
}
