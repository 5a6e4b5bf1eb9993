package rewrite

import (
	"slices"
	"strings"
	"testing"

	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

// midLayouts are the fixture layouts whose halves detection must find.
var midLayouts = []struct {
	name  string
	spec  testmodels.Spec
	width int // of the mid stream: 1, or 2 for fused pairs
}{
	{"llama", testmodels.Spec{Family: testmodels.Llama}, 1},
	{"llama-kv", testmodels.Spec{Family: testmodels.Llama, KVCache: true}, 1},
	{"gpt2-kv", testmodels.Spec{Family: testmodels.GPT2, KVCache: true}, 1},
	{"bert (post-norm)", testmodels.Spec{Family: testmodels.BERT}, 1},
	{"llama-fused", testmodels.Spec{Family: testmodels.Llama, Fused: true, KVCache: true}, 2},
	{"genai", testmodels.Spec{Family: testmodels.Llama, GenAI: true, KVCache: true}, 2},
	{"genai-int4", testmodels.Spec{Family: testmodels.Llama, GenAI: true, Int4: true, KVCache: true}, 2},
	{"llama-fp16", testmodels.Spec{Family: testmodels.Llama, Float16: true, KVCache: true}, 1},
	{"dynamo-llama", testmodels.Spec{Family: testmodels.Llama, Dynamo: true, KVCache: true}, 1},
	{"dynamo-gpt2", testmodels.Spec{Family: testmodels.GPT2, Dynamo: true}, 1},
	{"dynamo-bert", testmodels.Spec{Family: testmodels.BERT, Dynamo: true}, 1},
	{"structure-gpt2", testmodels.Spec{Family: testmodels.GPT2, NoLayerIndex: true}, 1},
	{"structure-llama", testmodels.Spec{Family: testmodels.Llama, NoNames: true, KVCache: true}, 1},
}

// TestHalves: on every fixture layout every block has a mid stream of the
// layout's width, its halves partition the block (VerifyBlocks), the
// attention half holds the attention (Softmax or GroupQueryAttention, and
// every node touching the cache) and the MLP half the MLP (no attention
// op), and the mid stream is what the MLP half's first node reads.
func TestHalves(t *testing.T) {
	for _, c := range midLayouts {
		m, err := testmodels.Default(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Detect(m.Graph, DetectOptions{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := VerifyBlocks(m.Graph, b); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		for i := range b.T {
			if b.Mid[i] == nil {
				t.Errorf("%s: block %d has no mid stream: %s", c.name, i, b.MidReason[i])
				continue
			}
			if got := len(b.Mid[i].tensors()); got != c.width {
				t.Errorf("%s: block %d's mid stream %s has %d tensors, want %d", c.name, i, b.Mid[i], got, c.width)
			}
			attn, mlp := b.Half(i, schedule.Attn), b.Half(i, schedule.MLP)
			all := slices.Sorted(slices.Values(append(slices.Clone(attn), mlp...)))
			if !slices.Equal(all, b.Half(i, schedule.Whole)) {
				t.Errorf("%s: block %d: the halves do not partition the block", c.name, i)
			}
			ops := func(nodes []int) string {
				var s []string
				for _, n := range nodes {
					s = append(s, m.Graph.Node[n].OpType)
				}
				return strings.Join(s, " ")
			}
			isAttn := func(op string) bool { return op == "Softmax" || op == "GroupQueryAttention" }
			if !strings.Contains(ops(attn), "Softmax") && !strings.Contains(ops(attn), "GroupQueryAttention") {
				t.Errorf("%s: block %d: the attention half has no attention: %s", c.name, i, ops(attn))
			}
			for _, n := range mlp {
				if isAttn(m.Graph.Node[n].OpType) {
					t.Errorf("%s: block %d: the MLP half holds %s %q", c.name, i, m.Graph.Node[n].OpType, m.Graph.Node[n].Name)
				}
			}
		}
	}
}

// TestVerifyHalves: VerifyBlocks catches halves that overlap, miss a node,
// or put a cache node in the MLP half.
func TestVerifyHalves(t *testing.T) {
	s := testmodels.Spec{Family: testmodels.Llama, KVCache: true, Layers: 2}
	m := testmodels.MustBuild(s, s.Identity())
	fresh := func() *Blocks {
		b, err := Detect(m.Graph, DetectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var present int
	for i, n := range m.Graph.Node {
		if slices.Contains(n.Output, "present.1.key") {
			present = i
		}
	}
	for _, c := range []struct {
		want  string
		spoil func(b *Blocks)
	}{
		{"in both halves", func(b *Blocks) { b.halves[1][1] = append(b.halves[1][1], b.halves[1][0][0]) }},
		{"is in neither half", func(b *Blocks) { b.halves[1][0] = b.halves[1][0][1:] }},
		{`touches the KV cache "present.1.key"`, func(b *Blocks) { b.halves[1][1] = append(b.halves[1][1], present) }},
		{"no mid stream and no reason", func(b *Blocks) { b.Mid[0], b.MidReason[0] = nil, "" }},
	} {
		b := fresh()
		c.spoil(b)
		err := VerifyBlocks(m.Graph, b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("VerifyBlocks = %v, want it to say %q", err, c.want)
		}
	}
}

// TestLowerPartError: lowering a sub-block step on a block without a mid
// stream says which step, block and layout, and why.
func TestLowerPartError(t *testing.T) {
	s := testmodels.Spec{Family: testmodels.GPT2, Layers: 3}
	m := testmodels.MustBuild(s, s.Identity())
	b, err := Detect(m.Graph, DetectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.Mid[1], b.MidReason[1] = nil, "block 1 has 0 residual Adds that read its input"
	sched, err := schedule.Parse("0,1.mlp,2")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Lower(m, b, sched, Provenance{Pass: "schedule"})
	want := `schedule step 1.mlp: cannot run block 1's MLP half alone in this layout (TorchScript/optimum: module scopes in node names): block 1 has 0 residual Adds that read its input; run the whole block (1) instead`
	if err == nil || err.Error() != want {
		t.Errorf("Lower error:\n got %v\nwant %s", err, want)
	}
	if _, _, err := Lower(m, b, schedule.Sequential(0, 1, 2), Provenance{}); err != nil {
		t.Errorf("whole blocks: %v", err)
	}
}
