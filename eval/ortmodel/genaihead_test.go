package ortmodel

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/testmodels"
)

// TestGenAISymbolicHeadDim: onnxruntime-genai's builder declares the cache
// as [batch_size, kv_heads, past_sequence_length, kv_cache_dim] and gives
// kv_cache_dim only in genai_config.json (the real SmolLM2-135M export
// does). Saved with that symbolic dimension, the genai test model is
// refused without the config, naming the input and the way out, and with
// the config beside it scores exactly as the same model with a static
// head_dim.
func TestGenAISymbolicHeadDim(t *testing.T) {
	orttest.Require(t)
	spec := testmodels.Spec{Family: testmodels.Llama, GenAI: true, KVCache: true, Seed: 35, Heads: 2, KVHeads: 1}
	static := build(t, spec, spec.Identity())
	reqs := mcRequests(rand.New(rand.NewPCG(5, 35)), 3, 12, 4, 64)
	o := Options{MaxLength: 40, BatchSize: 3}
	want, err := open(t, static, o).LogLikelihood(bg, reqs, nil)
	if err != nil {
		t.Fatal(err)
	}

	symbolic := build(t, spec, spec.Identity())
	renamed := 0
	for _, vs := range [][]*onnx.ValueInfo{symbolic.Graph.Input, symbolic.Graph.Output} {
		for _, v := range vs {
			if strings.HasPrefix(v.Name, "past_key_values.") || strings.HasPrefix(v.Name, "present.") {
				v.Type.TensorType.Shape.Dim[3] = &onnx.Dimension{DimParam: "kv_cache_dim"}
				renamed++
			}
		}
	}
	if renamed == 0 {
		t.Fatal("the genai test model has no cache inputs or outputs to make symbolic")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	if err := onnx.Save(path, symbolic, onnx.SaveOptions{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	load := func() *onnx.Model {
		m, err := onnx.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	}

	_, err = New(load(), Options{MaxLength: 40, BatchSize: 3, Threads: 1})
	if err == nil || !strings.Contains(err.Error(), `"past_key_values.0.key"`) ||
		!strings.Contains(err.Error(), "or a genai_config.json beside the model giving model.decoder.head_size") {
		t.Fatalf("without genai_config.json: err = %v, want the cache input named and genai_config.json suggested", err)
	}

	cfg, err := testmodels.GenAIConfig(spec, 8, "model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "genai_config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := open(t, load(), o).LogLikelihood(bg, reqs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range reqs {
		if d := math.Abs(got[i].LogLikelihood - want[i].LogLikelihood); d > 1e-6 || got[i].IsGreedy != want[i].IsGreedy {
			t.Errorf("request %d: %+v with kv_cache_dim from genai_config.json, %+v with a static head_dim (diff %g)", i, got[i], want[i], d)
		}
	}
}
