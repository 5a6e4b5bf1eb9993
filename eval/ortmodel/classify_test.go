package ortmodel

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/testmodels"
)

const labels = 3

// classifier is the BERT testmodel with a sequence-classification head:
// logits = last_hidden_state[:, 0] W + b, W [hidden, 3], b [3] from seed.
func classifier(t *testing.T, s testmodels.Spec) (*onnx.Model, []float32, []float32) {
	t.Helper()
	m := build(t, s, s.Identity())
	s, _ = s.WithDefaults()
	r := rand.New(rand.NewPCG(4, 4))
	w := make([]float32, s.Hidden*labels)
	b := make([]float32, labels)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	for i := range b {
		b[i] = float32(r.NormFloat64())
	}
	f32 := func(name string, dims []int64, v []float32) *onnx.Tensor {
		raw := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
		}
		return &onnx.Tensor{Name: name, Dims: dims, DataType: onnx.Float, RawData: raw}
	}
	g := m.Graph
	g.Initializer = append(g.Initializer,
		f32("classifier.weight", []int64{int64(s.Hidden), labels}, w),
		f32("classifier.bias", []int64{labels}, b),
		&onnx.Tensor{Name: "cls_index", DataType: onnx.Int64, RawData: make([]byte, 8)})
	g.Node = append(g.Node,
		&onnx.Node{Name: "/classifier/Gather", OpType: "Gather", Input: []string{"last_hidden_state", "cls_index"}, Output: []string{"cls"}, Attribute: []*onnx.Attribute{intAttr("axis", 1)}},
		&onnx.Node{Name: "/classifier/MatMul", OpType: "MatMul", Input: []string{"cls", "classifier.weight"}, Output: []string{"cls_w"}},
		&onnx.Node{Name: "/classifier/Add", OpType: "Add", Input: []string{"cls_w", "classifier.bias"}, Output: []string{"logits"}})
	batch := cloneDim(g.Output[0].Type.TensorType.Shape.Dim[0])
	n := &onnx.Dimension{}
	n.SetDimValue(labels)
	g.Output = []*onnx.ValueInfo{valueInfo("logits", onnx.Float, batch, n)}
	return m, w, b
}

// TestClassify: BERT's classification logits, in padded batches with and
// without token types and with truncation to MaxLength, equal the
// reference encoder's first hidden state times the head, computed here in
// float64 on each unpadded sequence.
func TestClassify(t *testing.T) {
	s := testmodels.Spec{Family: testmodels.BERT, Seed: 41}
	m, w, b := classifier(t, s)
	const L = 20
	cm := open(t, m, Options{MaxLength: L, BatchSize: 3})
	if cm.VocabSize() != 64 {
		t.Errorf("VocabSize %d, want the embedding's 64", cm.VocabSize())
	}
	r := rand.New(rand.NewPCG(8, 8))
	var reqs []eval.ClassRequest
	for i, n := range []int{5, 12, 3, 25, 8} {
		q := eval.ClassRequest{IDs: randTokens(r, n, 64)}
		if i%2 == 1 {
			q.TypeIDs = randTokens(r, n, 2)
		}
		reqs = append(reqs, q)
	}
	got, err := cm.Classify(bg, reqs, nil)
	if err != nil {
		t.Fatal(err)
	}
	sd, _ := s.WithDefaults()
	for i, q := range reqs {
		ids := q.IDs[:min(len(q.IDs), L)]
		n := int64(len(ids))
		in, mask, tt := make([]int64, n), make([]int64, n), make([]int64, n)
		for j := range ids {
			in[j], mask[j] = int64(ids[j]), 1
			if q.TypeIDs != nil {
				tt[j] = int64(q.TypeIDs[j])
			}
		}
		out, err := testmodels.Reference(s, s.Identity(), map[string]testmodels.Tensor{
			"input_ids":      {Shape: []int64{1, n}, Int: in},
			"attention_mask": {Shape: []int64{1, n}, Int: mask},
			"token_type_ids": {Shape: []int64{1, n}, Int: tt},
		})
		if err != nil {
			t.Fatal(err)
		}
		h := out["last_hidden_state"].Float[:sd.Hidden]
		for l := range labels {
			want := float64(b[l])
			for k, x := range h {
				want += float64(x) * float64(w[k*labels+l])
			}
			if d := math.Abs(float64(got[i][l]) - want); d > 1e-4 {
				t.Errorf("request %d label %d: %v, reference %v", i, l, got[i][l], want)
			}
		}
	}
	if _, err := cm.LogLikelihood(bg, []eval.LLRequest{{Context: []int{1}, Continuation: []int{2}}}, nil); err == nil {
		t.Error("LogLikelihood on a classifier succeeded")
	}
	if _, err := cm.Classify(bg, []eval.ClassRequest{{IDs: []int{1, 2}, TypeIDs: []int{0}}}, nil); err == nil {
		t.Error("mismatched TypeIDs accepted")
	}
}
