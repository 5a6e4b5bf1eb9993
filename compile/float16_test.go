package compile_test

import (
	"fmt"
	"testing"

	"github.com/painterc/painterc/internal/onnxcheck"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/passes"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

// float16Specs are the float16 Llama variants (weights and I/O).
var float16Specs = []testmodels.Spec{
	{Family: testmodels.Llama, Float16: true, Seed: 12},
	{Family: testmodels.Llama, Float16: true, KVCache: true, Seed: 13},
	{Family: testmodels.Llama, Float16: true, GenAI: true, KVCache: true, Seed: 14},
}

// TestLowerEquivalenceFloat16 proves the float16 rewrite two ways, for
// every pass and hand schedule:
//
//   - in float16 on ONNX Runtime's CPU provider (at extended: see
//     orttest.SessionAt): a schedule without parallel groups is the same
//     nodes in the same order as Build's, and must give bit-identical
//     outputs. Two things round differently by design and must agree
//     within 0.01 (float16 has 11 significant bits): a parallel group's
//     mean (ONNX Mean in the rewrite, Sum then Div in Build), and in the
//     genai layout the stream adapters (a block that moved off position 0
//     gets (x, x-x) or a+r where Build calls the other norm);
//   - through the same rewrite cast to float32 (testmodels.ToFloat32 of
//     the rewritten float16 graph against ToFloat32 of Build's, the same
//     float16-valued weights widened exactly): within 1e-5, the fp32
//     oracle's tolerance.
//
// The float16 outputs also pass onnx.checker.
func TestLowerEquivalenceFloat16(t *testing.T) {
	orttest.Require(t)
	scheds := allSchedules(t)
	dir := t.TempDir()
	var paths []string
	n := 0
	for _, spec := range float16Specs {
		t.Run(specName(spec), func(t *testing.T) {
			worstPar := 0.0
			for what, sched := range scheds {
				name := fmt.Sprintf("%s (%s)", what, sched)
				got := lower(t, spec, sched)
				want := testmodels.MustBuild(spec, sched)
				gotPath := save(t, dir, fmt.Sprintf("f16-got%d", n), got)
				wantPath := save(t, dir, fmt.Sprintf("f16-want%d", n), want)
				got32 := save(t, dir, fmt.Sprintf("f32-got%d", n), testmodels.ToFloat32(got))
				want32 := save(t, dir, fmt.Sprintf("f32-want%d", n), testmodels.ToFloat32(want))
				n++
				if checkable(spec) {
					paths = append(paths, gotPath)
				}
				o := testmodels.InputOptions{Batch: 1, Seq: 4, Seed: 7}
				if spec.KVCache {
					o.Past = 3
				}
				feeds, err := testmodels.RandomInputs(spec, sched, o)
				if err != nil {
					t.Fatal(err)
				}
				tol := 0.0
				if hasParallel(sched.Steps) || adapted(spec, sched) {
					tol = 0.01
				}
				d := orttest.Compare(t, "float16 "+name,
					orttest.Run(t, orttest.SessionAt(t, gotPath, "extended"), feeds),
					orttest.Run(t, orttest.SessionAt(t, wantPath, "extended"), feeds), tol)
				if tol > 0 {
					worstPar = max(worstPar, d)
				}
				orttest.Compare(t, "as float32 "+name,
					orttest.Run(t, orttest.Session(t, got32), feeds),
					orttest.Run(t, orttest.Session(t, want32), feeds), 1e-5)
			}
			t.Logf("float16: schedules with parallel groups or stream adapters differ from Build by at most %g; the others by 0", worstPar)
			if spec.KVCache {
				// Prefill then decode against a full recompute, in float16:
				// the attention over 5+1 keys and over 6 rounds alike but
				// not bit for bit.
				runs := passRuns(t, 8, passes.Options{})
				for _, pass := range []string{"identity", "reverse", "parallel", "looped-parallel"} {
					sched := runs[pass].Schedule
					d := save(t, dir, fmt.Sprintf("f16-cache-%s-%s", specName(spec), pass), lower(t, spec, sched))
					cacheConsistentTol(t, "float16 cache "+pass, spec, sched, d, 0.01)
				}
			}
		})
	}
	onnxcheck.CheckMany(t, paths...)
}

// adapted reports whether lowering sched on a fused-pair layout runs a
// stream adapter: block 0 anywhere but first, or another block first.
func adapted(spec testmodels.Spec, sched schedule.Schedule) bool {
	if !spec.Fused && !spec.GenAI {
		return false
	}
	in := testmodels.Instances(sched)
	for k, b := range in {
		if (k == 0) != (b == 0) {
			return true
		}
	}
	return false
}

func hasParallel(steps []schedule.Step) bool {
	for _, st := range steps {
		if st.Kind == schedule.StepParallel || (st.Kind == schedule.StepSeq && hasParallel(st.Body)) {
			return true
		}
	}
	return false
}
