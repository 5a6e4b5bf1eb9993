package ortmodel

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

// layoutTwins are exporter layouts with the TorchScript-style twin that
// computes the same function from the same weights: the plain Llama of
// the same seed and sizes.
var layoutTwins = []struct {
	name         string
	layout, twin testmodels.Spec
}{
	{"genai", testmodels.Spec{Family: testmodels.Llama, GenAI: true, KVCache: true, Seed: 35, Heads: 2, KVHeads: 1},
		testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 35, Heads: 2, KVHeads: 1}},
	{"dynamo-llama", testmodels.Spec{Family: testmodels.Llama, Dynamo: true, KVCache: true, Seed: 36},
		testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 36}},
	{"dynamo-gpt2", testmodels.Spec{Family: testmodels.GPT2, Dynamo: true, KVCache: true, Seed: 37},
		testmodels.Spec{Family: testmodels.GPT2, KVCache: true, Seed: 37}},
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
			var m *onnx.Model
			if src == "0-7" {
				m = build(t, tc.layout, sched)
			} else {
				res, err := compile.Run(context.Background(), compile.Input{Model: build(t, tc.layout, tc.layout.Identity())}, compile.Options{Schedule: src})
				if err != nil {
					t.Fatal(err)
				}
				m = res.Model
			}
			o := Options{MaxLength: 40, BatchSize: 3}
			got, err := open(t, m, o).LogLikelihood(bg, reqs, nil)
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
