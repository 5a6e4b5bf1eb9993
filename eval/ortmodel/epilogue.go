package ortmodel

import (
	"encoding/binary"
	"fmt"

	"github.com/painterc/painterc/rewrite/onnx"
)

// The scoring epilogue turns logits [batch, seq, vocab] into what scoring
// needs, inside the graph, so that ONNX Runtime never hands back a
// vocabulary-wide tensor:
//
//	painterc.targets  int64 [batch, seq]       (new input: the token each position should predict)
//	painterc.logprobs float32 [batch, seq]     log softmax(logits)[b, s, targets[b, s]]
//	painterc.argmax   int64 [batch, seq]       argmax over the vocabulary (first on ties)
//
// The nodes, after a Cast to float32 when the logits are float16 or
// bfloat16 (formLogSumExp, the default, then formLogSoftmax):
//
//	GatherElements(logits, Unsqueeze(targets, -1), axis=-1) - ReduceLogSumExp(logits, axes=[-1]) -> Squeeze(-1)
//	GatherElements(LogSoftmax(logits, axis=-1), Unsqueeze(targets, -1), axis=-1) -> Squeeze(-1)
//	ArgMax(logits, axis=-1, keepdims=0)
//
// Both give log softmax(logits)[target]; the first never materializes a
// second [batch, seq, vocab] tensor, which halves the peak memory of
// scoring a large vocabulary (see the package README's measurements).
// With axis=-1 LogSoftmax means the same at every opset: before 13 it
// flattens to [batch*seq, vocab] and normalizes each row, from 13 on it
// normalizes the last axis alone. Unsqueeze and Squeeze take their axes as
// an input from opset 13 and as an attribute before, ReduceLogSumExp from
// opset 18; GatherElements needs opset 11, the oldest the epilogue
// supports.
//
// The graph's other outputs are dropped but for the presents (logits
// included: nothing downstream of the epilogue is computed or copied out).

// epilogueForm is how the epilogue computes log-probabilities.
type epilogueForm int

const (
	// formLogSumExp: GatherElements(logits, targets) - ReduceLogSumExp(logits),
	// which keeps one vocabulary-wide tensor (the logits) alive instead of
	// two. ONNX Runtime's ReduceLogSumExp subtracts the maximum first, so it
	// is as stable as LogSoftmax (TestEpilogueOpsets feeds logits of ±300).
	formLogSumExp epilogueForm = iota
	// formLogSoftmax: GatherElements(LogSoftmax(logits), targets).
	formLogSoftmax
)

// minOpset is the oldest default-domain opset the epilogue can be written in.
const minOpset = 11

// defaultOpset is the model's default-domain ("" or "ai.onnx") opset.
func defaultOpset(m *onnx.Model) int64 {
	for _, o := range m.OpsetImport {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			return o.Version
		}
	}
	return 0
}

// withEpilogue returns a shallow copy of m (m itself is not modified) whose
// graph ends in the scoring epilogue and outputs logprobs, argmax and, with
// keep, the cache presents.
func withEpilogue(m *onnx.Model, f *iface, form epilogueForm) (*onnx.Model, error) {
	opset := defaultOpset(m)
	if opset < minOpset {
		return nil, fmt.Errorf("ortmodel: model %q imports opset %d of the default domain; the scoring epilogue needs opset %d or later (GatherElements)", m.Graph.Name, opset, minOpset)
	}
	mc := *m
	g := *m.Graph
	mc.Graph = &g
	g.Node = append([]*onnx.Node(nil), m.Graph.Node...)
	g.Input = append([]*onnx.ValueInfo(nil), m.Graph.Input...)
	g.Initializer = append([]*onnx.Tensor(nil), m.Graph.Initializer...)
	g.ValueInfo = m.Graph.ValueInfo

	used := map[string]bool{}
	for _, v := range g.Input {
		used[v.Name] = true
	}
	for _, t := range g.Initializer {
		used[t.Name] = true
	}
	for _, n := range g.Node {
		for _, o := range n.Output {
			used[o] = true
		}
	}
	for _, name := range []string{targetsName, logprobsName, argmaxName} {
		if used[name] {
			return nil, fmt.Errorf("ortmodel: model %q already has a value named %q; it cannot take the scoring epilogue", g.Name, name)
		}
	}
	fresh := func(base string) string {
		name := base
		for i := 1; used[name]; i++ {
			name = fmt.Sprintf("%s_%d", base, i)
		}
		used[name] = true
		return name
	}
	node := func(op string, in []string, out string, attrs ...*onnx.Attribute) {
		g.Node = append(g.Node, &onnx.Node{Name: "/painterc/score/" + op, OpType: op, Input: in, Output: []string{out}, Attribute: attrs})
	}
	axes := func(op string, x, out string) {
		if opset >= 13 {
			c := fresh("painterc.score.axes")
			raw := make([]byte, 8)
			binary.LittleEndian.PutUint64(raw, ^uint64(0)) // -1
			g.Initializer = append(g.Initializer, &onnx.Tensor{Name: c, Dims: []int64{1}, DataType: onnx.Int64, RawData: raw})
			node(op, []string{x, c}, out)
			return
		}
		node(op, []string{x}, out, &onnx.Attribute{Name: "axes", Type: onnx.AttrInts, Ints: []int64{-1}})
	}

	lt := tensorType(f.logits)
	batch, seq := cloneDim(lt.Shape.Dim[0]), cloneDim(lt.Shape.Dim[1])
	g.Input = append(g.Input, valueInfo(targetsName, onnx.Int64, batch, seq))

	x := f.logits.Name
	if f.logitsType != onnx.Float {
		c := fresh("painterc.score.logits_f32")
		node("Cast", []string{x}, c, intAttr("to", int64(onnx.Float)))
		x = c
	}
	tu := fresh("painterc.score.targets_u")
	axes("Unsqueeze", targetsName, tu)
	ge := fresh("painterc.score.gathered")
	if form == formLogSoftmax {
		lp := fresh("painterc.score.logsoftmax")
		node("LogSoftmax", []string{x}, lp, intAttr("axis", -1))
		node("GatherElements", []string{lp, tu}, ge, intAttr("axis", -1))
	} else {
		// logits[t] - logsumexp(logits): the same value as LogSoftmax's
		// entry, without a second [batch, seq, vocab] tensor.
		picked := fresh("painterc.score.target_logit")
		node("GatherElements", []string{x, tu}, picked, intAttr("axis", -1))
		lse := fresh("painterc.score.logsumexp")
		if opset >= 18 {
			c := fresh("painterc.score.axes")
			g.Initializer = append(g.Initializer, &onnx.Tensor{Name: c, Dims: []int64{1}, DataType: onnx.Int64, RawData: binary.LittleEndian.AppendUint64(nil, ^uint64(0))})
			node("ReduceLogSumExp", []string{x, c}, lse, intAttr("keepdims", 1))
		} else {
			node("ReduceLogSumExp", []string{x}, lse, &onnx.Attribute{Name: "axes", Type: onnx.AttrInts, Ints: []int64{-1}}, intAttr("keepdims", 1))
		}
		node("Sub", []string{picked, lse}, ge)
	}
	axes("Squeeze", ge, logprobsName)
	node("ArgMax", []string{x}, argmaxName, intAttr("axis", -1), intAttr("keepdims", 0))

	g.Output = []*onnx.ValueInfo{
		valueInfo(logprobsName, onnx.Float, cloneDim(batch), cloneDim(seq)),
		valueInfo(argmaxName, onnx.Int64, cloneDim(batch), cloneDim(seq)),
	}
	if f.cached {
		byName := map[string]*onnx.ValueInfo{}
		for _, v := range m.Graph.Output {
			byName[v.Name] = v
		}
		for _, s := range f.slots {
			g.Output = append(g.Output, byName[s.presKey], byName[s.presVal])
		}
	}
	return &mc, nil
}

func intAttr(name string, v int64) *onnx.Attribute {
	a := &onnx.Attribute{Name: name, Type: onnx.AttrInt, I: v}
	a.SetHas(3) // written even when 0
	return a
}

func cloneDim(d *onnx.Dimension) *onnx.Dimension {
	c := &onnx.Dimension{}
	switch {
	case d.DimParam != "":
		c.SetDimParam(d.DimParam)
	case d.Has(1) || d.DimValue > 0:
		c.SetDimValue(d.DimValue)
	}
	return c
}

func valueInfo(name string, dt onnx.DataType, dims ...*onnx.Dimension) *onnx.ValueInfo {
	return &onnx.ValueInfo{Name: name, Type: &onnx.Type{TensorType: &onnx.TensorType{ElemType: dt, Shape: &onnx.TensorShape{Dim: dims}}}}
}
