package rewrite

import (
	"fmt"
	"strings"

	"github.com/painterc/painterc/onnx"
)

// NodeGraph is the graph that b's node indices refer to: top itself, or
// for a merged decoder the first branch of its If node.
func (b *Blocks) NodeGraph(top *onnx.Graph) *onnx.Graph {
	if b.Merged == nil {
		return top
	}
	for _, a := range top.Node[b.Merged.Node].Attribute {
		if a.Name == b.Merged.Attrs[0] {
			return a.G
		}
	}
	return top
}

// MergedIf locates blocks inside the branches of one If node.
type MergedIf struct {
	Node     int       // index of the If node in the top-level graph
	Attrs    []string  // its branch attributes, in node order
	Branches []*Blocks // detection inside each branch
}

// detectMerged looks for an If node whose every branch is a transformer
// with the same number of blocks. It returns nil, nil when there is none.
func detectMerged(g *onnx.Graph, o DetectOptions) (*Blocks, error) {
	for i, n := range g.Node {
		if n.OpType != "If" || n.Domain != "" {
			continue
		}
		var m MergedIf
		var errs []string
		for _, a := range n.Attribute {
			if a.G == nil {
				continue
			}
			bo := o
			bo.outerInits = append(append([]*onnx.Tensor(nil), o.outerInits...), g.Initializer...)
			b, err := Detect(a.G, bo)
			if err != nil {
				errs = append(errs, fmt.Sprintf("If node %q, %s: %v", n.Name, a.Name, err))
				continue
			}
			m.Attrs = append(m.Attrs, a.Name)
			m.Branches = append(m.Branches, b)
		}
		if len(m.Branches) == 0 {
			continue
		}
		if len(errs) > 0 {
			return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
		}
		first := m.Branches[0]
		for j, b := range m.Branches[1:] {
			if b.T != first.T || b.HasKV() != first.HasKV() {
				return nil, fmt.Errorf("If node %q: %s has %d blocks but %s has %d", n.Name, m.Attrs[0], first.T, m.Attrs[j+1], b.T)
			}
		}
		m.Node = i
		out := *first
		out.Merged = &m
		out.Notes = append(append([]string(nil), first.Notes...), fmt.Sprintf("the blocks are inside If node %q (branches %s), as in a merged decoder; each branch is rewritten the same way", n.Name, strings.Join(m.Attrs, ", ")))
		return &out, nil
	}
	return nil, nil
}
