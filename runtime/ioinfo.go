package runtime

import (
	"slices"
	"strconv"
	"strings"
)

// IOInfo describes one model input or output.
type IOInfo struct {
	Name string
	// Kind is "tensor" for ordinary inputs and outputs; otherwise "sequence",
	// "map", "optional", "sparse_tensor", "opaque" or "unknown", which Run
	// does not support.
	Kind string
	// DType is the element type (tensors only).
	DType DataType
	// Shape has one entry per dimension, -1 where the dimension is symbolic
	// or unknown. A scalar has an empty Shape.
	Shape []int64
	// DimNames has the symbolic name of each dimension ("batch",
	// "sequence_length", ...), "" for fixed or unnamed ones.
	DimNames []string
}

// String renders the info as "name: float32[batch 10]", with "?" for
// unnamed unknown dimensions.
func (io IOInfo) String() string {
	if io.Kind != "" && io.Kind != "tensor" {
		return io.Name + ": " + io.Kind
	}
	var b strings.Builder
	b.WriteString(io.Name)
	b.WriteString(": ")
	b.WriteString(io.DType.String())
	b.WriteByte('[')
	for i, d := range io.Shape {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch {
		case i < len(io.DimNames) && io.DimNames[i] != "" && d < 0:
			b.WriteString(io.DimNames[i])
		case d < 0:
			b.WriteByte('?')
		default:
			b.WriteString(strconv.FormatInt(d, 10))
		}
	}
	b.WriteByte(']')
	return b.String()
}

func cloneInfos(in []IOInfo) []IOInfo {
	out := make([]IOInfo, len(in))
	for i, x := range in {
		x.Shape = slices.Clone(x.Shape)
		x.DimNames = slices.Clone(x.DimNames)
		out[i] = x
	}
	return out
}
