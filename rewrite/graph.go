// Package rewrite owns painterc's graph transformations: checking a graph's
// invariants (Verify), finding the decoder blocks of a transformer (Detect),
// lowering a schedule into a new graph (Lower), and the stable text form of a
// graph that golden files and --dump use (Dump). The wire format lives in the
// subpackage onnx; the schedule language in package passes.
package rewrite

import (
	"sort"

	"github.com/painterc/painterc/onnx"
)

// index answers dataflow questions about one graph: who produces a tensor,
// who reads it. Node inputs include the outer-scope names that a node's
// subgraphs (If/Loop/Scan bodies) read, because those are real dependencies.
type index struct {
	g         *onnx.Graph
	producer  map[string]int   // tensor -> index of the node that writes it
	consumers map[string][]int // tensor -> nodes that read it, ascending
	inputs    [][]string       // per node: explicit inputs then subgraph captures
	isInit    map[string]bool
	isInput   map[string]bool
	isOutput  map[string]bool
	hints     []int // layer index each node's name carries; see layerHints
}

func newIndex(g *onnx.Graph) *index {
	ix := &index{
		g:         g,
		producer:  make(map[string]int, len(g.Node)*2),
		consumers: make(map[string][]int, len(g.Node)*2),
		inputs:    make([][]string, len(g.Node)),
		isInit:    make(map[string]bool, len(g.Initializer)),
		isInput:   make(map[string]bool, len(g.Input)),
		isOutput:  make(map[string]bool, len(g.Output)),
	}
	for _, t := range g.Initializer {
		ix.isInit[t.Name] = true
	}
	for _, t := range g.SparseInitializer {
		if t.Values != nil {
			ix.isInit[t.Values.Name] = true
		}
	}
	for _, v := range g.Input {
		ix.isInput[v.Name] = true
	}
	for _, v := range g.Output {
		ix.isOutput[v.Name] = true
	}
	for i, n := range g.Node {
		for _, o := range n.Output {
			if o != "" {
				if _, dup := ix.producer[o]; !dup {
					ix.producer[o] = i
				}
			}
		}
		ins := nodeReads(n)
		ix.inputs[i] = ins
		seen := map[string]bool{}
		for _, in := range ins {
			if in == "" || seen[in] {
				continue
			}
			seen[in] = true
			ix.consumers[in] = append(ix.consumers[in], i)
		}
	}
	return ix
}

// nodeReads lists every tensor a node reads: its inputs, then the names its
// subgraphs capture from the enclosing scope.
func nodeReads(n *onnx.Node) []string {
	ins := append([]string(nil), n.Input...)
	for _, a := range n.Attribute {
		for _, sg := range attrGraphs(a) {
			ins = append(ins, captures(sg)...)
		}
	}
	return ins
}

func attrGraphs(a *onnx.Attribute) []*onnx.Graph {
	var gs []*onnx.Graph
	if a.G != nil {
		gs = append(gs, a.G)
	}
	return append(gs, a.Graphs...)
}

// Defined returns the names g itself defines: its inputs, initializers
// (sparse ones included) and node outputs, not those of its subgraphs. A
// pass that adds tensors to a graph picks names outside it.
func Defined(g *onnx.Graph) map[string]bool {
	defined := make(map[string]bool, len(g.Input)+len(g.Initializer)+2*len(g.Node))
	for _, v := range g.Input {
		defined[v.Name] = true
	}
	for _, t := range g.Initializer {
		defined[t.Name] = true
	}
	for _, t := range g.SparseInitializer {
		if t.Values != nil {
			defined[t.Values.Name] = true
		}
	}
	for _, n := range g.Node {
		for _, o := range n.Output {
			if o != "" {
				defined[o] = true
			}
		}
	}
	return defined
}

// captures returns the names a subgraph reads but does not define, sorted.
func captures(g *onnx.Graph) []string {
	defined := Defined(g)
	free := map[string]bool{}
	for _, n := range g.Node {
		for _, in := range nodeReads(n) {
			if in != "" && !defined[in] {
				free[in] = true
			}
		}
	}
	for _, v := range g.Output {
		if !defined[v.Name] {
			free[v.Name] = true
		}
	}
	out := make([]string, 0, len(free))
	for n := range free {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// isShapeOnly reports ops whose output depends only on the shape or size of
// their input, not on its values. Dataflow through them does not carry the
// residual stream, so a mask computed from Shape(input_ids) is a side input,
// not part of the stream.
func isShapeOnly(op string) bool { return op == "Shape" || op == "Size" }
