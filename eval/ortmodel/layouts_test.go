package ortmodel

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

// layoutTwins are exporter layouts with the TorchScript-style twin that
// computes the same function from the same weights: the plain Llama of
// the same seed and sizes.
var layoutTwins = []struct {
	name         string
	layout, twin testmodels.Spec
	ortOptimized string // run the layout through ORT's optimizer at this level first
}{
	{"genai", testmodels.Spec{Family: testmodels.Llama, GenAI: true, KVCache: true, Seed: 35, Heads: 2, KVHeads: 1},
		testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 35, Heads: 2, KVHeads: 1}, ""},
	// int4's twin is itself built directly: the int4 function is not the
	// float model's (MatMulNBits with accuracy_level 4 also quantizes
	// activations), so the rewrites are checked against Build(int4, S).
	{"genai-int4", testmodels.Spec{Family: testmodels.Llama, GenAI: true, Int4: true, KVCache: true, Seed: 35},
		testmodels.Spec{Family: testmodels.Llama, GenAI: true, Int4: true, KVCache: true, Seed: 35}, ""},
	{"dynamo-llama", testmodels.Spec{Family: testmodels.Llama, Dynamo: true, KVCache: true, Seed: 36},
		testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 36}, ""},
	{"dynamo-gpt2", testmodels.Spec{Family: testmodels.GPT2, Dynamo: true, KVCache: true, Seed: 37},
		testmodels.Spec{Family: testmodels.GPT2, KVCache: true, Seed: 37}, ""},
	{"fused-pairs", testmodels.Spec{Family: testmodels.Llama, Fused: true, KVCache: true, Seed: 40},
		testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 40}, ""},
	{"ort-extended-llama", testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 38},
		testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 38}, "extended"},
	{"ort-all-gpt2", testmodels.Spec{Family: testmodels.GPT2, KVCache: true, Seed: 39},
		testmodels.Spec{Family: testmodels.GPT2, KVCache: true, Seed: 39}, "all"},
}

// ortOptimized is m as ORT's optimizer writes it at level.
func ortOptimized(t *testing.T, m *onnx.Model, level string) *onnx.Model {
	t.Helper()
	orttest.Require(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.onnx"), filepath.Join(dir, "out.onnx")
	if err := onnx.Save(in, m, onnx.SaveOptions{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	s, err := runtime.NewSession(in, runtime.SessionOptions{OptLevel: level, OptimizedModelPath: out})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	o, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

// TestLayoutScoringMatchesTwin: ortmodel scores each layout (fed
// attention_mask of the total length and no position_ids where the layout
// has none) as the TorchScript-style twin: per-choice log-likelihoods
// within 1e-4 and the same IsGreedy, for the model itself and for a
// painterc rewrite of it (compared with the twin built directly in that
// schedule), in padded batches of several choices.
func TestLayoutScoringMatchesTwin(t *testing.T) {
	for _, tc := range layoutTwins {
		r := rand.New(rand.NewPCG(5, uint64(tc.layout.Seed)))
		reqs := mcRequests(r, 3, 12, 4, 64)
		for _, src := range []string{"0-7", "0-1,[2-5]x2,6-7", "0-2,4x3,7"} {
			sched, err := schedule.Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			base := build(t, tc.layout, tc.layout.Identity())
			if tc.ortOptimized != "" {
				base = ortOptimized(t, base, tc.ortOptimized)
			}
			m := base
			if src != "0-7" {
				res, err := compile.Run(context.Background(), compile.Input{Model: base}, compile.Options{Schedule: src})
				if err != nil {
					t.Fatal(err)
				}
				m = res.Model
			}
			o := Options{MaxLength: 40, BatchSize: 3}
			om := open(t, m, o)
			if om.HasCache() == tc.layout.GenAI {
				t.Errorf("%s: HasCache %v: a GroupQueryAttention model's cache is fed back only at batch 1, every other cached model's always", tc.name, om.HasCache())
			}
			got, err := om.LogLikelihood(bg, reqs, nil)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.name, src, err)
			}
			want, err := open(t, build(t, tc.twin, sched), o).LogLikelihood(bg, reqs, nil)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i := range reqs {
				d := math.Abs(got[i].LogLikelihood - want[i].LogLikelihood)
				worst = max(worst, d)
				if d > 1e-4 || got[i].IsGreedy != want[i].IsGreedy {
					t.Errorf("%s %s request %d: %+v, twin %+v (diff %g)", tc.name, src, i, got[i], want[i], d)
				}
			}
			t.Logf("%s %s: %d requests, largest difference from the twin %.2g", tc.name, src, len(reqs), worst)
		}
	}
}
