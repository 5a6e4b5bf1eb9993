package ortmodel

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/internal/onnxcheck"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/testmodels"
)

// lookupLM is the smallest causal LM: logits[b, s] = table[input_ids[b, s]],
// a Gather from a [vocab, vocab] table of type dt, at the given opset.
func lookupLM(opset int64, dt onnx.DataType, table []float32, vocab int) *onnx.Model {
	var raw []byte
	switch dt {
	case onnx.Float16:
		raw = make([]byte, 2*len(table))
		for i, v := range table {
			binary.LittleEndian.PutUint16(raw[2*i:], runtime.Float32ToFloat16(v))
		}
	default:
		raw = make([]byte, 4*len(table))
		for i, v := range table {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	}
	dim := func(p string, v int64) *onnx.Dimension {
		d := &onnx.Dimension{}
		if p != "" {
			d.SetDimParam(p)
		} else {
			d.SetDimValue(v)
		}
		return d
	}
	ir := int64(8)
	if opset < 13 {
		ir = 7
	}
	return &onnx.Model{
		IRVersion:   ir,
		OpsetImport: []*onnx.OperatorSet{{Version: opset}},
		Graph: &onnx.Graph{
			Name:        "lookup",
			Node:        []*onnx.Node{{Name: "/embed/Gather", OpType: "Gather", Input: []string{"table", "input_ids"}, Output: []string{"logits"}, Attribute: []*onnx.Attribute{intAttr("axis", 0)}}},
			Initializer: []*onnx.Tensor{{Name: "table", Dims: []int64{int64(vocab), int64(vocab)}, DataType: dt, RawData: raw}},
			Input:       []*onnx.ValueInfo{valueInfo("input_ids", onnx.Int64, dim("batch", 0), dim("sequence_length", 0))},
			Output:      []*onnx.ValueInfo{valueInfo("logits", dt, dim("batch", 0), dim("sequence_length", 0), dim("", int64(vocab)))},
		},
	}
}

// TestEpilogueOpsets: the epilogue in each opset form (Unsqueeze/Squeeze
// axes as an attribute before 13, as an input from 13; LogSoftmax's
// flattening semantics before 13) and with float16 logits (a Cast first)
// passes onnx.checker, runs on ORT, and gives log softmax(table[id])[t]
// computed in float64 here, within float32 rounding (float16: of the
// rounded table). Half the table's rows are scaled to logits of several
// hundred, whose exp overflows float32 unless the maximum is subtracted.
func TestEpilogueOpsets(t *testing.T) {
	orttest.Require(t)
	const V = 37
	r := rand.New(rand.NewPCG(1, 2))
	table := make([]float32, V*V)
	for i := range table {
		table[i] = float32(r.NormFloat64() * 3)
		if i >= V*V/2 {
			table[i] *= 100 // rows whose exp overflows float32 without the max subtracted
		}
	}
	dir := t.TempDir()
	var paths []string
	for _, c := range []struct {
		opset int64
		dt    onnx.DataType
		form  epilogueForm
	}{{11, onnx.Float, formLogSoftmax}, {12, onnx.Float, formLogSoftmax}, {13, onnx.Float, formLogSoftmax}, {14, onnx.Float, formLogSoftmax},
		{17, onnx.Float, formLogSoftmax}, {17, onnx.Float16, formLogSoftmax}, {12, onnx.Float16, formLogSoftmax}, {18, onnx.Float, formLogSoftmax},
		{11, onnx.Float, formLogSumExp}, {12, onnx.Float, formLogSumExp}, {13, onnx.Float, formLogSumExp}, {17, onnx.Float, formLogSumExp},
		{17, onnx.Float16, formLogSumExp}, {18, onnx.Float, formLogSumExp}} {
		name := "opset" + strconv.FormatInt(c.opset, 10) + "-" + c.dt.String() + "-form" + strconv.Itoa(int(c.form))
		m := lookupLM(c.opset, c.dt, table, V)
		f, err := findIO(m.Graph, 0)
		if err != nil {
			t.Fatal(err)
		}
		e, err := withEpilogue(m, f, c.form, false)
		if err != nil {
			t.Fatal(err)
		}
		data, err := onnx.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name+".onnx")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if c.opset <= 17 { // python3-onnx 1.12 knows opsets up to 17
			paths = append(paths, p)
		}
		if len(m.Graph.Node) != 1 || len(m.Graph.Output) != 1 {
			t.Fatalf("%s: withEpilogue modified its input", name)
		}

		lm := open(t, m, Options{MaxLength: 16, BatchSize: 2, epilogue: c.form})
		reqs := []eval.LLRequest{
			{Context: randTokens(r, 5, V), Continuation: randTokens(r, 3, V)},
			{Context: randTokens(r, 2, V), Continuation: randTokens(r, 1, V)},
			{Context: randTokens(r, 9, V), Continuation: randTokens(r, 4, V)},
		}
		got, err := lm.LogLikelihood(bg, reqs, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range reqs {
			whole := append(append([]int{}, q.Context...), q.Continuation...)
			var want float64
			greedy := true
			for p := len(q.Context) - 1; p < len(whole)-1; p++ {
				row := make([]float64, V)
				for v := range row {
					x := table[whole[p]*V+v]
					if c.dt == onnx.Float16 {
						x = runtime.Float16ToFloat32(runtime.Float32ToFloat16(x))
					}
					row[v] = float64(x)
				}
				want += logSoftmax(row)[whole[p+1]]
				greedy = greedy && argmax(row) == whole[p+1]
			}
			// float32 rounding of logits in the hundreds: 1e-5 plus a relative 2e-7.
			if d := math.Abs(got[i].LogLikelihood - want); d > 1e-5+2e-7*math.Abs(want) || got[i].IsGreedy != greedy {
				t.Errorf("%s request %d: %+v, want %v greedy=%v (diff %g)", name, i, got[i], want, greedy, d)
			}
		}
	}
	for _, s := range []testmodels.Spec{{Family: testmodels.Llama, KVCache: true}, {Family: testmodels.GPT2}} {
		m := build(t, s, s.Identity())
		f, err := findIO(m.Graph, 0)
		if err != nil {
			t.Fatal(err)
		}
		e, err := withEpilogue(m, f, formLogSoftmax, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range e.Graph.Node {
			if slices.Contains(n.Output, "logits") {
				t.Errorf("%s: the epilogue kept the lm_head producing logits", specName(s))
			}
		}
		data, _ := onnx.Encode(e)
		p := filepath.Join(dir, specName(s)+".onnx")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	onnxcheck.CheckMany(t, paths...)
}

func TestEpilogueRefusesOldOpset(t *testing.T) {
	m := lookupLM(10, onnx.Float, make([]float32, 4), 2)
	f, err := findIO(m.Graph, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = withEpilogue(m, f, formLogSumExp, false)
	want := `ortmodel: model "lookup" imports opset 10 of the default domain; the scoring epilogue needs opset 11 or later (GatherElements)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// TestEpilogueNamesAvoidEveryDefinition: the epilogue's fresh names avoid
// every name the graph defines, a sparse initializer's included (the scan
// is rewrite.Defined, shared with the rewriter), and the edited graph
// passes rewrite.Verify, which withEpilogue runs.
func TestEpilogueNamesAvoidEveryDefinition(t *testing.T) {
	m := lookupLM(17, onnx.Float, make([]float32, 4), 2)
	taken := "painterc.score.flat"
	m.Graph.SparseInitializer = append(m.Graph.SparseInitializer, &onnx.SparseTensor{
		Values:  &onnx.Tensor{Name: taken, Dims: []int64{0}, DataType: onnx.Float},
		Indices: &onnx.Tensor{Name: taken + ".indices", Dims: []int64{0}, DataType: onnx.Int64},
		Dims:    []int64{4},
	})
	f, err := findIO(m.Graph, 0)
	if err != nil {
		t.Fatal(err)
	}
	e, err := withEpilogue(m, f, formLogSumExp, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range e.Graph.Node {
		for _, o := range n.Output {
			if o == taken {
				t.Errorf("node %s writes %q, which the sparse initializer defines", n.Name, o)
			}
		}
	}
	if err := rewrite.Verify("test", e); err != nil {
		t.Error(err)
	}
}

// TestInputErrors: a model whose inputs ortmodel cannot fill is refused
// with every problem named, in this exact message.
func TestInputErrors(t *testing.T) {
	s := testmodels.Spec{Family: testmodels.Llama, KVCache: true, Layers: 2}
	m := build(t, s, s.Identity())
	g := m.Graph
	for _, v := range g.Input {
		switch v.Name {
		case "input_ids":
			v.Name = "tokens"
		case "past_key_values.0.key":
			v.Type.TensorType.Shape.Dim[3] = &onnx.Dimension{}
			v.Type.TensorType.Shape.Dim[3].SetDimParam("head_dim")
		case "position_ids":
			v.Type.TensorType.ElemType = onnx.Float
		}
	}
	var in []*onnx.ValueInfo
	for _, v := range g.Input {
		if v.Name != "past_key_values.1.value" {
			in = append(in, v)
		}
	}
	g.Input = append(in, valueInfo("pixel_values", onnx.Float, cloneDim(g.Input[0].Type.TensorType.Shape.Dim[0])))
	_, err := New(m, Options{})
	want := `ortmodel: cannot run model "main_graph":
  "tokens" int64[batch sequence_length]: not an input ortmodel can fill; it feeds input_ids, attention_mask, position_ids, token_type_ids, past_key_values.{i}.key/.value and use_cache_branch
  "position_ids" float32[batch sequence_length]: want int64 or int32 [batch, sequence]
  "past_key_values.0.key" float32[batch 2 past_sequence_length head_dim]: want a float32, float16 or bfloat16 cache input [batch, kv_heads, past_sequence_length, head_dim] with static kv_heads and head_dim (or a genai_config.json beside the model giving model.decoder.head_size)
  "pixel_values" float32[batch]: not an input ortmodel can fill; it feeds input_ids, attention_mask, position_ids, token_type_ids, past_key_values.{i}.key/.value and use_cache_branch
  "input_ids": missing; want an int64 or int32 [batch, sequence] input of token ids
  "past_key_values.1.value": missing; want it beside "past_key_values.1.key", each cache slot has a key and a value`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

// TestExternalWeights: a model loaded with its weights in an external data
// file (a sparse one) scores with ORT reading the file. With all-zero weights every
// logit is 0, so each token's log-probability is -log(vocab), and only
// token 0 (the first of equal maxima) is greedy.
func TestExternalWeights(t *testing.T) {
	s := testmodels.Spec{Family: testmodels.Llama, KVCache: true, ExternalData: "weights.bin", Layers: 2}
	m := build(t, s, s.Identity())
	dir := t.TempDir()
	size, err := testmodels.ExternalDataSize(m)
	if err != nil {
		t.Fatal(err)
	}
	data, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "weights.bin"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(dir, "weights.bin"), size); err != nil {
		t.Fatal(err)
	}
	loaded, err := onnx.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	lm := open(t, loaded, Options{MaxLength: 16})
	loaded.Close() // the session reads the data file itself
	got, err := lm.LogLikelihood(bg, []eval.LLRequest{
		{Context: []int{3, 4}, Continuation: []int{5, 6, 7}},
		{Context: []int{3}, Continuation: []int{0, 0}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(got[0].LogLikelihood + 3*math.Log(64)); d > 1e-4 || got[0].IsGreedy {
		t.Errorf("%+v, want %v, not greedy", got[0], -3*math.Log(64))
	}
	if d := math.Abs(got[1].LogLikelihood + 2*math.Log(64)); d > 1e-4 || !got[1].IsGreedy {
		t.Errorf("%+v, want %v, greedy", got[1], -2*math.Log(64))
	}
}
