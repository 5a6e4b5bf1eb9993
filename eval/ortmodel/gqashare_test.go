package ortmodel

import (
	"math/rand/v2"
	"testing"

	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/testmodels"
)

// TestGQASharedContext: on onnxruntime-genai's layout (GroupQueryAttention,
// which takes a past only at batch 1), choices that share a long context
// are scored from one unpadded prefill, and a context too short to pay
// for it is not shared; either way every request equals the same model's
// request-by-request path and the TorchScript-style twin within 1e-4.
func TestGQASharedContext(t *testing.T) {
	layout := testmodels.Spec{Family: testmodels.Llama, GenAI: true, KVCache: true, Seed: 35, Heads: 2, KVHeads: 1}
	twin := testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 35, Heads: 2, KVHeads: 1}
	r := rand.New(rand.NewPCG(7, 35))
	var reqs []eval.LLRequest
	for d := range 3 {
		long := randTokens(r, 20-d, 64) // 4 short choices: shared
		for range 4 {
			reqs = append(reqs, eval.LLRequest{Context: long, Continuation: randTokens(r, 1+r.IntN(3), 64)})
		}
		short := randTokens(r, 3, 64) // 2 long choices: not worth it
		for range 2 {
			reqs = append(reqs, eval.LLRequest{Context: short, Continuation: randTokens(r, 10, 64)})
		}
	}
	var items []llItem
	for i, q := range reqs {
		items = append(items, llItem{req: i, ctx: q.Context, cont: q.Continuation})
	}
	o := Options{MaxLength: 40, BatchSize: 3}
	groups, alone := sharedGroups(items, o.MaxLength)
	kept, rest := gqaWorthSharing(items, groups, alone)
	if len(groups) != 6 || len(kept) != 3 || len(rest) != 6 {
		t.Fatalf("%d groups, %d kept, %d requests alone; want 6, 3 (the long contexts) and 6", len(groups), len(kept), len(rest))
	}
	for _, g := range kept {
		if len(g.ctx) < 18 {
			t.Errorf("a %d-token context was shared; only the long ones pay", len(g.ctx))
		}
	}

	m := build(t, layout, layout.Identity())
	shared := open(t, m, o)
	if !shared.gqa || shared.noShare {
		t.Fatalf("the genai layout opened with gqa %v, noShare %v; want a GroupQueryAttention model that shares", shared.gqa, shared.noShare)
	}
	plain := open(t, m, o)
	plain.noShare = true
	sameScores(t, "shared, request by request", shared, plain, reqs)
	sameScores(t, "shared, TorchScript-style twin", shared, open(t, build(t, twin, twin.Identity()), o), reqs)
}
