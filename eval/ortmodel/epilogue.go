package ortmodel

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/rewrite"
)

// The scoring epilogue turns logits [batch, seq, vocab] into what scoring
// needs, inside the graph, so that ONNX Runtime never hands back a
// vocabulary-wide tensor. Two new inputs pick the N positions to score,
// flat over the batch, and the token each should predict:
//
//	painterc.positions int64 [N]    b*seq + p for row b, position p
//	painterc.targets   int64 [N]
//	painterc.logprobs  float32 [N]  log softmax(logits[b, p])[target]
//	painterc.argmax    int64 [N]    argmax of logits[b, p] (first on ties)
//
// Scoring only the positions asked for matters: lm-eval scores the
// continuation, a small part of each row, and for a large vocabulary the
// lm_head and log-softmax over every position of a long context cost as
// much as the rest of the model.
// The nodes:
//
//	sel = Gather(Flatten(logits, axis=-1), positions, axis=0)        [N, vocab]
//	      or, when the logits come from an lm_head MatMul(h, W) with W a 2-D
//	      initializer, MatMul(Gather(Flatten(h, axis=-1), positions, axis=0), W),
//	      which replaces the lm_head: the unscored positions are never
//	      projected onto the vocabulary and [batch, seq, vocab] never exists;
//	      then Cast to float32 when the logits are float16 or bfloat16
//	logprobs = Squeeze(GatherElements(LogSoftmax(sel, axis=-1), Unsqueeze(targets, -1), axis=-1), -1)
//	   (formLogSumExp: Squeeze(GatherElements(sel, ...) - ReduceLogSumExp(sel, axes=[-1]), -1))
//	argmax = ArgMax(sel, axis=-1, keepdims=0)
//
// Both forms give log softmax(logits)[target]. sel is 2-D, so
// LogSoftmax's axis means the same at every opset (before 13 it flattens
// to 2-D first). Unsqueeze and Squeeze take their axes as an input from
// opset 13 and as an attribute before, ReduceLogSumExp from opset 18;
// GatherElements needs opset 11, the oldest the epilogue supports.
//
// The graph's other outputs are dropped but for the presents (logits
// included: nothing vocabulary-wide is copied out).

// epilogueForm is how the epilogue computes log-probabilities.
type epilogueForm int

const (
	// formLogSoftmax: GatherElements(LogSoftmax(sel), targets), the default.
	formLogSoftmax epilogueForm = iota
	// formLogSumExp: GatherElements(sel, targets) - ReduceLogSumExp(sel),
	// which never holds a second vocabulary-wide tensor. It mattered when
	// the epilogue read the whole [batch, seq, vocab] logits (half the peak
	// memory at vocabulary 128k); on the gathered [N, vocab] it makes no
	// measurable difference. ONNX Runtime's ReduceLogSumExp subtracts the
	// maximum first, so it is as stable as LogSoftmax (TestEpilogueOpsets
	// feeds logits of ±300).
	formLogSumExp
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
func withEpilogue(m *onnx.Model, f *iface, form epilogueForm, keepHead bool) (*onnx.Model, error) {
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

	used := rewrite.Defined(&g)
	for _, name := range []string{positionsName, targetsName, logprobsName, argmaxName} {
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
	nodes := map[string]int{}
	node := func(op string, in []string, out string, attrs ...*onnx.Attribute) {
		name := "/painterc/score/" + op
		if k := nodes[op]; k > 0 {
			name = fmt.Sprintf("%s_%d", name, k)
		}
		nodes[op]++
		g.Node = append(g.Node, &onnx.Node{Name: name, OpType: op, Input: in, Output: []string{out}, Attribute: attrs})
	}
	minusOne := func() string {
		c := fresh("painterc.score.axes")
		g.Initializer = append(g.Initializer, &onnx.Tensor{Name: c, Dims: []int64{1}, DataType: onnx.Int64, RawData: binary.LittleEndian.AppendUint64(nil, ^uint64(0))})
		return c
	}
	axes := func(op string, x, out string) {
		if opset >= 13 {
			node(op, []string{x, minusOne()}, out)
			return
		}
		node(op, []string{x}, out, &onnx.Attribute{Name: "axes", Type: onnx.AttrInts, Ints: []int64{-1}})
	}

	n := &onnx.Dimension{}
	n.SetDimParam("painterc_scored")
	g.Input = append(g.Input, valueInfo(positionsName, onnx.Int64, n), valueInfo(targetsName, onnx.Int64, cloneDim(n)))

	x := fresh("painterc.score.selected")
	if h := headMatMul(m.Graph, f.logits.Name); h >= 0 && !keepHead {
		// Move the positions' Gather before the lm_head: only the scored
		// hidden states are projected onto the vocabulary.
		head := m.Graph.Node[h]
		g.Node = slices.Delete(g.Node, h, h+1)
		flat := fresh("painterc.score.hidden_flat")
		node("Flatten", []string{head.Input[0]}, flat, intAttr("axis", -1))
		hs := fresh("painterc.score.hidden_selected")
		node("Gather", []string{flat, positionsName}, hs, intAttr("axis", 0))
		node("MatMul", []string{hs, head.Input[1]}, x)
	} else {
		flat := fresh("painterc.score.flat")
		node("Flatten", []string{f.logits.Name}, flat, intAttr("axis", -1))
		node("Gather", []string{flat, positionsName}, x, intAttr("axis", 0))
	}
	if f.logitsType != onnx.Float {
		c := fresh("painterc.score.selected_f32")
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
		// entry, without a second vocabulary-wide tensor.
		picked := fresh("painterc.score.target_logit")
		node("GatherElements", []string{x, tu}, picked, intAttr("axis", -1))
		lse := fresh("painterc.score.logsumexp")
		if opset >= 18 {
			node("ReduceLogSumExp", []string{x, minusOne()}, lse, intAttr("keepdims", 1))
		} else {
			node("ReduceLogSumExp", []string{x}, lse, &onnx.Attribute{Name: "axes", Type: onnx.AttrInts, Ints: []int64{-1}}, intAttr("keepdims", 1))
		}
		node("Sub", []string{picked, lse}, ge)
	}
	axes("Squeeze", ge, logprobsName)
	node("ArgMax", []string{x}, argmaxName, intAttr("axis", -1), intAttr("keepdims", 0))

	g.Output = []*onnx.ValueInfo{
		valueInfo(logprobsName, onnx.Float, cloneDim(n)),
		valueInfo(argmaxName, onnx.Int64, cloneDim(n)),
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
	// Every graph edit is checked, as the compile phases' are: a wrong
	// name here would otherwise surface as an ONNX Runtime load error.
	if err := rewrite.Verify("the scoring epilogue", &mc); err != nil {
		return nil, fmt.Errorf("ortmodel: this is a bug in painterc: %w", err)
	}
	return &mc, nil
}

// headMatMul returns the index of the node that computes the logits when
// it is an lm_head the epilogue can move its Gather in front of: a MatMul
// of the hidden states [batch, seq, hidden] by a 2-D initializer, whose
// output nothing else reads. Otherwise it returns -1.
func headMatMul(g *onnx.Graph, logits string) int {
	inits := map[string]*onnx.Tensor{}
	for _, t := range g.Initializer {
		inits[t.Name] = t
	}
	at := -1
	for i, n := range g.Node {
		if slices.Contains(n.Input, logits) {
			return -1
		}
		if slices.Contains(n.Output, logits) {
			at = i
		}
	}
	if at < 0 {
		return -1
	}
	n := g.Node[at]
	if n.OpType != "MatMul" || n.Domain != "" || len(n.Input) != 2 || len(n.Output) != 1 {
		return -1
	}
	if w := inits[n.Input[1]]; w == nil || len(w.Dims) != 2 {
		return -1
	}
	return at
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
