package compile_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

// withDownBias returns two models that compute the same function: the
// fused-pair Llama m with a bias after each block's down_proj and o_proj,
// added by the block itself (explicit), or folded into the fused norm that
// reads the sublayer's output (folded), as ORT's transformers optimizer
// folds GPT-2's c_proj biases into SkipLayerNormalization: down_proj's into
// the next block's first norm or the final norm, o_proj's into the
// block's own second norm (so the mid stream is a triple too).
func withDownBias(t *testing.T, m *onnx.Model) (explicit, folded *onnx.Model) {
	t.Helper()
	rng := rand.New(rand.NewSource(3))
	hidden := 0
	var biases []*onnx.Tensor
	biasOf := map[string]string{} // down_proj output -> its bias
	for _, n := range m.Graph.Node {
		proj := ""
		for _, suffix := range []string{"/mlp/down_proj/MatMul", "/self_attn/o_proj/MatMul"} {
			if strings.HasSuffix(n.Name, suffix) {
				proj = suffix
			}
		}
		if n.OpType == "MatMul" && proj != "" {
			if hidden == 0 {
				for _, x := range m.Graph.Initializer {
					if x.Name == n.Input[1] {
						hidden = int(x.Dims[1])
					}
				}
			}
			name := strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(n.Name, "/"), "/MatMul"), "/", ".") + ".bias"
			raw := make([]byte, 4*hidden)
			for i := 0; i < hidden; i++ {
				binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(rng.NormFloat64()*0.5)))
			}
			biases = append(biases, &onnx.Tensor{Name: name, Dims: []int64{int64(hidden)}, DataType: onnx.Float, RawData: raw})
			biasOf[n.Output[0]] = name
		}
	}
	if hidden == 0 || len(biases) == 0 {
		t.Fatal("no down_proj MatMul in the fused model")
	}
	build := func(fold bool) *onnx.Model {
		g := *m.Graph
		g.Initializer = append(append([]*onnx.Tensor(nil), m.Graph.Initializer...), biases...)
		g.Node = nil
		for _, n := range m.Graph.Node {
			c := *n
			c.Input = append([]string(nil), n.Input...)
			if !fold {
				for i, in := range c.Input {
					if _, ok := biasOf[in]; ok {
						c.Input[i] = in + "_biased"
					}
				}
			}
			if fold && n.OpType == "SkipSimplifiedLayerNormalization" {
				if b, ok := biasOf[n.Input[0]]; ok {
					c.Input = append(c.Input, b)
				}
			}
			g.Node = append(g.Node, &c)
			if b, ok := biasOf[n.Output[0]]; ok && !fold {
				g.Node = append(g.Node, &onnx.Node{Name: strings.TrimSuffix(n.Name, "MatMul") + "Add_bias", OpType: "Add",
					Input: []string{n.Output[0], b}, Output: []string{n.Output[0] + "_biased"}})
			}
		}
		out := *m
		out.Graph = &g
		return &out
	}
	return build(false), build(true)
}

// TestLowerFoldedBias: a fused norm that adds the previous block's bias
// reads an (a, r, bias) boundary, and the bias travels with the pair: on
// the same function written both ways, every schedule (reordered,
// repeated, parallel, without block 0, ending early) of the folded model
// equals the explicit one's within 1e-5. The real GPT-2 file ORT's
// transformers optimizer writes is TestRealExporters' gpt2-ortopt.
func TestLowerFoldedBias(t *testing.T) {
	orttest.Require(t)
	spec := testmodels.Spec{Family: testmodels.Llama, Fused: true, Seed: 6}
	m, err := testmodels.Default(spec)
	if err != nil {
		t.Fatal(err)
	}
	explicit, folded := withDownBias(t, m)
	b := run(t, folded, compile.Options{Until: "detect"}).Blocks
	for i := 1; i <= b.T; i++ {
		if len(b.Boundary[i]) != 3 {
			t.Fatalf("boundary %d is %s, want a pair and its bias", i, b.Boundary[i])
		}
		if len(b.Mid[i-1]) != 3 {
			t.Fatalf("block %d's mid stream is %s (%s), want a pair and o_proj's bias", i-1, b.Mid[i-1], b.MidReason[i-1])
		}
	}
	dir := t.TempDir()
	for i, src := range []string{"0-7", "7-0", "1-7", "0,2,1,3-7", "0,[1-3]x2,4-7", "[0-7]", "0-5", "0,3x3,7",
		"0,1.attn,2,3.mlp,4-7", "0.mlp,1.attnx2,2-7", "0-2,(3.attn,5.mlp)x2,[6,7]", "0-6,7.attn", "3.mlp,0-7"} {
		sched, err := schedule.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		got := save(t, dir, fmt.Sprintf("folded%d", i), run(t, folded, compile.Options{Schedule: src}).Model)
		want := save(t, dir, fmt.Sprintf("explicit%d", i), run(t, explicit, compile.Options{Schedule: src}).Model)
		feeds, err := testmodels.RandomInputs(spec, sched, testmodels.InputOptions{Batch: 2, Seq: 4, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		orttest.Compare(t, src, orttest.Run(t, orttest.Session(t, got), feeds), orttest.Run(t, orttest.Session(t, want), feeds), 1e-5)
	}
}
