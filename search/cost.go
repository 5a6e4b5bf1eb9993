package search

import (
	"fmt"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/schedule"
)

// Cost is a model's block compute, counted from its graph: the
// multiply-accumulates of every weight matrix a block's nodes multiply by,
// times two, per token. Attention's score and value products grow with the
// context and hold no weights, so they are left out: on the models the
// paper studies they are a few percent of a block at the lengths lm-eval
// scores, and counting them would make the budget depend on the length.
type Cost struct {
	// Block[i] is block i's FLOPs per token.
	Block []float64
	// Half[i] is the FLOPs per token of block i's attention and MLP halves,
	// when the layout lets a block run one half alone (Blocks.Mid); nil
	// otherwise.
	Half [][2]float64
	// Counted is false when no weight matrix was found in any block (an
	// unusual layout): every block then costs 1, and Note says so.
	Counted bool
	Note    string
}

// CountCost counts the FLOPs per token of each block of m.
func CountCost(m *onnx.Model, b *rewrite.Blocks) Cost {
	g := b.NodeGraph(m.Graph)
	inits := map[string]*onnx.Tensor{}
	for _, t := range m.Graph.Initializer {
		inits[t.Name] = t
	}
	for _, t := range g.Initializer {
		inits[t.Name] = t
	}
	producer := map[string]*onnx.Node{}
	for _, n := range g.Node {
		for _, o := range n.Output {
			producer[o] = n
		}
	}
	count := func(nodes []int) float64 {
		var f float64
		for _, i := range nodes {
			f += nodeFLOPs(g.Node[i], inits, producer)
		}
		return f
	}
	c := Cost{Block: make([]float64, b.T), Counted: true}
	total := 0.0
	for i := range b.T {
		c.Block[i] = count(b.Block[i])
		total += c.Block[i]
	}
	if total == 0 {
		c.Counted = false
		c.Note = "no weight matrix found in the blocks: every block counts as one unit of compute"
		for i := range c.Block {
			c.Block[i] = 1
		}
		return c
	}
	if halves := halfNodes(b); halves != nil {
		c.Half = make([][2]float64, b.T)
		for i := range b.T {
			c.Half[i] = [2]float64{count(halves[i][0]), count(halves[i][1])}
		}
	}
	return c
}

// nodeFLOPs is 2·K·N for a product by a K×N weight (MatMul, Gemm,
// MatMulNBits, MatMulInteger, FusedMatMul), 0 for anything else. A weight
// reached through Transpose, Cast, Identity or DequantizeLinear (dynamo
// and quantized exports) counts as the initializer it came from.
func nodeFLOPs(n *onnx.Node, inits map[string]*onnx.Tensor, producer map[string]*onnx.Node) float64 {
	switch n.OpType {
	case "MatMulNBits":
		var k, nn int64
		for _, a := range n.Attribute {
			switch a.Name {
			case "K":
				k = a.I
			case "N":
				nn = a.I
			}
		}
		return 2 * float64(k) * float64(nn)
	case "MatMul", "Gemm", "MatMulInteger", "FusedMatMul":
		for _, in := range n.Input[:min(2, len(n.Input))] {
			if w := weight(in, inits, producer, 0); w != nil && len(w.Dims) == 2 {
				return 2 * float64(w.Dims[0]) * float64(w.Dims[1])
			}
		}
	}
	return 0
}

// weight follows name back through shape-preserving nodes to an
// initializer, or returns nil when it is computed from the stream.
func weight(name string, inits map[string]*onnx.Tensor, producer map[string]*onnx.Node, depth int) *onnx.Tensor {
	if t, ok := inits[name]; ok {
		return t
	}
	p := producer[name]
	if p == nil || depth > 3 || len(p.Input) == 0 {
		return nil
	}
	switch p.OpType {
	case "Transpose", "Cast", "Identity", "DequantizeLinear":
		return weight(p.Input[0], inits, producer, depth+1)
	}
	return nil
}

// Total is the full model's block compute.
func (c Cost) Total() float64 {
	t := 0.0
	for _, f := range c.Block {
		t += f
	}
	return t
}

// Of is the block compute of a schedule: every block instance it runs, a
// parallel group's members and every loop iteration included.
func (c Cost) Of(s schedule.Schedule) float64 {
	f := 0.0
	for _, st := range s.Stages() {
		for _, blk := range st.Blocks {
			f += c.unit(blk, stagePart(st))
		}
	}
	return f
}

// unit is the cost of running one block, or one half of it.
func (c Cost) unit(blk int, p part) float64 {
	switch {
	case p == whole || c.Half == nil:
		return c.Block[blk]
	case p == attnOnly:
		return c.Half[blk][0]
	default:
		return c.Half[blk][1]
	}
}

// Fraction is Of(s) over the full model's block compute.
func (c Cost) Fraction(s schedule.Schedule) float64 { return c.Of(s) / c.Total() }

// String says what a block costs, for the search's notes.
func (c Cost) String() string {
	if !c.Counted {
		return c.Note
	}
	lo, hi := c.Block[0], c.Block[0]
	for _, f := range c.Block {
		lo, hi = min(lo, f), max(hi, f)
	}
	s := fmt.Sprintf("%d blocks, %.3g to %.3g weight FLOPs per token each (%.3g in all)", len(c.Block), lo, hi, c.Total())
	if c.Half != nil {
		s += fmt.Sprintf("; block 0's attention half %.3g, MLP half %.3g", c.Half[0][0], c.Half[0][1])
	}
	return s
}
