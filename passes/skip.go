package passes

import "github.com/painterc/painterc/schedule"

// skipPass is the paper's "skip": "nothing [runs in the middle]: h goes
// straight from block N to block T-N". Blocks 0..N and T-N..T-1 run
// normally; the middle N+1..T-N-1 (M = T-2N-1 blocks) is dropped.
var skipPass = newMiddlePass("skip",
	"drop the middle blocks: h goes straight from block N to block T-N",
	"Skip: nothing runs in the middle; h goes straight from block N to block T-N (Figure 1).",
	nil,
	OverN,
	func(a, b int, o Options) ([]schedule.Step, string, []string, error) {
		return nil, "", nil, nil
	})
