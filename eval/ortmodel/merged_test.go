package ortmodel

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/testmodels"
)

// TestMergedDecoder: an optimum-style merged decoder gets use_cache_branch
// false for runs without a past and true with one; its logits come from
// the If, so the epilogue gathers from the full logits. Log-likelihoods
// (shared-context path included) and cached greedy decoding match the
// reference.
func TestMergedDecoder(t *testing.T) {
	s := testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 51, Layers: 4}
	sched := s.Identity()
	m := open(t, testmodels.Merged(build(t, s, sched)), Options{MaxLength: 32, BatchSize: 3})
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
