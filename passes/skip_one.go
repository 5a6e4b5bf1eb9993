package passes

import (
	"errors"
	"fmt"
	"github.com/painterc/painterc/schedule"
)

// skipOnePass is the paper's Figure 2 probe "skip block i alone": every
// other block runs once, in order.
var skipOnePass = &Pass{
	Name:  "skip-one",
	Doc:   "drop block I (--index) alone",
	Paper: "Skip one (Figure 2): block i is skipped and every other block runs in order.",
	Flags: []string{"index"},
	Sweep: OverBlocks,
	Build: func(T int, o Options) (Result, error) {
		i, err := index("skip-one", "the block to skip", T, o, T-1)
		if err != nil {
			return Result{}, err
		}
		if T == 1 {
			return Result{}, errors.New("skip-one --index 0 would remove the only block of the model")
		}
		var steps []schedule.Step
		if i > 0 {
			steps = append(steps, schedule.Span(0, i-1)...)
		}
		if i < T-1 {
			steps = append(steps, schedule.Span(i+1, T-1)...)
		}
		return Result{Schedule: schedule.Schedule{Steps: steps}, Affected: 1, Params: fmt.Sprintf("index=%d", i)}, nil
	},
}

// index checks --index for the single-block probes: it must be given and lie
// in 0..last.
func index(name, what string, T int, o Options, last int) (int, error) {
	if T < 1 {
		return 0, errors.New("the model has no blocks")
	}
	if last < 0 {
		return 0, fmt.Errorf("%s needs a model with at least 2 blocks; this one has %s", name, schedule.BlockCount(T))
	}
	if !o.HasIndex {
		return 0, fmt.Errorf("%s needs --index I, %s (I in %s)", name, what, rangeText(0, last))
	}
	if i := o.Index; i < 0 || i > last {
		if last == T-1 {
			return 0, fmt.Errorf("--index %d is out of range: the model has %s", i, schedule.BlockCount(T))
		}
		return 0, fmt.Errorf("--index %d is out of range: %s exchanges blocks I and I+1, so I must be in %s for a model with %d blocks", i, name, rangeText(0, last), T)
	}
	return o.Index, nil
}
