package compile_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

// withCacheCopy returns a copy of m that reads past_key_values.0.key as
// torch 2.9's TorchScript exporter does: through a one-input Concat
// outside every scope, which both the prologue (the mask's past length)
// and layer 0 read.
func withCacheCopy(m *onnx.Model) *onnx.Model {
	const past, copied = "past_key_values.0.key", "/Concat_output_0"
	g := *m.Graph
	g.Node = []*onnx.Node{{Name: "/Concat", OpType: "Concat", Input: []string{past}, Output: []string{copied},
		Attribute: []*onnx.Attribute{{Name: "axis", Type: onnx.AttrInt, I: 0}}}}
	for _, n := range m.Graph.Node {
		if slices.Contains(n.Input, past) {
			c := *n
			c.Input = slices.Clone(n.Input)
			for i, in := range c.Input {
				if in == past {
					c.Input[i] = copied
				}
			}
			n = &c
		}
		g.Node = append(g.Node, n)
	}
	out := *m
	out.Graph = &g
	return &out
}

// TestLowerCacheCopy: a block node computed from the block's cache alone
// that the prologue also reads (the exporter's copy of layer 0's past)
// stays in the block, so that every instance of block 0 reads its own
// slot, and runs once more in the prologue on slot 0
// (Blocks.PrologueCopies). Every schedule equals Build's within 1e-5,
// with a past, including ones that drop block 0 or run it twice.
func TestLowerCacheCopy(t *testing.T) {
	orttest.Require(t)
	spec := testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 2}
	m, err := testmodels.Default(spec)
	if err != nil {
		t.Fatal(err)
	}
	q := withCacheCopy(m)
	b := run(t, q, compile.Options{Until: "detect"}).Blocks
	if len(b.PrologueCopies) != 1 || q.Graph.Node[b.PrologueCopies[0]].Name != "/Concat" || !slices.Contains(b.Block[0], b.PrologueCopies[0]) {
		t.Fatalf("prologue copies %v, block 0 %v: want the /Concat node (0), in block 0", b.PrologueCopies, b.Block[0][:min(3, len(b.Block[0]))])
	}
	dir := t.TempDir()
	for i, src := range []string{"0-7", "7-0", "1-7", "0,0,1-7", "0,[0-3]x2,4-7", "2,0,1,3-7"} {
		sched, err := schedule.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		got := save(t, dir, fmt.Sprintf("got%d", i), run(t, q, compile.Options{Schedule: src}).Model)
		want, err := testmodels.Build(spec, sched)
		if err != nil {
			t.Fatal(err)
		}
		wantPath := save(t, dir, fmt.Sprintf("want%d", i), want)
		feeds, err := testmodels.RandomInputs(spec, sched, testmodels.InputOptions{Batch: 2, Seq: 4, Past: 3, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		orttest.Compare(t, src, orttest.Run(t, orttest.Session(t, got), feeds), orttest.Run(t, orttest.Session(t, wantPath), feeds), 1e-5)
	}
}
