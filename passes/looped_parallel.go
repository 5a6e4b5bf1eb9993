package passes

import (
	"fmt"
	"github.com/painterc/painterc/schedule"
)

// loopedParallelPass is the paper's "looped parallel": "the parallel group
// repeated R times, each iteration fed the previous mean. Main results use
// R=3; the best R grows roughly with M."
var loopedParallelPass = newMiddlePass("looped-parallel",
	"run the middle in parallel R times (--loops, default 3), each pass fed the previous mean",
	"Looped parallel: the parallel middle repeated R times, each iteration fed the previous mean; the main results use R = 3 and the best R grows roughly with M (Figure 1).",
	[]string{"loops"},
	OverNLoops,
	func(a, b int, o Options) ([]schedule.Step, string, []string, error) {
		r := o.Loops
		var notes []string
		if !o.HasLoops && r == 0 {
			r = defaultLoops
			notes = append(notes, fmt.Sprintf("no --loops given: using R = %d, the paper's main setting", r))
		}
		if r < 1 {
			return nil, "", nil, fmt.Errorf("--loops %d: the loop count must be at least 1", r)
		}
		if r > schedule.MaxNumber {
			return nil, "", nil, fmt.Errorf("--loops %d is too large: at most %d is allowed", r, schedule.MaxNumber)
		}
		step := schedule.Step{Kind: schedule.StepParallel, Members: blocks(a, b), Repeat: r}
		return []schedule.Step{step}, fmt.Sprintf("loops=%d", r), notes, nil
	})
