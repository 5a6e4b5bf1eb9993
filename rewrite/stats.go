package rewrite

import (
	"sort"

	"github.com/painterc/painterc/onnx"
)

// TensorSize is the number of payload bytes a tensor holds, computed from its
// type and shape (4-bit types round up), without reading its data.
func TensorSize(t *onnx.Tensor) int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= d
	}
	switch t.DataType {
	case onnx.Uint4, onnx.Int4, onnx.Float4E2M1:
		return (n + 1) / 2
	case onnx.String:
		var s int64
		for _, b := range t.StringData {
			s += int64(len(b))
		}
		return s
	}
	return n * int64(t.DataType.Size())
}

// ParamBytes sums the sizes of the distinct initializers (of weights, the
// model's top-level graph) that the given nodes of g read.
func ParamBytes(weights, g *onnx.Graph, nodes []int) int64 {
	inits := make(map[string]*onnx.Tensor, len(weights.Initializer))
	for _, t := range weights.Initializer {
		inits[t.Name] = t
	}
	seen := map[string]bool{}
	var total int64
	for _, i := range nodes {
		for _, in := range nodeReads(g.Node[i]) {
			if t, ok := inits[in]; ok && !seen[in] {
				seen[in] = true
				total += TensorSize(t)
			}
		}
	}
	return total
}

// OpCount is how many nodes use one operator.
type OpCount struct {
	Domain string `json:"domain"`
	Op     string `json:"op"`
	Count  int    `json:"count"`
}

// OpCounts counts the graph's nodes by domain and operator, sorted.
func OpCounts(g *onnx.Graph) []OpCount {
	m := map[[2]string]int{}
	for _, n := range g.Node {
		m[[2]string{n.Domain, n.OpType}]++
	}
	out := make([]OpCount, 0, len(m))
	for k, c := range m {
		out = append(out, OpCount{Domain: k[0], Op: k[1], Count: c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Domain != out[j].Domain {
			return out[i].Domain < out[j].Domain
		}
		return out[i].Op < out[j].Op
	})
	return out
}
