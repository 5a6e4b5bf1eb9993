package rewrite

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/testmodels"
)

// producerOps describes each boundary by its producer's position and op, so
// that models whose tensor names differ can be compared.
func producerOps(g *onnx.Graph, b *Blocks) []string {
	ix := newIndex(g)
	out := make([]string, len(b.Boundary))
	for i, st := range b.Boundary {
		for _, t := range st {
			if p, ok := ix.producer[t]; ok {
				out[i] += fmt.Sprintf("node %d %s;", p, g.Node[p].OpType)
			} else {
				out[i] += "input " + t + ";"
			}
		}
	}
	return out
}

func TestDetectTestmodels(t *testing.T) {
	wantX0 := map[testmodels.Family]string{
		testmodels.Llama: "/model/embed_tokens/Gather_output_0",
		testmodels.GPT2:  "/transformer/Add_output_0",
		testmodels.BERT:  "/bert/embeddings/LayerNorm/LayerNormalization_output_0",
	}
	for _, fam := range []testmodels.Family{testmodels.Llama, testmodels.GPT2, testmodels.BERT} {
		for _, kv := range []bool{false, true} {
			if kv && fam == testmodels.BERT {
				continue
			}
			name := fmt.Sprintf("%v kv=%v", fam, kv)
			t.Run(name, func(t *testing.T) {
				indexed := testmodels.MustBuild(testmodels.Spec{Family: fam, KVCache: kv}, testmodels.Spec{Family: fam}.Identity())
				b, err := Detect(indexed.Graph, DetectOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if b.T != 8 || b.Method != "names" {
					t.Fatalf("T=%d method=%s, want 8 by names", b.T, b.Method)
				}
				if b.Boundary[0].String() != wantX0[fam] {
					t.Errorf("boundary 0 = %q, want %q", b.Boundary[0], wantX0[fam])
				}
				if kv != b.HasKV() {
					t.Errorf("HasKV = %v, want %v", b.HasKV(), kv)
				}
				// With names, every node scoped to layer i must be in block i,
				// except the rotary Unsqueeze the exporter shares from layer 0.
				for _, n := range b.Notes {
					if !strings.Contains(n, "/model/layers.0/self_attn/Unsqueeze") {
						t.Errorf("unexpected disagreement: %s", n)
					}
				}
				if fam == testmodels.Llama && len(b.Notes) == 0 {
					t.Errorf("the shared rotary Unsqueeze scoped to layer 0 was not moved to the prologue")
				}
				want := producerOps(indexed.Graph, b)
				wantSizes := blockSizes(b)
				for _, variant := range []testmodels.Spec{
					{Family: fam, KVCache: kv, NoLayerIndex: true},
					{Family: fam, KVCache: kv, NoNames: true},
				} {
					m := testmodels.MustBuild(variant, variant.Identity())
					vb, err := Detect(m.Graph, DetectOptions{})
					if err != nil {
						t.Fatalf("no-index=%v no-names=%v: %v", variant.NoLayerIndex, variant.NoNames, err)
					}
					if vb.Method != "structure" {
						t.Errorf("method %s, want structure", vb.Method)
					}
					if diff := cmp.Diff(want, producerOps(m.Graph, vb)); diff != "" {
						t.Errorf("no-index=%v no-names=%v: boundaries differ from the named model (-named +structural):\n%s", variant.NoLayerIndex, variant.NoNames, diff)
					}
					if diff := cmp.Diff(wantSizes, blockSizes(vb)); diff != "" {
						t.Errorf("no-index=%v no-names=%v: node assignment differs (-named +structural):\n%s", variant.NoLayerIndex, variant.NoNames, diff)
					}
				}
			})
		}
	}
}

func blockSizes(b *Blocks) []int {
	s := []int{len(b.Prologue)}
	for _, nodes := range b.Block {
		s = append(s, len(nodes))
	}
	return append(s, len(b.Epilogue))
}

func TestDetectManualBoundaries(t *testing.T) {
	s := testmodels.Spec{Family: testmodels.Llama, NoNames: true}
	m := testmodels.MustBuild(s, s.Identity())
	auto, err := Detect(m.Graph, DetectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Naming every other boundary by hand gives 4 blocks of 2 layers each.
	var half []string
	for i := 0; i < len(auto.Boundary); i += 2 {
		half = append(half, auto.Boundary[i].String())
	}
	b, err := Detect(m.Graph, DetectOptions{Boundaries: half})
	if err != nil {
		t.Fatal(err)
	}
	if b.T != 4 || b.Method != "manual" {
		t.Fatalf("T=%d method=%s, want 4 manual", b.T, b.Method)
	}
	for i := 0; i < 4; i++ {
		if got, want := len(b.Block[i]), len(auto.Block[2*i])+len(auto.Block[2*i+1]); got != want {
			t.Errorf("block %d has %d nodes, want %d", i, got, want)
		}
	}
}

func TestDetectErrors(t *testing.T) {
	s := testmodels.Spec{Family: testmodels.Llama}
	llama := testmodels.MustBuild(s, s.Identity())
	b, err := Detect(llama.Graph, DetectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tiny := &onnx.Graph{
		Name:   "tiny",
		Input:  []*onnx.ValueInfo{{Name: "x"}},
		Output: []*onnx.ValueInfo{{Name: "y"}},
		Node:   []*onnx.Node{{Name: "relu", OpType: "Relu", Input: []string{"x"}, Output: []string{"y"}}},
	}
	for _, tc := range []struct {
		name string
		g    *onnx.Graph
		o    DetectOptions
		want string
	}{
		{"no blocks", tiny, DetectOptions{}, `cannot find the transformer blocks:
  by node names: no node name carries a layer index (like /model/layers.3/ or /transformer/h.3/)
  by graph structure: the graph has no token input (input_ids, or an input read by a Gather)
  name the residual-stream tensors by hand with --boundaries t0,t1,...,tT (the embedding output, then each block's output; see ` + "`painterc inspect`)"},
		{"missing boundary", llama.Graph, DetectOptions{Boundaries: []string{b.Boundary[0].String(), "nope"}}, `cannot find the transformer blocks:
  --boundaries names "nope", which no node or graph input defines
  name the residual-stream tensors by hand with --boundaries t0,t1,...,tT (the embedding output, then each block's output; see ` + "`painterc inspect`)"},
		{"reversed boundaries", llama.Graph, DetectOptions{Boundaries: []string{b.Boundary[2].String(), b.Boundary[1].String()}}, `cannot find the transformer blocks:
  boundary 1 ("/model/layers.0/Add_1_output_0") is computed before boundary 0 ("/model/layers.1/Add_1_output_0")
  name the residual-stream tensors by hand with --boundaries t0,t1,...,tT (the embedding output, then each block's output; see ` + "`painterc inspect`)"},
		{"not a stream", llama.Graph, DetectOptions{Boundaries: []string{b.Boundary[0].String(), "/model/layers.0/self_attn/q_proj/MatMul_output_0", b.Boundary[8].String()}}, `cannot find the transformer blocks:
  node "/model/layers.0/self_attn/MatMul" (block 1) reads "/model/layers.0/self_attn/Transpose_3_output_0", which block 0 computes: blocks must communicate only through the residual stream`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Detect(tc.g, tc.o)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error:\n%s\nwant prefix:\n%s", err, tc.want)
			}
		})
	}
}

// TestDetectFusedPairs: in the onnxruntime-genai layout each boundary after
// the embedding is a pair (MLP output, residual) that the next block's
// SkipSimplifiedLayerNormalization sums, and the final norm scoped as
// /model/layers.{T}/ is the epilogue, not a ninth block.
func TestDetectFusedPairs(t *testing.T) {
	s := testmodels.Spec{Family: testmodels.Llama, Fused: true, KVCache: true}
	m := testmodels.MustBuild(s, s.Identity())
	b, err := Detect(m.Graph, DetectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b.T != 8 || b.Method != "names" {
		t.Fatalf("T=%d method=%s, want 8 by names", b.T, b.Method)
	}
	want := []string{"/model/embed_tokens/Gather_output_0"}
	for i := 0; i < 8; i++ {
		want = append(want, fmt.Sprintf("/model/layers.%d/mlp/down_proj/MatMul_output_0+/model/layers.%d/post_attention_layernorm/SkipLayerNorm_output_3", i, i))
	}
	var got []string
	for _, st := range b.Boundary {
		got = append(got, st.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("boundaries (-want +got):\n%s", diff)
	}
	for _, i := range b.Epilogue {
		if n := m.Graph.Node[i]; n.OpType == "SkipSimplifiedLayerNormalization" && !strings.Contains(n.Name, "/model/layers.8/final_norm_layernorm") {
			t.Errorf("unexpected epilogue norm %s", n.Name)
		}
	}
}
