package rewrite

import (
	"fmt"

	"github.com/painterc/painterc/schedule"
)

// StageStreams names the residual stream of the model Lower(m, b, s, p)
// builds, stage by stage, in its main graph: element 0 is the stream the
// first stage reads (b.Boundary[0]), element i+1 the output of stage i (a
// block instance, or a parallel group's mean), so the last is what the
// epilogue reads. It follows lowerGraph's naming (a test in package
// similarity checks every name against a lowered graph). Merged decoders
// have no main-graph stream: the result is nil.
func StageStreams(b *Blocks, s schedule.Schedule) []Stream {
	if b.Merged != nil {
		return nil
	}
	l := &lowering{b: b, root: "/painter"}
	out := []Stream{b.Boundary[0]}
	stages := s.Stages()
	k := 0
	for si, st := range stages {
		last := si == len(stages)-1
		if len(st.Blocks) == 1 {
			o := l.instanceStream(k, b.Boundary[st.Blocks[0]+1])
			if last {
				o = l.finalStream(o)
			}
			out = append(out, o)
			k++
			continue
		}
		width := len(b.Boundary[st.Blocks[0]+1])
		o := make(Stream, width)
		for p := range o {
			o[p] = fmt.Sprintf("%s/mean.%d/output", l.root, si)
			if width > 1 {
				o[p] = fmt.Sprintf("%s/mean.%d/output_%d", l.root, si, p)
			}
		}
		if last {
			o = l.finalStream(o)
		}
		out = append(out, o)
		k += len(st.Blocks)
	}
	return out
}
