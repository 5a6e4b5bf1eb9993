package compile_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/internal/onnxcheck"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

// subBlockSchedules are sub-block schedules for T=8: halves alone, halves
// of different blocks chained, repeated, grouped, mixed with parallel
// groups, at the start and at the end.
var subBlockSchedules = []string{
	"0,1.attn,2,3.mlp,4-7",
	"0,(1.attn,1.mlp),2-7",
	"0,1.attnx2,2-7",
	"0-2,3.mlpx2,4-7",
	"0.mlp,0-7",
	"0-2,(3.attn,5.mlp)x2,[6,7]",
	"0,[1-3]x2,4.attn,7.mlp",
	"0-6,7.attn",
	"1.attn",
}

// halvesOf is the schedule that runs every block of T as its attention half
// then its MLP half: the identity, one sublayer at a time.
func halvesOf(T int) string {
	var steps []string
	for i := range T {
		steps = append(steps, fmt.Sprintf("%d.attn,%d.mlp", i, i))
	}
	return strings.Join(steps, ",")
}

// subBlockSpecs are the fixture layouts sub-block steps are checked on:
// every layout of specs (torch-style, fused pairs, genai, dynamo; BERT's
// post-norm) and the nameless ones found by structure.
func subBlockSpecs() []testmodels.Spec {
	out := append([]testmodels.Spec(nil), specs...)
	return append(out,
		testmodels.Spec{Family: testmodels.GPT2, KVCache: true, NoLayerIndex: true, Seed: 12},
		testmodels.Spec{Family: testmodels.Llama, KVCache: true, NoNames: true, Seed: 13},
		testmodels.Spec{Family: testmodels.Llama, Float16: true, KVCache: true, Seed: 14},
	)
}

func subBlockInputs(t *testing.T, spec testmodels.Spec, sched schedule.Schedule) map[string]testmodels.Tensor {
	t.Helper()
	o := testmodels.InputOptions{Batch: 2, Seq: 4, Seed: 7}
	if spec.KVCache {
		o.Past = 3
	}
	if spec.GenAI {
		o.Batch = 1 // GroupQueryAttention: several new tokens after a past need batch 1
	}
	feeds, err := testmodels.RandomInputs(spec, sched, o)
	if err != nil {
		t.Fatal(err)
	}
	return feeds
}

// TestSubBlockMatchesReference: on every fixture layout, each sub-block
// schedule lowered by painterc equals on ONNX Runtime the plain-Go
// reference, which runs the same halves by hand (testmodels.Reference),
// within 1e-4, presents included. The int4 and float16 layouts compute
// another function than the float32 reference: they are held to the
// identity test below instead.
func TestSubBlockMatchesReference(t *testing.T) {
	orttest.Require(t)
	dir := t.TempDir()
	var paths []string
	for _, spec := range subBlockSpecs() {
		if spec.Int4 || spec.Float16 {
			continue
		}
		name := specName(spec)
		if spec.NoLayerIndex || spec.NoNames {
			name += "-structure"
		}
		t.Run(name, func(t *testing.T) {
			worst := 0.0
			for j, src := range append(subBlockSchedules, halvesOf(8)) {
				sched, err := schedule.Parse(src)
				if err != nil {
					t.Fatal(err)
				}
				got := lower(t, spec, sched)
				path := save(t, dir, fmt.Sprintf("%s-%d", name, j), got)
				if checkable(spec) {
					paths = append(paths, path)
				}
				feeds := subBlockInputs(t, spec, sched)
				want, err := testmodels.Reference(spec, sched, feeds)
				if err != nil {
					t.Fatal(err)
				}
				d := orttest.Compare(t, fmt.Sprintf("%s %s", name, src), orttest.Run(t, orttest.Session(t, path), feeds), want, 1e-4)
				worst = max(worst, d)
			}
			t.Logf("%s: largest difference from the reference %g", name, worst)
		})
	}
	onnxcheck.CheckMany(t, paths...)
}

// TestSubBlockIdentity: a block run as its attention half then its MLP
// half is the block, exactly (the same operators on the same tensors): on
// every layout, int4 and float16 included, 0,1.attn,1.mlp,2-7 and the
// whole model in halves give bit-identical outputs to 0-7 on ORT.
func TestSubBlockIdentity(t *testing.T) {
	orttest.Require(t)
	dir := t.TempDir()
	for _, spec := range subBlockSpecs() {
		name := specName(spec)
		if spec.NoLayerIndex || spec.NoNames {
			name += "-structure"
		}
		level := ""
		if spec.Float16 {
			level = "extended"
		}
		whole := testmodels.MustBuild(spec, spec.Identity())
		ident := schedule.Sequential(0, 1, 2, 3, 4, 5, 6, 7)
		feeds := subBlockInputs(t, spec, ident)
		want := orttest.Run(t, orttest.SessionAt(t, save(t, dir, name+"-whole", run(t, whole, compile.Options{Schedule: "0-7"}).Model), level), feeds)
		for _, src := range []string{"0,(1.attn,1.mlp),2-7", halvesOf(8)} {
			got := run(t, whole, compile.Options{Schedule: src}).Model
			path := save(t, dir, name+"-halves", got)
			orttest.Compare(t, fmt.Sprintf("%s %s", name, src), orttest.Run(t, orttest.SessionAt(t, path, level), feeds), want, 0)
		}
	}
}

// TestSubBlockCacheConsistency: with sub-block steps, a prefill followed by
// a cached decode step equals recomputing all tokens (attention halves own
// their KV slots, MLP halves none).
func TestSubBlockCacheConsistency(t *testing.T) {
	orttest.Require(t)
	for _, spec := range subBlockSpecs() {
		if !spec.KVCache || spec.Float16 {
			continue
		}
		for _, src := range []string{"0,1.attn,2,3.mlp,4-7", "0,1.attnx2,2-7", "0-2,(3.attn,5.mlp)x2,[6,7]"} {
			sched, err := schedule.Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			cacheConsistent(t, specName(spec)+" "+src, spec, sched, save(t, t.TempDir(), "m", lower(t, spec, sched)))
		}
	}
}

// TestSubBlockMerged: in a merged decoder both If branches run the halves,
// and each branch of the rewrite equals the reference.
func TestSubBlockMerged(t *testing.T) {
	orttest.Require(t)
	spec := testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 9}
	in := testmodels.Merged(testmodels.MustBuild(spec, spec.Identity()))
	dir := t.TempDir()
	for j, src := range []string{"0,1.attn,2,3.mlp,4-7", "0,1.attnx2,2-7", halvesOf(8)} {
		r := run(t, in, compile.Options{Schedule: src})
		path := save(t, dir, fmt.Sprintf("merged%d", j), r.Model)
		feeds := subBlockInputs(t, spec, r.Schedule)
		want, err := testmodels.Reference(spec, r.Schedule, feeds)
		if err != nil {
			t.Fatal(err)
		}
		flag := map[string]*runtime.Tensor{"use_cache_branch": runtime.NewBool([]int64{1}, []bool{true})}
		orttest.Compare(t, "merged "+src, orttest.RunWith(t, orttest.Session(t, path), feeds, flag), want, 1e-4)
	}
}

// TestSubBlockPlanError: a sub-block step on a block whose halves were not
// found fails at plan, as a schedule error that names the step, the block,
// the layout and the reason.
func TestSubBlockPlanError(t *testing.T) {
	spec := testmodels.Spec{Family: testmodels.Llama, KVCache: true}
	m := testmodels.MustBuild(spec, spec.Identity())
	// Hide block 3's residual Add from detection: its output is now
	// written by an Identity on a Sum, which is no residual Add.
	var nodes []*onnx.Node
	for _, n := range m.Graph.Node {
		if n.Name == "/model/layers.3/Add" {
			c := *n
			c.OpType = "Sum"
			nodes = append(nodes, &c)
			continue
		}
		nodes = append(nodes, n)
	}
	m.Graph.Node = nodes
	_, err := compile.Run(t.Context(), compile.Input{Model: m}, compile.Options{Schedule: "0-2,3.attn,3.mlp,4-7"})
	var pe *rewrite.PartError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *rewrite.PartError", err)
	}
	for _, want := range []string{"3.attn", "block 3", "TorchScript/optimum", "residual Add", "run the whole block (3) instead"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// Whole blocks still run.
	run(t, m, compile.Options{Schedule: "0-7"})
}

// TestSubBlockORTOptimized: the layouts ONNX Runtime's own optimizer
// writes (fused norms, FusedMatMul, fused GELUs) split into halves too,
// and their sub-block schedules equal the reference within 1e-4.
func TestSubBlockORTOptimized(t *testing.T) {
	orttest.Require(t)
	dir := t.TempDir()
	for _, spec := range optimizedSpecs {
		for _, level := range []string{"extended", "all"} {
			opt := ortOptimize(t, testmodels.MustBuild(spec, spec.Identity()), level, dir, specName(spec))
			b := run(t, opt, compile.Options{Until: "detect"}).Blocks
			for i, mid := range b.Mid {
				if mid == nil {
					t.Errorf("%s %s: block %d: %s", specName(spec), level, i, b.MidReason[i])
				}
			}
			for j, src := range []string{"0,1.attn,2,3.mlp,4-7", "0-2,(3.attn,5.mlp)x2,[6,7]", halvesOf(8)} {
				sched, err := schedule.Parse(src)
				if err != nil {
					t.Fatal(err)
				}
				path := save(t, dir, fmt.Sprintf("%s-%s-%d", specName(spec), level, j), run(t, opt, compile.Options{Schedule: src}).Model)
				feeds := subBlockInputs(t, spec, sched)
				want, err := testmodels.Reference(spec, sched, feeds)
				if err != nil {
					t.Fatal(err)
				}
				orttest.Compare(t, fmt.Sprintf("%s %s %s", specName(spec), level, src), orttest.Run(t, orttest.Session(t, path), feeds), want, 1e-4)
			}
		}
	}
}
