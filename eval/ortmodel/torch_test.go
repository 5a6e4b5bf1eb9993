package ortmodel

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime/npy"
)

// torchModel loads one of the real torch.onnx exports in testdata/torch.
func torchModel(t *testing.T, name string) *onnx.Model {
	t.Helper()
	m, err := onnx.Load(filepath.Join("..", "..", "testdata", "torch", name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestTorchExports: on the models torch 1.13 exported (HF module names,
// the exporter's own graph), the log-likelihood of tokens 1..4 of the
// recorded input given token 0 equals the log-softmax, in float64 here, of
// the logits torch itself computed for that input; the KV export scores
// the same from a shared cache as without one, and decodes the same with
// and without the cache.
func TestTorchExports(t *testing.T) {
	for _, name := range []string{"llama_tiny", "gpt2_tiny"} {
		dir := filepath.Join("..", "..", "testdata", "torch")
		ids, err := npy.ReadFile(filepath.Join(dir, name+".in.input_ids.npy"))
		if err != nil {
			t.Fatal(err)
		}
		logits, err := npy.ReadFile(filepath.Join(dir, name+".out.logits.npy"))
		if err != nil {
			t.Fatal(err)
		}
		tok64, _ := ids.Int64s()
		lg, _ := logits.Float64s()
		V := int(logits.Shape[2])
		tok := make([]int, len(tok64))
		for i, v := range tok64 {
			tok[i] = int(v)
		}
		var want float64
		greedy := true
		for p := 0; p < len(tok)-1; p++ {
			row := lg[p*V : (p+1)*V]
			want += logSoftmax(row)[tok[p+1]]
			greedy = greedy && argmax(row) == tok[p+1]
		}
		m := open(t, torchModel(t, name), Options{MaxLength: 32})
		got, err := m.LogLikelihood(bg, []eval.LLRequest{{Context: tok[:1], Continuation: tok[1:]}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(got[0].LogLikelihood - want); d > 1e-4 || got[0].IsGreedy != greedy {
			t.Errorf("%s: %+v, from torch's logits %v greedy=%v (diff %g)", name, got[0], want, greedy, d)
		}
		if m.VocabSize() != V {
			t.Errorf("%s: VocabSize %d, want %d", name, m.VocabSize(), V)
		}
	}

	kv := torchModel(t, "llama_tiny_kv")
	shared := open(t, kv, Options{MaxLength: 32, BatchSize: 4})
	plain := open(t, kv, Options{MaxLength: 32, BatchSize: 4})
	plain.noShare, plain.noCache = true, true
	if !shared.io.cached || len(shared.io.slots) != 6 {
		t.Fatalf("llama_tiny_kv: cached %v, %d slots", shared.io.cached, len(shared.io.slots))
	}
	r := rand.New(rand.NewPCG(6, 6))
	reqs := mcRequests(r, 3, 10, 4, shared.VocabSize())
	sameScores(t, "llama_tiny_kv shared, uncached", shared, plain, reqs)
	gen := []eval.GenRequest{{Context: randTokens(r, 4, 64), MaxTokens: 6}, {Context: randTokens(r, 9, 64), MaxTokens: 5}}
	x, err := shared.Generate(bg, gen, nil)
	if err != nil {
		t.Fatal(err)
	}
	y, err := plain.Generate(bg, gen, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range gen {
		if !slices.Equal(x[i].Tokens, y[i].Tokens) || len(x[i].Tokens) != gen[i].MaxTokens {
			t.Errorf("llama_tiny_kv generation %d: cached %v, recomputed %v", i, x[i].Tokens, y[i].Tokens)
		}
	}
}
