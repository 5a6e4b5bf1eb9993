package passes

import "github.com/painterc/painterc/schedule"

// reversePass is the paper's "reverse": the middle "N+1..T-N-1 in
// descending order".
var reversePass = newMiddlePass("reverse",
	"run the middle blocks in descending order",
	"Reverse: the middle blocks N+1..T-N-1 run in descending order (Figure 1).",
	nil,
	OverN,
	func(a, b int, o Options) ([]schedule.Step, string, []string, error) {
		return schedule.Span(b, a), "", nil, nil
	})
