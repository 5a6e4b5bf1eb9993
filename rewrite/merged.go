package rewrite

import (
	"fmt"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
)

// lowerMerged lowers a merged decoder: each branch of the If node that holds
// the blocks is lowered with the same schedule (so both number their KV
// slots alike), under its own name root, and the If node's outputs and the
// graph's cache inputs and outputs are renumbered to match. The weights stay
// in the outer graph, where the branches read them.
func lowerMerged(g *onnx.Graph, b *Blocks, s schedule.Schedule) (*onnx.Graph, error) {
	mi := b.Merged
	ifNode := g.Node[mi.Node]
	slots := s.Instances()
	nif := *ifNode
	nif.Attribute = make([]*onnx.Attribute, len(ifNode.Attribute))
	copy(nif.Attribute, ifNode.Attribute)
	for j, name := range mi.Attrs {
		for ai, a := range nif.Attribute {
			if a.Name != name {
				continue
			}
			ca := *a
			ca.G, _ = lowerGraph(a.G, mi.Branches[j], s, "/painter/"+name)
			nif.Attribute[ai] = &ca
		}
	}
	// The If node's outputs line up with its branches' outputs; their cache
	// entries are renumbered the same way.
	outs := make([]*onnx.ValueInfo, len(ifNode.Output))
	for i, n := range ifNode.Output {
		outs[i] = &onnx.ValueInfo{Name: n}
	}
	known := map[string]bool{}
	for _, kv := range b.KV {
		known[kv.PresentKey], known[kv.PresentValue] = true, true
	}
	for _, n := range ifNode.Output {
		if isKVName(n) && !known[n] {
			return nil, fmt.Errorf("If node %q outputs %q, but its branches name their cache outputs differently; painterc needs the If outputs named like the branch outputs (as optimum writes them)", ifNode.Name, n)
		}
	}
	nif.Output = nil
	for _, v := range kvInterface(b, outs, slots, true) {
		nif.Output = append(nif.Output, v.Name)
	}
	ng := *g
	ng.Node = append([]*onnx.Node(nil), g.Node...)
	ng.Node[mi.Node] = &nif
	ng.Input = kvInterface(b, g.Input, slots, false)
	ng.Output = kvInterface(b, g.Output, slots, true)
	return &ng, nil
}
