package passes

import "github.com/painterc/painterc/schedule"

// identityPass runs the unmodified model. It is the paper's reference point:
// "each benchmark is normalized so 0 = random guessing and 1 = the full
// model", and the round trip the lowering must reproduce exactly.
var identityPass = &Pass{
	Name:  "identity",
	Doc:   "run every block once, in order: the unmodified model",
	Paper: "The full model, blocks 0..T-1 in order; scores are normalized so that it scores 1.",
	Sweep: Reference,
	Build: func(T int, o Options) (Result, error) {
		return Result{Schedule: schedule.Schedule{Steps: schedule.Span(0, T-1)}}, nil
	},
}
