package compile_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/testmodels"
)

// ortOptimize writes what ONNX Runtime's optimizer makes of m at level
// (SetSessionGraphOptimizationLevel + SetOptimizedModelFilePath) and
// decodes it.
func ortOptimize(t testing.TB, m *onnx.Model, level, dir, name string) *onnx.Model {
	t.Helper()
	in := save(t, dir, name+"-in", m)
	out := filepath.Join(dir, name+"-"+level+".onnx")
	s, err := runtime.NewSession(in, runtime.SessionOptions{IntraOpThreads: 1, OptLevel: level, OptimizedModelPath: out})
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

// optimizedSpecs are the families put through ORT's optimizer.
var optimizedSpecs = []testmodels.Spec{
	{Family: testmodels.Llama, Seed: 1},
	{Family: testmodels.Llama, KVCache: true, Seed: 2},
	{Family: testmodels.GPT2, Seed: 3},
	{Family: testmodels.GPT2, KVCache: true, Seed: 4},
	{Family: testmodels.BERT, Seed: 5},
}

// TestORTOptimizedEquivalence: each family, written out by ONNX Runtime's
// own optimizer at extended and at all (fused SimplifiedLayerNormalization,
// FusedMatMul, QuickGelu, FastGelu, BiasGelu; fused nodes named after the
// fusion, not the module), is found by its names as ORT-optimized, and
// every pass and hand schedule (at all only the passes, when all wrote the
// same operators as extended) rewritten from the optimized file equals on
// ORT, within 1e-5, the schedule built directly from the unoptimized
// family. KV models also pass the cache-consistency check. The optimized
// files are ORT's own (SimplifiedLayerNormalization in the default domain),
// so onnx.checker is not run on them.
func TestORTOptimizedEquivalence(t *testing.T) {
	orttest.Require(t)
	scheds := allSchedules(t)
	dir := t.TempDir()
	extendedOps := map[string]string{}
	for _, spec := range optimizedSpecs {
		for _, level := range []string{"extended", "all"} {
			t.Run(specName(spec)+"-"+level, func(t *testing.T) {
				opt := ortOptimize(t, testmodels.MustBuild(spec, spec.Identity()), level, dir, specName(spec))
				det := run(t, opt, compile.Options{Until: "detect"})
				if det.Blocks.T != 8 || det.Blocks.Exporter != rewrite.ExporterORT || det.Blocks.Method != "names" {
					t.Fatalf("found %d blocks, %s", det.Blocks.T, det.Blocks.Layout())
				}
				ops := opCounts(opt)
				same := level == "all" && ops == extendedOps[specName(spec)]
				if level == "extended" {
					extendedOps[specName(spec)] = ops
				}
				n := 0
				for what, sched := range scheds {
					if same && !strings.HasPrefix(what, "pass ") {
						continue // all wrote the operators extended did; the passes suffice
					}
					got := run(t, opt, compile.Options{Schedule: sched.String()}).Model
					want := testmodels.MustBuild(spec, sched)
					gotPath := save(t, dir, fmt.Sprintf("%s-%s-got%d", specName(spec), level, n), got)
					wantPath := save(t, dir, fmt.Sprintf("%s-%s-want%d", specName(spec), level, n), want)
					n++
					o := testmodels.InputOptions{Batch: 2, Seq: 4, Seed: 7}
					if spec.KVCache {
						o.Past = 3
					}
					feeds, err := testmodels.RandomInputs(spec, sched, o)
					if err != nil {
						t.Fatal(err)
					}
					orttest.Compare(t, fmt.Sprintf("%s %s (%s)", level, what, sched),
						orttest.Run(t, orttest.Session(t, gotPath), feeds),
						orttest.Run(t, orttest.Session(t, wantPath), feeds), 1e-5)
					if spec.KVCache && (what == "pass identity" || what == "pass reverse" || what == "pass parallel" || what == "pass looped-parallel") {
						cacheConsistent(t, level+" cache "+what, spec, sched, gotPath)
					}
				}
			})
		}
	}
}

// opCounts lists m's operators with their counts, sorted.
func opCounts(m *onnx.Model) string {
	c := map[string]int{}
	for _, n := range m.Graph.Node {
		c[n.Domain+":"+n.OpType]++
	}
	var out []string
	for op, k := range c {
		out = append(out, fmt.Sprintf("%s=%d", op, k))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// TestORTOptimizedDetectGolden: a golden detection dump of ORT-optimized
// Llama (KV) and GPT-2 at extended (ORT 1.24.1, the pinned runtime; a new
// ORT may fuse differently and then needs -update).
func TestORTOptimizedDetectGolden(t *testing.T) {
	orttest.Require(t)
	dir := t.TempDir()
	for _, spec := range []testmodels.Spec{
		{Family: testmodels.Llama, KVCache: true, Layers: 4},
		{Family: testmodels.GPT2, Layers: 4},
	} {
		m := ortOptimize(t, testmodels.MustBuild(spec, spec.Identity()), "extended", dir, specName(spec))
		r := run(t, m, compile.Options{Until: "detect"})
		got := "layout: " + r.Blocks.Layout() + "\n" + rewrite.DumpBlocks(m.Graph, r.Blocks)
		checkGolden(t, filepath.Join("testdata", "golden", "detect", "ort-extended-"+specName(spec)+".txt"), got)
	}
}
