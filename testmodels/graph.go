package testmodels

import (
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"strconv"

	"github.com/painterc/painterc/onnx"
)

// builder accumulates one graph. Node names follow the torch exporter: the
// module scope, then the op type, then _1, _2, ... for later nodes of the
// same type in the same scope. Outputs of a named node are
// "<node name>_output_<j>"; outputs of unnamed nodes are
// "onnx::<hint>_<n>" (or a bare number with NoNames). Every name is checked
// for uniqueness when the model is finished.
type builder struct {
	s      Spec
	w      *weights
	g      *onnx.Graph
	count  map[string]int    // scope + "\x00" + op type -> nodes so far
	inits  map[string]bool   // initializer names already added
	anon   int               // counter for anonymous values
	extEnd int64             // end of the last ExternalData payload so far
	outSep string            // between a node's name and its output index: "_output_", genai's "/output_"
	params map[string]string // initializer name -> the parameter it holds (for the dynamo layout)
}

func newBuilder(s Spec) *builder {
	sep := "_output_"
	if s.GenAI {
		sep = "/output_"
	}
	return &builder{
		s:      s,
		w:      newWeights(s.Seed),
		g:      &onnx.Graph{Name: "main_graph"},
		count:  map[string]int{},
		inits:  map[string]bool{},
		outSep: sep,
		params: map[string]string{},
	}
}

// nodeName returns the next torch-style name for an op in scope, or "" for
// an unnamed node (scope "" or NoNames).
func (b *builder) nodeName(scope, op string) string {
	if scope == "" || b.s.NoNames {
		return ""
	}
	k := scope + "\x00" + op
	n := b.count[k]
	b.count[k] = n + 1
	if n == 0 {
		return scope + "/" + op
	}
	return scope + "/" + op + "_" + strconv.Itoa(n)
}

// anonValue names an output of an unnamed node.
func (b *builder) anonValue(hint string) string {
	b.anon++
	if b.s.NoNames {
		return strconv.Itoa(b.anon)
	}
	return "onnx::" + hint + "_" + strconv.Itoa(b.anon)
}

// emit appends a node. outs gives explicit output names; an empty entry is
// named automatically.
func (b *builder) emit(scope, op string, ins []string, outs []string, attrs ...*onnx.Attribute) []string {
	name := b.nodeName(scope, op)
	for j := range outs {
		if outs[j] != "" {
			continue
		}
		if name != "" {
			outs[j] = name + b.outSep + strconv.Itoa(j)
		} else {
			outs[j] = b.anonValue(op)
		}
	}
	b.g.Node = append(b.g.Node, &onnx.Node{
		Name:      name,
		OpType:    op,
		Input:     ins,
		Output:    outs,
		Attribute: attrs,
	})
	return outs
}

// op emits a single-output node.
func (b *builder) op(scope, op string, ins []string, attrs ...*onnx.Attribute) string {
	return b.emit(scope, op, ins, []string{""}, attrs...)[0]
}

// opTo emits a single-output node whose output has a given name.
func (b *builder) opTo(out, scope, op string, ins []string, attrs ...*onnx.Attribute) string {
	return b.emit(scope, op, ins, []string{out}, attrs...)[0]
}

// constant emits an unnamed Constant node (as the exporter leaves hundreds
// of them) whose output is called after its consumer, hint.
func (b *builder) constant(t *onnx.Tensor, hint string) string {
	out := b.anonValue(hint)
	b.g.Node = append(b.g.Node, &onnx.Node{
		OpType:    "Constant",
		Output:    []string{out},
		Attribute: []*onnx.Attribute{attrTensor("value", t)},
	})
	return out
}

func (b *builder) constInts(hint string, v ...int64) string { return b.constant(i64s(v), hint) }
func (b *builder) constInt(hint string, v int64) string     { return b.constant(i64Scalar(v), hint) }
func (b *builder) constFloat(hint string, v float32) string {
	return b.constant(f32Scalar(v), hint)
}

// param adds a float32 initializer once (later calls only return its name)
// and returns onnxName. name is the parameter's logical name, which seeds its
// values; onnxName is what the graph calls it.
func (b *builder) param(name, onnxName string, shape []int, kind initKind) string {
	if b.inits[onnxName] {
		return onnxName
	}
	b.inits[onnxName] = true
	b.params[onnxName] = name
	var t *onnx.Tensor
	if b.s.ExternalData != "" {
		t = b.external(shape)
	} else {
		t = f32Tensor(shape, b.w.get(name, shape, kind))
	}
	t.Name = onnxName
	b.g.Initializer = append(b.g.Initializer, t)
	return onnxName
}

// extAlign is the alignment of every payload in an ExternalData file (the
// page size, as onnx.Save aligns large payloads).
const extAlign = 4096

// external returns a float32 tensor of the given shape whose payload is the
// next aligned range of the Spec's ExternalData file. No values are made.
func (b *builder) external(shape []int) *onnx.Tensor {
	n := int64(4)
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d)
		n *= int64(d)
	}
	off := (b.extEnd + extAlign - 1) / extAlign * extAlign
	b.extEnd = off + n
	t := &onnx.Tensor{Dims: dims, DataType: onnx.Float, DataLocation: onnx.LocationExternal,
		ExternalData: []*onnx.StringStringEntry{
			{Key: "location", Value: filepath.ToSlash(filepath.Clean(b.s.ExternalData))},
			{Key: "offset", Value: strconv.FormatInt(off, 10)},
			{Key: "length", Value: strconv.FormatInt(n, 10)},
		}}
	t.SetHas(14)
	return t
}

// ExternalDataSize is the number of bytes the data file of a model built
// with Spec.ExternalData must hold: the end of its last external payload
// (0 when no tensor is external).
func ExternalDataSize(m *onnx.Model) (int64, error) {
	var end int64
	if m == nil || m.Graph == nil {
		return 0, nil
	}
	for _, t := range m.Graph.Initializer {
		if !t.IsExternal() {
			continue
		}
		info, err := t.External()
		if err != nil {
			return 0, err
		}
		if info.Length < 0 {
			return 0, fmt.Errorf("testmodels: tensor %q has no external data length", t.Name)
		}
		end = max(end, info.Offset+info.Length)
	}
	return end, nil
}

// initializer adds a ready tensor once.
func (b *builder) initializer(t *onnx.Tensor) string {
	if !b.inits[t.Name] {
		b.inits[t.Name] = true
		b.g.Initializer = append(b.g.Initializer, t)
	}
	return t.Name
}

// anonWeight is the name an exporter gives a bias-free linear weight: the
// numbering is fixed per parameter (slot), not per build, so a weight has the
// same name in every model built from the same spec.
func anonWeight(slot int) string { return "onnx::MatMul_" + strconv.Itoa(3000+slot) }

// input and output declare graph I/O.
func (b *builder) input(name string, dt onnx.DataType, dims ...any) {
	b.g.Input = append(b.g.Input, valueInfo(name, dt, dims...))
}

func (b *builder) output(name string, dt onnx.DataType, dims ...any) {
	b.g.Output = append(b.g.Output, valueInfo(name, dt, dims...))
}

// rename gives the value old the name new everywhere (used to name the last
// block's output after the graph output it is).
func (b *builder) rename(old, new string) {
	for _, n := range b.g.Node {
		for i := range n.Input {
			if n.Input[i] == old {
				n.Input[i] = new
			}
		}
		for i := range n.Output {
			if n.Output[i] == old {
				n.Output[i] = new
			}
		}
	}
}

// finish wraps the graph in a model and checks that names are unique and the
// nodes topologically sorted.
func (b *builder) finish(schedule string) (*onnx.Model, error) {
	defined := map[string]bool{}
	for _, v := range b.g.Input {
		if defined[v.Name] {
			return nil, fmt.Errorf("testmodels: duplicate input %q", v.Name)
		}
		defined[v.Name] = true
	}
	for _, t := range b.g.Initializer {
		if defined[t.Name] {
			return nil, fmt.Errorf("testmodels: duplicate initializer %q", t.Name)
		}
		defined[t.Name] = true
	}
	names := map[string]bool{}
	for _, n := range b.g.Node {
		if n.Name != "" {
			if names[n.Name] {
				return nil, fmt.Errorf("testmodels: duplicate node name %q", n.Name)
			}
			names[n.Name] = true
		}
		for _, in := range n.Input {
			if in != "" && !defined[in] {
				return nil, fmt.Errorf("testmodels: node %q (%s) reads %q before it is defined", n.Name, n.OpType, in)
			}
		}
		for _, out := range n.Output {
			if out == "" {
				continue // an optional output left out
			}
			if defined[out] {
				return nil, fmt.Errorf("testmodels: value %q defined twice", out)
			}
			defined[out] = true
		}
	}
	for _, v := range b.g.Output {
		if !defined[v.Name] {
			return nil, fmt.Errorf("testmodels: output %q is never computed", v.Name)
		}
	}
	m := &onnx.Model{
		IRVersion:       8,
		OpsetImport:     []*onnx.OperatorSet{{Domain: "", Version: 17}},
		ProducerName:    "painterc-testmodels",
		ProducerVersion: "1",
		Graph:           b.g,
		MetadataProps: []*onnx.StringStringEntry{
			{Key: "painterc.schedule", Value: schedule},
			{Key: "painterc.testmodels.family", Value: b.s.Family.String()},
		},
	}
	return m, nil
}

// ---- tensors and attributes ----

func f32Tensor(shape []int, data []float32) *onnx.Tensor {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d)
	}
	return &onnx.Tensor{Dims: dims, DataType: onnx.Float, RawData: raw}
}

func f32Scalar(v float32) *onnx.Tensor { return f32Tensor(nil, []float32{v}) }

func i64s(v []int64) *onnx.Tensor {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	return &onnx.Tensor{Dims: []int64{int64(len(v))}, DataType: onnx.Int64, RawData: raw}
}

func i64Scalar(v int64) *onnx.Tensor {
	t := i64s([]int64{v})
	t.Dims = nil
	return t
}

func attrInt(name string, v int64) *onnx.Attribute {
	a := &onnx.Attribute{Name: name, Type: onnx.AttrInt, I: v}
	a.SetHas(3) // write i even when it is 0
	return a
}

func attrInts(name string, v ...int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
}

func attrFloat(name string, v float32) *onnx.Attribute {
	a := &onnx.Attribute{Name: name, Type: onnx.AttrFloat, F: v}
	a.SetHas(2)
	return a
}

func attrTensor(name string, t *onnx.Tensor) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrTensor, T: t}
}

// valueInfo declares a tensor; dims are ints (fixed) or strings (symbolic).
func valueInfo(name string, dt onnx.DataType, dims ...any) *onnx.ValueInfo {
	shape := &onnx.TensorShape{}
	for _, d := range dims {
		dim := &onnx.Dimension{}
		switch d := d.(type) {
		case int:
			dim.DimValue = int64(d)
			dim.SetHas(1)
		case string:
			dim.DimParam = d
		default:
			panic(fmt.Sprintf("testmodels: bad dim %v", d))
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnx.ValueInfo{
		Name: name,
		Type: &onnx.Type{TensorType: &onnx.TensorType{ElemType: dt, Shape: shape}},
	}
}
