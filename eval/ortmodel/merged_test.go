package ortmodel

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/testmodels"
)

// merged wraps a KV testmodel the way optimum's decoder_model_merged.onnx
// is laid out (after rewrite's test helper of the same name): the weights
// in the outer graph, and an If on use_cache_branch whose then branch reads
// the cache and whose else branch runs with an empty one.
func merged(m *onnx.Model) *onnx.Model {
	g := m.Graph
	then := &onnx.Graph{Name: "with_past", Node: g.Node, Output: g.Output}
	i64 := func(v ...int64) *onnx.Tensor {
		return &onnx.Tensor{Dims: []int64{int64(len(v))}, DataType: onnx.Int64, Int64Data: v}
	}
	var kvShape []int64 // [kv_heads, 0, head_dim]
	for _, v := range g.Input {
		if v.Name == "past_key_values.0.key" {
			for _, d := range v.Type.TensorType.Shape.Dim[1:] {
				kvShape = append(kvShape, d.DimValue)
			}
		}
	}
	kvShape[1] = 0
	cst := func(name string, t *onnx.Tensor) *onnx.Node {
		return &onnx.Node{Name: "/model/empty_past/" + name, OpType: "Constant", Output: []string{name}, Attribute: []*onnx.Attribute{{Name: "value", Type: onnx.AttrTensor, T: t}}}
	}
	empty := []*onnx.Node{
		{Name: "/model/empty_past/Shape", OpType: "Shape", Input: []string{"input_ids"}, Output: []string{"ep_shape"}},
		cst("ep_zero", i64(0)), cst("ep_one", i64(1)),
		{Name: "/model/empty_past/Slice", OpType: "Slice", Input: []string{"ep_shape", "ep_zero", "ep_one"}, Output: []string{"ep_batch"}},
		cst("ep_rest", i64(kvShape...)),
		{Name: "/model/empty_past/Concat", OpType: "Concat", Input: []string{"ep_batch", "ep_rest"}, Output: []string{"ep_dims"}, Attribute: []*onnx.Attribute{intAttr("axis", 0)}},
		{Name: "/model/empty_past/ConstantOfShape", OpType: "ConstantOfShape", Input: []string{"ep_dims"}, Output: []string{"empty_past"},
			Attribute: []*onnx.Attribute{{Name: "value", Type: onnx.AttrTensor, T: &onnx.Tensor{Dims: []int64{1}, DataType: onnx.Float, FloatData: []float32{0}}}}},
	}
	noPast := &onnx.Graph{Name: "without_past", Node: empty, Output: g.Output}
	for _, n := range g.Node {
		c := *n
		c.Input = slices.Clone(n.Input)
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
	out := *m
	out.Graph = &onnx.Graph{
		Name:        g.Name,
		Input:       append(slices.Clone(g.Input), flag),
		Output:      g.Output,
		Initializer: g.Initializer,
		Node: []*onnx.Node{{Name: "optimum::if", OpType: "If", Input: []string{"use_cache_branch"}, Output: outs, Attribute: []*onnx.Attribute{
			{Name: "then_branch", Type: onnx.AttrGraph, G: then},
			{Name: "else_branch", Type: onnx.AttrGraph, G: noPast},
		}}},
	}
	return &out
}

// TestMergedDecoder: an optimum-style merged decoder gets use_cache_branch
// false for runs without a past and true with one; its logits come from
// the If, so the epilogue gathers from the full logits. Log-likelihoods
// (shared-context path included) and cached greedy decoding match the
// reference.
func TestMergedDecoder(t *testing.T) {
	s := testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 51, Layers: 4}
	sched := s.Identity()
	m := open(t, merged(build(t, s, sched)), Options{MaxLength: 32, BatchSize: 3})
	if m.io.useCache == "" || !m.io.cached || m.headMoved {
		t.Fatalf("merged decoder: flag %q, cached %v, head moved %v", m.io.useCache, m.io.cached, m.headMoved)
	}
	r := rand.New(rand.NewPCG(5, 1))
	reqs := mcRequests(r, 2, 9, 3, 64)
	got, err := m.LogLikelihood(bg, reqs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range reqs {
		want := refLL(t, s, sched, q, 32)
		if d := math.Abs(got[i].LogLikelihood - want.LogLikelihood); d > 1e-4 || got[i].IsGreedy != want.IsGreedy {
			t.Errorf("request %d: %+v, reference %+v", i, got[i], want)
		}
	}
	ctx := randTokens(r, 6, 64)
	gen, err := m.Generate(bg, []eval.GenRequest{{Context: ctx, MaxTokens: 5}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := refGreedy(t, s, sched, ctx, 5); !slices.Equal(gen[0].Tokens, want) {
		t.Errorf("generated %v, reference %v", gen[0].Tokens, want)
	}
}
