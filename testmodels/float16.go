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
		binary.LittleEndian.PutUint16(raw[2*i:], float32ToFloat16(v))
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
			binary.LittleEndian.PutUint32(c.RawData[4*i:], math.Float32bits(float16ToFloat32(binary.LittleEndian.Uint16(t.RawData[2*i:]))))
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
func roundFloat16(v float32) float32 { return float16ToFloat32(float32ToFloat16(v)) }

// float16ToFloat32 is runtime.Float16ToFloat32 (testmodels does not import
// runtime, which needs cgo): widens an IEEE 754 binary16 value (given as its bits) to
// float32. The conversion is exact; NaNs stay NaN (payload kept).
func float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf / NaN
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
	case man == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// Subnormal: value = man * 2^-24. Normalise.
	e := uint32(113) // 127 - 14
	for man&0x400 == 0 {
		man <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (man&0x3ff)<<13)
}

// float32ToFloat16 is runtime.Float32ToFloat16: narrows f to IEEE 754 binary16 bits, rounding to nearest,
// ties to even (as NumPy's astype(float16) does). Overflow gives ±Inf; NaN
// stays NaN.
func float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff { // Inf / NaN
		if man == 0 {
			return sign | 0x7c00
		}
		m := uint16(man >> 13)
		if m == 0 {
			m = 0x200 // keep it a NaN
		}
		return sign | 0x7c00 | m
	}
	e := exp - 127 + 15
	if e >= 0x1f { // overflow
		return sign | 0x7c00
	}
	if e <= 0 { // subnormal or zero in half precision
		if e < -10 {
			return sign // rounds to zero (below half the smallest subnormal)
		}
		m := man | 0x800000 // implicit bit
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := m >> shift
		rem := m & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // may carry into the exponent, up to Inf: that is correct rounding
	}
	return sign | uint16(r)
}
