package passes

import "github.com/painterc/painterc/schedule"

// middleRepeatPass is the paper's "middle repeat": "block ⌊T/2⌋ (16 for
// Llama-7B, 12 for BERT-Large), run M times in sequence" in place of the
// M middle blocks. We repeat the middle's own centre, ⌊(A+B)/2⌋, which is
// ⌊T/2⌋ for the paper's symmetric middles N+1..T-N-1 and stays inside the
// middle when --layers picks an off-centre one.
var middleRepeatPass = newMiddlePass("middle-repeat",
	"run the centre block of the middle M times in place of the M middle blocks",
	"Middle repeat: block floor(T/2) (16 for Llama2-7B, 12 for BERT-Large) runs M = T-2N-1 times in sequence in place of the middle (Figure 1).",
	nil,
	OverN,
	func(a, b int, o Options) ([]schedule.Step, string, []string, error) {
		return []schedule.Step{{Kind: schedule.StepBlock, Block: (a + b) / 2, Repeat: b - a + 1}}, "", nil, nil
	})
