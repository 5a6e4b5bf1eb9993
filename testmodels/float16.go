package testmodels

import (
	"encoding/binary"
	"math"

	"github.com/painterc/painterc/onnx"
)

// The float16 variant (Spec.Float16): the family's graph with every float
// tensor in float16, as a model exported with torch_dtype=float16 (or
// converted by onnxconverter-common) has it: weights, constants, the
// float graph inputs and outputs (logits, the KV cache) and every Cast to
// float. The mask's minimum becomes float16's, -65504, as Hugging Face
// masks with torch.finfo(torch.float16).min.

// f16Min is torch.finfo(torch.float16).min.
const f16Min = -65504

// toFloat16 rewrites a finished float32 model into float16 in place.
func toFloat16(m *onnx.Model) {
	g := m.Graph
	for _, t := range g.Initializer {
		tensorToFloat16(t)
	}
	for _, n := range g.Node {
		for _, a := range n.Attribute {
			if a.T != nil {
				tensorToFloat16(a.T)
			}
			if n.OpType == "Cast" && a.Name == "to" && a.I == int64(onnx.Float) {
				a.I = int64(onnx.Float16)
			}
		}
	}
	for _, vs := range [][]*onnx.ValueInfo{g.Input, g.Output, g.ValueInfo} {
		for _, v := range vs {
			if v.Type != nil && v.Type.TensorType != nil && v.Type.TensorType.ElemType == onnx.Float {
				v.Type.TensorType.ElemType = onnx.Float16
			}
		}
	}
}

// tensorToFloat16 converts a float32 tensor with raw data to float16,
// clamping to float16's range (the mask's -MaxFloat32 becomes -65504).
func tensorToFloat16(t *onnx.Tensor) {
	if t.DataType != onnx.Float || t.IsExternal() {
		return
	}
	n := len(t.RawData) / 4
	raw := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		v := math.Float32frombits(binary.LittleEndian.Uint32(t.RawData[4*i:]))
		v = max(f16Min, min(-f16Min, v))
		binary.LittleEndian.PutUint16(raw[2*i:], onnx.Float32ToFloat16(v))
	}
	t.DataType, t.RawData = onnx.Float16, raw
}

// ToFloat32 returns a copy of m with every float16 tensor, graph input and
// output and Cast target widened to float32 (exactly: float16 values are
// float32 values), so that a float16 graph can be checked in float32
// arithmetic. Tensors are copied; m is unchanged.
func ToFloat32(m *onnx.Model) *onnx.Model {
	mc := *m
	g := *m.Graph
	mc.Graph = &g
	widen := func(t *onnx.Tensor) *onnx.Tensor {
		if t == nil || t.DataType != onnx.Float16 || t.IsExternal() {
			return t
		}
		c := *t
		n := len(t.RawData) / 2
		c.RawData = make([]byte, 4*n)
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint32(c.RawData[4*i:], math.Float32bits(onnx.Float16ToFloat32(binary.LittleEndian.Uint16(t.RawData[2*i:]))))
		}
		c.DataType = onnx.Float
		return &c
	}
	g.Initializer = make([]*onnx.Tensor, len(m.Graph.Initializer))
	for i, t := range m.Graph.Initializer {
		g.Initializer[i] = widen(t)
	}
	g.Node = make([]*onnx.Node, len(m.Graph.Node))
	for i, n := range m.Graph.Node {
		nc := *n
		nc.Attribute = make([]*onnx.Attribute, len(n.Attribute))
		for j, a := range n.Attribute {
			ac := *a
			ac.T = widen(a.T)
			if n.OpType == "Cast" && a.Name == "to" && a.I == int64(onnx.Float16) {
				ac.I = int64(onnx.Float)
			}
			nc.Attribute[j] = &ac
		}
		g.Node[i] = &nc
	}
	vis := func(vs []*onnx.ValueInfo) []*onnx.ValueInfo {
		out := make([]*onnx.ValueInfo, len(vs))
		for i, v := range vs {
			out[i] = v
			if v.Type != nil && v.Type.TensorType != nil && v.Type.TensorType.ElemType == onnx.Float16 {
				vc, tc, ttc := *v, *v.Type, *v.Type.TensorType
				ttc.ElemType = onnx.Float
				tc.TensorType = &ttc
				vc.Type = &tc
				out[i] = &vc
			}
		}
		return out
	}
	g.Input, g.Output, g.ValueInfo = vis(g.Input), vis(g.Output), vis(g.ValueInfo)
	return &mc
}

// roundFloat16 returns v rounded to float16 and back (for Reference's
// weights of a Float16 model).
func roundFloat16(v float32) float32 { return onnx.Float16ToFloat32(onnx.Float32ToFloat16(v)) }
