package rewrite

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

func mustSchedules(t *testing.T, srcs ...string) []schedule.Schedule {
	t.Helper()
	var out []schedule.Schedule
	for _, s := range srcs {
		sc, err := schedule.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sc)
	}
	return out
}

var forkInstance = regexp.MustCompile(`^/painter/fork/(\d+)/`)

// TestLowerForkShares checks the trie: a prefix of stages that several
// schedules share is emitted once, every distinct schedule gets one head,
// and the graph's interface is m's inputs plus the targets, and per-token
// outputs only.
func TestLowerForkShares(t *testing.T) {
	for _, spec := range []testmodels.Spec{
		{Family: testmodels.Llama, Layers: 8},
		{Family: testmodels.Llama, Layers: 8, KVCache: true},
		{Family: testmodels.Llama, Layers: 8, Fused: true, KVCache: true},
		{Family: testmodels.GPT2, Layers: 8, KVCache: true},
	} {
		m, err := testmodels.Default(spec)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Detect(m.Graph, DetectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// The full model runs 8 instances; "0-2,4-7" leaves it after block
		// 2 (4 more), "0-2,5-7" after block 2 too (3 more), "0-3,5-7" after
		// block 3 (3 more), "0-7" and the repeated "0-2,4-7" add none.
		cands := mustSchedules(t, "0-2,4-7", "0-2,5-7", "0-3,5-7", "0-7", "0-2,4-7")
		fm, err := LowerFork(m, b, cands)
		if err != nil {
			t.Fatalf("%+v: %v", spec, err)
		}
		if err := Verify("test", fm); err != nil {
			t.Fatal(err)
		}
		instances := map[string]bool{}
		for _, n := range fm.Graph.Node {
			if s := forkInstance.FindStringSubmatch(n.Name); s != nil {
				instances[s[1]] = true
			}
		}
		if len(instances) != 18 {
			t.Errorf("%+v: %d block instances, want 18 (8 + 4 + 3 + 3)", spec, len(instances))
		}
		for _, n := range fm.Graph.Node {
			if n.OpType == "Constant" && n.Attribute[0].T != nil {
				t.Errorf("%+v: Constant node %s left in the fork graph", spec, n.Name)
				break
			}
		}
		lmHeads := 0
		for _, n := range fm.Graph.Node {
			if n.OpType == "LogSoftmax" {
				lmHeads++
			}
		}
		if lmHeads != 4 {
			t.Errorf("%+v: %d log-softmaxes, want one per distinct schedule (4)", spec, lmHeads)
		}

		var want []string
		for j := range cands {
			want = append(want, ForkKL(j), ForkTop1(j), ForkNLL(j))
		}
		want = append(want, ForkNLLFull)
		var got []string
		for _, v := range fm.Graph.Output {
			got = append(got, v.Name)
			if d := v.Type.TensorType.Shape.Dim; len(d) != 2 || v.Type.TensorType.ElemType != onnx.Float {
				t.Errorf("%+v: output %s is not float [batch, seq]", spec, v.Name)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: outputs %v, want %v", spec, got, want)
		}
		var inputs []string
		for _, v := range m.Graph.Input {
			inputs = append(inputs, v.Name)
		}
		inputs = append(inputs, ForkTargets)
		got = got[:0]
		for _, v := range fm.Graph.Input {
			got = append(got, v.Name)
		}
		if !slices.Equal(got, inputs) {
			t.Errorf("%+v: inputs %v, want %v", spec, got, inputs)
		}
		// Weights are shared, not copied: every initializer is m's own, but
		// for the scoring's axes and the Constant nodes' values, one per
		// distinct Constant of m, whatever the instances.
		own := map[*onnx.Tensor]bool{}
		for _, w := range m.Graph.Initializer {
			own[w] = true
		}
		for _, w := range fm.Graph.Initializer {
			if !own[w] && w.Name != "/painter/fork/score/axes_minus_one" && !strings.HasPrefix(w.Name, "/painter/fork/const.") {
				t.Errorf("%+v: initializer %s is not m's", spec, w.Name)
			}
		}
	}
}

// TestLowerForkRefuses checks the models and candidate lists LowerFork
// cannot build a graph for.
func TestLowerForkRefuses(t *testing.T) {
	spec := testmodels.Spec{Family: testmodels.Llama, Layers: 2}
	m, err := testmodels.Default(spec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Detect(m.Graph, DetectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LowerFork(m, b, nil); err == nil {
		t.Error("LowerFork accepted no candidates")
	}
	if _, err := LowerFork(m, b, mustSchedules(t, "0-2")); err == nil {
		t.Error("LowerFork accepted block 2 of a 2-block model")
	}
	old := *m
	old.OpsetImport = []*onnx.OperatorSet{{Domain: "", Version: 10}}
	if _, err := LowerFork(&old, b, mustSchedules(t, "0")); err == nil {
		t.Error("LowerFork accepted opset 10")
	}
}
