package search

import (
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/schedule"
)

// part is which of a block's halves a step runs.
type part = schedule.Part

const (
	whole    = schedule.Whole
	attnOnly = schedule.Attn // the attention sublayer alone
	mlpOnly  = schedule.MLP  // the MLP sublayer alone
)

func stagePart(st schedule.Stage) part { return st.Part }

// halfNodes is each block's attention-half and MLP-half nodes, or nil when
// some block cannot be split (rewrite.Blocks.MidReason says why).
func halfNodes(b *rewrite.Blocks) [][2][]int {
	out := make([][2][]int, b.T)
	for i := range b.T {
		if b.Mid[i] == nil {
			return nil
		}
		out[i] = [2][]int{b.Half(i, schedule.Attn), b.Half(i, schedule.MLP)}
	}
	return out
}

func withPart(st schedule.Step, p part) schedule.Step {
	st.Part = p
	return st
}
