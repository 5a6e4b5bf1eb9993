package similarity

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

var oneThread = runtime.SessionOptions{IntraOpThreads: 1}

// docs are three documents of different lengths, ids below the test
// models' vocabulary of 64.
var docs = [][]int{{1, 5, 9, 2, 33}, {7, 7, 60, 3, 12, 40, 8}, {63, 0, 21}}

func blocks(t *testing.T, m *onnx.Model) *rewrite.Blocks {
	t.Helper()
	r, err := compile.Run(context.Background(), compile.Input{Model: m}, compile.Options{Until: "detect"})
	if err != nil {
		t.Fatal(err)
	}
	return r.Blocks
}

// silence zeroes the weights of the MatMul nodes whose names match re, in
// place, and returns how many it zeroed.
func silence(t *testing.T, m *onnx.Model, re string) int {
	t.Helper()
	init := map[string]*onnx.Tensor{}
	for _, w := range m.Graph.Initializer {
		init[w.Name] = w
	}
	n := 0
	for _, nd := range m.Graph.Node {
		if nd.OpType != "MatMul" || !regexp.MustCompile(re).MatchString(nd.Name) {
			continue
		}
		w := init[nd.Input[1]]
		if w == nil {
			t.Fatalf("node %s: weight %s is not an initializer", nd.Name, nd.Input[1])
		}
		w.RawData = make([]byte, len(w.RawData))
		n++
	}
	return n
}

// identityBlocks builds s with blocks whose residual updates are exactly
// zero, except the blocks in keep: their attention output projection and
// MLP down projection are all zeros, so x(i+1) = x(i) + 0 + 0.
func identityBlocks(t *testing.T, s testmodels.Spec, keep ...int) *onnx.Model {
	t.Helper()
	m, err := testmodels.Default(s)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.Layers {
		if contains(keep, i) {
			continue
		}
		if n := silence(t, m, fmt.Sprintf(`^/model/layers\.%d/(self_attn/o_proj|mlp/down_proj)/MatMul$`, i)); n != 2 {
			t.Fatalf("block %d: zeroed %d projections, want 2", i, n)
		}
	}
	return m
}

func contains(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// TestIdentityBlocks: when no block changes the stream, every state is
// the embedding output, so every cosine is 1, every Block Influence 0 and
// every angular distance 0, for the plain Llama, the fused layout (pairs
// whose sum is the stream) and a KV-cache model (empty pasts fed). The
// files come out as documented.
func TestIdentityBlocks(t *testing.T) {
	orttest.Require(t)
	for _, s := range []testmodels.Spec{
		{Family: testmodels.Llama, Layers: 4},
		{Family: testmodels.Llama, Layers: 4, Fused: true},
		{Family: testmodels.Llama, Layers: 4, KVCache: true},
	} {
		t.Run(fmt.Sprintf("fused=%v,kv=%v", s.Fused, s.KVCache), func(t *testing.T) {
			m := identityBlocks(t, s)
			a, err := Analyze(m, blocks(t, m), docs, "identity blocks", oneThread)
			if err != nil {
				t.Fatal(err)
			}
			if a.T != 4 || a.Docs != 3 || a.Tokens != 15 {
				t.Errorf("T, Docs, Tokens = %d, %d, %d; want 4, 3, 15", a.T, a.Docs, a.Tokens)
			}
			for i, row := range a.Similarity {
				for j, v := range row {
					if math.Abs(v-1) > 1e-12 {
						t.Errorf("Similarity[%d][%d] = %v, want 1", i, j, v)
					}
				}
			}
			for i, v := range a.BI {
				if math.Abs(v) > 1e-12 {
					t.Errorf("BI[%d] = %v, want 0", i, v)
				}
			}
			for _, sp := range a.Spans() {
				if sp.Distance > 1e-7 {
					t.Errorf("distance of blocks %d-%d = %v, want 0", sp.Start, sp.End, sp.Distance)
				}
			}
			dir := t.TempDir()
			if err := a.Write(dir, ""); err != nil {
				t.Fatal(err)
			}
			sim := readFile(t, dir, SimilarityCSV)
			if !strings.HasPrefix(sim, ",x0,x1,x2,x3,x4\nx0,1,1,1,1,1\n") || strings.Count(sim, "\n") != 6 {
				t.Errorf("%s:\n%s", SimilarityCSV, sim)
			}
			if bi := readFile(t, dir, InfluenceCSV); bi != "block,bi\n0,0\n1,0\n2,0\n3,0\n" {
				t.Errorf("%s:\n%s", InfluenceCSV, bi)
			}
			ang := readFile(t, dir, AngularCSV)
			if !strings.HasPrefix(ang, "n,start,end,distance\n1,0,0,") || strings.Count(ang, "\n") != 1+4+3+2+1 {
				t.Errorf("%s:\n%s", AngularCSV, ang)
			}
			for _, f := range []string{HeatmapBase + ".png", HeatmapBase + ".svg"} {
				if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
					t.Errorf("%s: %v", f, err)
				}
			}
		})
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOneActiveBlock: only block 2 of 5 changes the stream, so x0 = x1 =
// x2 and x3 = x4 = x5. The matrix is two blocks of ones with one shared
// value c < 1 between them; only block 2 has influence; a span's distance
// is 0 unless it contains block 2, and then it is the same value d > 0 for
// every such span; Suggest never picks a span with block 2.
func TestOneActiveBlock(t *testing.T) {
	orttest.Require(t)
	const T, active = 5, 2
	m := identityBlocks(t, testmodels.Spec{Family: testmodels.Llama, Layers: T}, active)
	a, err := Analyze(m, blocks(t, m), docs, "one active block", oneThread)
	if err != nil {
		t.Fatal(err)
	}
	side := func(i int) bool { return i > active } // state x_i is after block 2
	c := a.Similarity[0][T]
	if !(c < 0.999) {
		t.Fatalf("cos(x0, x5) = %v: block 2 should change the stream", c)
	}
	for i, row := range a.Similarity {
		for j, v := range row {
			want := c
			if side(i) == side(j) {
				want = 1
			}
			if math.Abs(v-want) > 1e-6 {
				t.Errorf("Similarity[%d][%d] = %v, want %v", i, j, v, want)
			}
		}
	}
	for i, v := range a.BI {
		if i == active && !(v > 1e-4) || i != active && math.Abs(v) > 1e-6 {
			t.Errorf("BI[%d] = %v (block %d is the only active one)", i, v, active)
		}
	}
	d := a.Distance(1, active)
	if !(d > 1e-4) {
		t.Fatalf("distance across block %d = %v, want > 0", active, d)
	}
	for _, sp := range a.Spans() {
		want := 0.0
		if sp.Start <= active && active <= sp.End {
			want = d
		}
		if math.Abs(sp.Distance-want) > 1e-6 {
			t.Errorf("distance of blocks %d-%d = %v, want %v", sp.Start, sp.End, sp.Distance, want)
		}
	}
	for n := 1; n < T; n++ {
		s, err := a.Suggest(n, "m.onnx", "o.onnx")
		if err != nil {
			t.Fatal(err)
		}
		if n <= active && (s.Start > active || s.End < active) == false {
			t.Errorf("Suggest(%d) = blocks %d-%d, which contain the active block %d", n, s.Start, s.End, active)
		}
	}
}

// TestStatesMatchPrefixModels checks the captured states against an
// independent computation. BERT has no head, so Build(s, "0-(i-1)"), the
// model that runs only the first i blocks, outputs x_i as its
// last_hidden_state; its ORT output must equal the probe's x_i, and the
// analysis must equal the one the accumulator makes from those outputs.
func TestStatesMatchPrefixModels(t *testing.T) {
	orttest.Require(t)
	s := testmodels.Spec{Family: testmodels.BERT, Layers: 4}
	m, err := testmodels.Default(s)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProbe(m, blocks(t, m), "bert", oneThread)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	prefix := make([]*runtime.Session, s.Layers+1)
	for i := 1; i <= s.Layers; i++ {
		sched, err := schedule.Parse(fmt.Sprintf("0-%d", i-1))
		if err != nil {
			t.Fatal(err)
		}
		data, err := onnx.Encode(testmodels.MustBuild(s, sched))
		if err != nil {
			t.Fatal(err)
		}
		if prefix[i], err = runtime.NewSessionFromBytes(data, "prefix", oneThread); err != nil {
			t.Fatal(err)
		}
		defer prefix[i].Close()
	}
	acc := NewAccumulator(s.Layers)
	for _, ids := range docs {
		states, hidden, err := p.States(ids)
		if err != nil {
			t.Fatal(err)
		}
		if hidden != 32 {
			t.Fatalf("hidden = %d, want 32", hidden)
		}
		oracle := [][]float32{states[0]}
		for i := 1; i <= s.Layers; i++ {
			out, err := prefix[i].Run(p.feeds(ids), "last_hidden_state")
			if err != nil {
				t.Fatal(err)
			}
			want, err := out["last_hidden_state"].Float32s()
			if err != nil {
				t.Fatal(err)
			}
			if d := orttest.MaxDiff(states[i], want); d > 1e-5 {
				t.Errorf("doc %v: x%d differs from the %d-block model's output by %g", ids, i, i, d)
			}
			oracle = append(oracle, want)
		}
		if err := acc.Add(oracle, hidden); err != nil {
			t.Fatal(err)
		}
	}
	want, err := acc.Analysis()
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Analyze(docs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Similarity {
		for j := range want.Similarity[i] {
			if d := math.Abs(got.Similarity[i][j] - want.Similarity[i][j]); d > 1e-6 {
				t.Errorf("Similarity[%d][%d] = %v, oracle %v", i, j, got.Similarity[i][j], want.Similarity[i][j])
			}
		}
	}
	for i := range want.BI {
		if d := math.Abs(got.BI[i] - want.BI[i]); d > 1e-6 {
			t.Errorf("BI[%d] = %v, oracle %v", i, got.BI[i], want.BI[i])
		}
	}
	for i := range got.Similarity {
		if got.Similarity[i][i] != 1 {
			t.Errorf("Similarity[%d][%d] = %v, want exactly 1", i, i, got.Similarity[i][i])
		}
		for j := range got.Similarity {
			if got.Similarity[i][j] != got.Similarity[j][i] {
				t.Errorf("Similarity is not symmetric at (%d, %d): %v vs %v", i, j, got.Similarity[i][j], got.Similarity[j][i])
			}
		}
	}
	// A real model's states differ: the test would be empty otherwise.
	if !(got.Similarity[0][s.Layers] < 0.99) || !(got.BI[0] > 1e-3) {
		t.Errorf("cos(x0, x%d) = %v, BI[0] = %v: the blocks should change the stream", s.Layers, got.Similarity[0][s.Layers], got.BI[0])
	}
}

// TestLayoutsAgree: the fused Llama computes the plain Llama's function
// with the residual Adds folded into the next norm, so its pair sums a+r
// must be the plain model's states; the KV-cache model with empty pasts
// must give them too.
func TestLayoutsAgree(t *testing.T) {
	orttest.Require(t)
	states := func(s testmodels.Spec) [][]float32 {
		m, err := testmodels.Default(s)
		if err != nil {
			t.Fatal(err)
		}
		b := blocks(t, m)
		if s.Fused && len(b.Boundary[2]) != 2 {
			t.Fatalf("fused boundary 2 is %s, want a pair", b.Boundary[2])
		}
		p, err := NewProbe(m, b, "layout", oneThread)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		x, _, err := p.States(docs[1])
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	plain := states(testmodels.Spec{Family: testmodels.Llama, Layers: 3})
	for name, s := range map[string]testmodels.Spec{
		"fused": {Family: testmodels.Llama, Layers: 3, Fused: true},
		"kv":    {Family: testmodels.Llama, Layers: 3, KVCache: true},
	} {
		got := states(s)
		for i := range plain {
			if d := orttest.MaxDiff(got[i], plain[i]); d > 1e-5 {
				t.Errorf("%s: x%d differs from the plain model's by %g", name, i, d)
			}
		}
	}
}

// TestWithStatesLeavesModel: the copy gets the outputs and the input model
// keeps its own; a boundary that is already an output is not added twice.
func TestWithStatesLeavesModel(t *testing.T) {
	m, err := testmodels.Default(testmodels.Spec{Family: testmodels.BERT, Layers: 2})
	if err != nil {
		t.Fatal(err)
	}
	nodes, outs := len(m.Graph.Node), len(m.Graph.Output)
	c, names, err := WithStates(m, blocks(t, m))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Graph.Node) != nodes || len(m.Graph.Output) != outs {
		t.Errorf("the input changed: %d nodes, %d outputs; had %d, %d", len(m.Graph.Node), len(m.Graph.Output), nodes, outs)
	}
	if len(names) != 3 || names[2] != "last_hidden_state" || len(c.Graph.Output) != outs+2 {
		t.Errorf("names %v, %d outputs; want 3 names ending in last_hidden_state and %d outputs", names, len(c.Graph.Output), outs+2)
	}
	fm, err := testmodels.Default(testmodels.Spec{Family: testmodels.Llama, Layers: 3, Fused: true})
	if err != nil {
		t.Fatal(err)
	}
	fc, fnames, err := WithStates(fm, blocks(t, fm))
	if err != nil {
		t.Fatal(err)
	}
	if fnames[1] != stateName(1) || len(fc.Graph.Node) != len(fm.Graph.Node)+3 {
		t.Errorf("fused: names %v, %d nodes for %d: want an Add per pair boundary (1, 2 and 3)", fnames, len(fc.Graph.Node), len(fm.Graph.Node))
	}
}

// TestWithStatesVerifies: the probe's edit is checked by rewrite.Verify,
// so a state name that collides with a tensor of the model is refused here,
// naming the tensor, instead of reaching ONNX Runtime.
func TestWithStatesVerifies(t *testing.T) {
	m, err := testmodels.Default(testmodels.Spec{Family: testmodels.Llama, Layers: 3, Fused: true})
	if err != nil {
		t.Fatal(err)
	}
	b := blocks(t, m)
	m.Graph.Initializer = append(m.Graph.Initializer, &onnx.Tensor{Name: stateName(2), Dims: []int64{1}, DataType: onnx.Float, FloatData: []float32{0}})
	_, _, err = WithStates(m, b)
	want := `similarity: graph invalid after the similarity probe: 1 problem(s)
  graph: tensor "painterc.similarity.x2" is defined twice`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v\nwant it to start with %s", err, want)
	}
}

// TestUnfillableInput: an input the probe cannot fill is named in the
// error, with what it can fill.
func TestUnfillableInput(t *testing.T) {
	orttest.Require(t)
	m, err := testmodels.Default(testmodels.Spec{Family: testmodels.Llama, Layers: 2})
	if err != nil {
		t.Fatal(err)
	}
	b := blocks(t, m)
	g := *m.Graph
	d := &onnx.Dimension{}
	d.SetDimValue(3)
	g.Input = append(g.Input[:len(g.Input):len(g.Input)], &onnx.ValueInfo{Name: "pixel_values", Type: &onnx.Type{TensorType: &onnx.TensorType{ElemType: onnx.Float, Shape: &onnx.TensorShape{Dim: []*onnx.Dimension{d}}}}})
	c := *m
	c.Graph = &g
	_, err = NewProbe(&c, b, "odd model", oneThread)
	if err == nil || !strings.Contains(err.Error(), "pixel_values") || !strings.Contains(err.Error(), "not an input similarity can fill") || !strings.Contains(err.Error(), "odd model") {
		t.Errorf("error %v, want one naming pixel_values and the model", err)
	}
	if _, err := NewProbe(m, b, "x", oneThread); err != nil {
		t.Errorf("the unchanged model: %v", err)
	}
}

// TestFeedsMatchReference: the probe's feeds are the documented ones
// (positions 0..n-1, a mask of ones, token types 0, empty pasts), checked
// by running the probe's session for the model's own output and comparing
// it with testmodels.Reference fed exactly that. GPT-2's learned positions
// make a wrong position show; BERT's token types do the same for them.
func TestFeedsMatchReference(t *testing.T) {
	orttest.Require(t)
	for _, s := range []testmodels.Spec{
		{Family: testmodels.GPT2, Layers: 3},
		{Family: testmodels.GPT2, Layers: 3, KVCache: true},
		{Family: testmodels.BERT, Layers: 3},
	} {
		t.Run(fmt.Sprintf("%s,kv=%v", s.Family, s.KVCache), func(t *testing.T) {
			m, err := testmodels.Default(s)
			if err != nil {
				t.Fatal(err)
			}
			p, err := NewProbe(m, blocks(t, m), "feeds", oneThread)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ids := docs[1]
			n := int64(len(ids))
			feeds := map[string]testmodels.Tensor{
				"input_ids":      {Shape: []int64{1, n}, Int: []int64{7, 7, 60, 3, 12, 40, 8}},
				"attention_mask": {Shape: []int64{1, n}, Int: []int64{1, 1, 1, 1, 1, 1, 1}},
			}
			if s.Family == testmodels.BERT {
				feeds["token_type_ids"] = testmodels.Tensor{Shape: []int64{1, n}, Int: make([]int64, n)}
			} else {
				feeds["position_ids"] = testmodels.Tensor{Shape: []int64{1, n}, Int: []int64{0, 1, 2, 3, 4, 5, 6}}
			}
			if s.KVCache {
				for k := range s.Layers {
					for _, kind := range []string{"key", "value"} {
						feeds[fmt.Sprintf("past_key_values.%d.%s", k, kind)] = testmodels.Tensor{Shape: []int64{1, 4, 0, 8}, Float: []float32{}}
					}
				}
			}
			want, err := testmodels.Reference(s, s.Identity(), feeds)
			if err != nil {
				t.Fatal(err)
			}
			out := "logits"
			if s.Family == testmodels.BERT {
				out = "last_hidden_state"
			}
			got, err := p.sess.Run(p.feeds(ids), out)
			if err != nil {
				t.Fatal(err)
			}
			g, err := got[out].Float32s()
			if err != nil {
				t.Fatal(err)
			}
			if d := orttest.MaxDiff(g, want[out].Float); d > 1e-4 {
				t.Errorf("%s differs from the reference by %g", out, d)
			}
		})
	}
}

// variant compiles m with schedule src in memory and opens a probe on the
// rewritten model's stage streams.
func variant(t *testing.T, m *onnx.Model, src string) *Probe {
	t.Helper()
	r, err := compile.Run(context.Background(), compile.Input{Model: m}, compile.Options{Schedule: src})
	if err != nil {
		t.Fatal(err)
	}
	streams := r.Streams
	if len(streams) != len(r.Schedule.Stages())+1 {
		t.Fatalf("%s: %d streams for %d stages", src, len(streams), len(r.Schedule.Stages()))
	}
	p, err := NewProbeStreams(r.Model, streams, src, oneThread)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestVariantStages: the stage streams rewrite.Lower returns name tensors
// the lowered graph has (ORT refuses an output it cannot find), for single
// blocks, repeats, reversals, parallel groups and the fused layout's pairs. Two oracles:
// the identity rewrite's stages are the original model's states, and with
// identity blocks every stage of every schedule is the embedding output.
func TestVariantStages(t *testing.T) {
	orttest.Require(t)
	schedules := []string{"0-3", "0,3", "0,2x3,3", "3-0", "0,[1-2],3", "0,[1-2]x2,3", "[0-3]"}
	for _, s := range []testmodels.Spec{
		{Family: testmodels.Llama, Layers: 4},
		{Family: testmodels.Llama, Layers: 4, Fused: true},
		{Family: testmodels.GPT2, Layers: 4, KVCache: true},
	} {
		t.Run(fmt.Sprintf("%s,fused=%v,kv=%v", s.Family, s.Fused, s.KVCache), func(t *testing.T) {
			m, err := testmodels.Default(s)
			if err != nil {
				t.Fatal(err)
			}
			orig, err := NewProbe(m, blocks(t, m), "original", oneThread)
			if err != nil {
				t.Fatal(err)
			}
			defer orig.Close()
			want, _, err := orig.States(docs[0])
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := variant(t, m, "0-3").States(docs[0])
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if d := orttest.MaxDiff(got[i], want[i]); d > 1e-5 {
					t.Errorf("identity rewrite: stage state x%d differs from the model's by %g", i, d)
				}
			}
			if s.Family != testmodels.Llama {
				return
			}
			im := identityBlocks(t, s)
			for _, src := range schedules {
				a, err := variant(t, im, src).Analyze(docs)
				if err != nil {
					t.Fatalf("%s: %v", src, err)
				}
				for i, row := range a.Similarity {
					for j, v := range row {
						if math.Abs(v-1) > 1e-9 {
							t.Errorf("%s with identity blocks: Similarity[%d][%d] = %v, want 1", src, i, j, v)
						}
					}
				}
			}
		})
	}
}

// TestExternalData: a model whose weights are external data is analysed
// through a temporary copy in its directory, which is gone afterwards.
// The weights are a sparse file of zeros, so every state is zero and every
// cosine 1 by the zero-vector convention.
func TestExternalData(t *testing.T) {
	orttest.Require(t)
	dir := t.TempDir()
	s := testmodels.Spec{Family: testmodels.Llama, Layers: 2, ExternalData: "weights.bin"}
	built, err := testmodels.Default(s)
	if err != nil {
		t.Fatal(err)
	}
	size, err := testmodels.ExternalDataSize(built)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "weights.bin"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(dir, "weights.bin"), size); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "model.onnx")
	built.Dir = dir
	if err := onnx.Save(path, built, onnx.SaveOptions{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, err := Analyze(m, blocks(t, m), docs[:1], "external", oneThread)
	if err != nil {
		t.Fatal(err)
	}
	if a.Similarity[0][2] != 1 {
		t.Errorf("cos(x0, x2) = %v, want 1", a.Similarity[0][2])
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the directory holds %v, want only model.onnx and weights.bin", names)
	}
}
