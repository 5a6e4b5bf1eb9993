package passes

import "errors"

// identityPass runs the unmodified model. It is the paper's reference point:
// "each benchmark is normalized so 0 = random guessing and 1 = the full
// model", and the round trip the lowering must reproduce exactly.
var identityPass = &Pass{
	Name:  "identity",
	Doc:   "run every block once, in order: the unmodified model",
	Paper: "The full model, blocks 0..T-1 in order; scores are normalized so that it scores 1.",
	Run: func(T int, o Options) (Result, error) {
		if T < 1 {
			return Result{}, errors.New("the model has no blocks")
		}
		return finish(T, Schedule{Steps: span(0, T-1)}, "", ignored("identity", o, nil))
	},
}
