package testmodels

import (
	"strings"

	"github.com/painterc/painterc/onnx"
)

// Merged wraps a KV testmodel the way optimum's decoder_model_merged.onnx
// is laid out: the weights in the outer graph, and an If node on
// use_cache_branch whose then branch is the decoder reading the cache and
// whose else branch is the same decoder with an empty cache.
func Merged(m *onnx.Model) *onnx.Model {
	g := m.Graph
	then := &onnx.Graph{Name: "with_past", Node: g.Node, Output: g.Output}
	i64 := func(v ...int64) *onnx.Tensor {
		return &onnx.Tensor{Dims: []int64{int64(len(v))}, DataType: onnx.Int64, Int64Data: v}
	}
	var kvShape []int64 // [kv_heads, 0, head_dim] from the past input's type
	for _, v := range g.Input {
		if v.Name == "past_key_values.0.key" {
			for _, d := range v.Type.TensorType.Shape.Dim[1:] {
				kvShape = append(kvShape, d.DimValue)
			}
		}
	}
	kvShape[1] = 0
	empty := []*onnx.Node{
		{Name: "/model/empty_past/Shape", OpType: "Shape", Input: []string{"input_ids"}, Output: []string{"ep_shape"}},
		{Name: "/model/empty_past/Constant", OpType: "Constant", Output: []string{"ep_zero"}, Attribute: []*onnx.Attribute{{Name: "value", Type: onnx.AttrTensor, T: i64(0)}}},
		{Name: "/model/empty_past/Constant_1", OpType: "Constant", Output: []string{"ep_one"}, Attribute: []*onnx.Attribute{{Name: "value", Type: onnx.AttrTensor, T: i64(1)}}},
		{Name: "/model/empty_past/Slice", OpType: "Slice", Input: []string{"ep_shape", "ep_zero", "ep_one"}, Output: []string{"ep_batch"}},
		{Name: "/model/empty_past/Constant_2", OpType: "Constant", Output: []string{"ep_rest"}, Attribute: []*onnx.Attribute{{Name: "value", Type: onnx.AttrTensor, T: i64(kvShape...)}}},
		{Name: "/model/empty_past/Concat", OpType: "Concat", Input: []string{"ep_batch", "ep_rest"}, Output: []string{"ep_dims"}, Attribute: []*onnx.Attribute{{Name: "axis", Type: onnx.AttrInt, I: 0}}},
		{Name: "/model/empty_past/ConstantOfShape", OpType: "ConstantOfShape", Input: []string{"ep_dims"}, Output: []string{"empty_past"},
			Attribute: []*onnx.Attribute{{Name: "value", Type: onnx.AttrTensor, T: &onnx.Tensor{Dims: []int64{1}, DataType: onnx.Float, FloatData: []float32{0}}}}},
	}
	noPast := &onnx.Graph{Name: "without_past", Node: empty, Output: g.Output}
	for _, n := range g.Node {
		c := *n
		c.Input = append([]string(nil), n.Input...)
		for i, in := range c.Input {
			if strings.HasPrefix(in, "past_key_values.") {
				c.Input[i] = "empty_past"
			}
		}
		noPast.Node = append(noPast.Node, &c)
	}
	var outs []string
	for _, v := range g.Output {
		outs = append(outs, v.Name)
	}
	flag := &onnx.ValueInfo{Name: "use_cache_branch", Type: &onnx.Type{TensorType: &onnx.TensorType{ElemType: onnx.Bool,
		Shape: &onnx.TensorShape{Dim: []*onnx.Dimension{{DimValue: 1}}}}}}
	outer := &onnx.Graph{
		Name:        g.Name,
		Input:       append(append([]*onnx.ValueInfo(nil), g.Input...), flag),
		Output:      g.Output,
		Initializer: g.Initializer,
		Node: []*onnx.Node{{Name: "optimum::if", OpType: "If", Input: []string{"use_cache_branch"}, Output: outs, Attribute: []*onnx.Attribute{
			{Name: "then_branch", Type: onnx.AttrGraph, G: then},
			{Name: "else_branch", Type: onnx.AttrGraph, G: noPast},
		}}},
	}
	out := *m
	out.Graph = outer
	return &out
}
