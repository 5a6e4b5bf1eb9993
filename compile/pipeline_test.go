package compile_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/internal/onnxcheck"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/passes"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

// specs are the testmodel families the compiler is checked on.
var specs = []testmodels.Spec{
	{Family: testmodels.Llama, Seed: 1},
	{Family: testmodels.Llama, KVCache: true, Seed: 2},
	{Family: testmodels.GPT2, Seed: 3},
	{Family: testmodels.GPT2, KVCache: true, Seed: 4},
	{Family: testmodels.BERT, Seed: 5},
	{Family: testmodels.Llama, Fused: true, KVCache: true, Seed: 6},
	{Family: testmodels.Llama, GenAI: true, KVCache: true, Seed: 7},
	{Family: testmodels.Llama, GenAI: true, Int4: true, KVCache: true, Seed: 8},
	{Family: testmodels.Llama, Dynamo: true, KVCache: true, Seed: 9},
	{Family: testmodels.GPT2, Dynamo: true, KVCache: true, Seed: 10},
	{Family: testmodels.BERT, Dynamo: true, Seed: 11},
}

// checkable reports whether Debian's onnx 1.12 checker can read models of
// spec s. The genai layout is IR 10 and opset 21, and its layer-0 norm is
// SimplifiedLayerNormalization in the default domain, as the builder
// writes it: an ORT contrib op that onnx.checker does not know. The dynamo
// layout is IR 10 and opset 18. Both are newer than that checker reads
// (IR <= 8, opset <= 17). Those models are
// checked on ORT only, which loads and validates them.
func checkable(s testmodels.Spec) bool { return !s.GenAI && !s.Dynamo }

// handSchedules are odd schedules for T=8 beyond what the passes make.
var handSchedules = []string{
	"0-7",
	"7-0",
	"0,[1,3,5]x2,6-7",
	"0-3,(4-7)x2",
	"0-1,5x3,6-7",
	"[0-7]",
	"0,[1-6]x3,7",
	"(0,[1,2])x2,7",
	"3",
	"0,2,4,6",
	"0-2,(3,[4,5])x2,6-7",
	"0,1,1,1,7",
	"0-7,0-7",
}

// passRuns returns every pass's schedule for T=8 (and, for skip-one and
// swap, index 3), keyed by a file-friendly name.
func passRuns(t testing.TB, T int, o passes.Options) map[string]passes.Result {
	t.Helper()
	out := map[string]passes.Result{}
	for _, p := range passes.All {
		r, err := p.Run(T, passOptions(p.Name, o))
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		r.Params = p.Label(r)
		out[p.Name] = r
	}
	return out
}

func specName(s testmodels.Spec) string {
	n := s.Family.String()
	switch {
	case s.Int4:
		n += "-genai-int4"
	case s.GenAI:
		n += "-genai"
	case s.Fused:
		n += "-fused"
	case s.Dynamo:
		n += "-dynamo"
	}
	if s.KVCache {
		n += "-kv"
	}
	if s.Float16 {
		n += "-fp16"
	}
	return n
}

func save(t testing.TB, dir, name string, m *onnx.Model) string {
	t.Helper()
	data, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".onnx")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// lower runs the compiler's own path on the plain test model.
func lower(t testing.TB, s testmodels.Spec, sched schedule.Schedule) *onnx.Model {
	t.Helper()
	m, err := testmodels.Default(s)
	if err != nil {
		t.Fatal(err)
	}
	return run(t, m, compile.Options{Schedule: sched.String()}).Model
}

// run compiles m in memory through the pipeline.
func run(t testing.TB, m *onnx.Model, o compile.Options) *compile.Result {
	t.Helper()
	r, err := compile.Run(context.Background(), compile.Input{Model: m}, o)
	if err != nil {
		t.Fatalf("compile %+v: %v", o, err)
	}
	return r
}

// allSchedules is every pass's schedule for T=8 (keyed "pass NAME") and
// every hand-written schedule (keyed by its text): what the equivalence
// tests run on each family.
func allSchedules(t testing.TB) map[string]schedule.Schedule {
	t.Helper()
	scheds := map[string]schedule.Schedule{}
	for name, r := range passRuns(t, 8, passes.Options{}) {
		scheds["pass "+name] = r.Schedule
	}
	for _, src := range handSchedules {
		s, err := schedule.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		scheds[src] = s
	}
	return scheds
}

// passOptions are the options passRuns gives pass name.
func passOptions(name string, o passes.Options) passes.Options {
	if name == "skip-one" || name == "swap" {
		o.Index, o.HasIndex = 3, true
	}
	return o
}

// TestLowerEquivalence is oracle 1 of docs/design.md: for every family, every
// pass and a dozen hand-written schedules, ORT(painterc(model, S)) equals
// ORT(testmodels.Build(S)), which builds the schedule directly.
func TestLowerEquivalence(t *testing.T) {
	orttest.Require(t)
	scheds := allSchedules(t)
	dir := t.TempDir()
	var paths []string
	n := 0
	for _, spec := range specs {
		// One subtest per family, so that -run TestLowerEquivalence/llama-genai
		// checks one layout.
		t.Run(specName(spec), func(t *testing.T) {
			for what, sched := range scheds {
				name := fmt.Sprintf("%s %s (%s)", specName(spec), what, sched)
				got := lower(t, spec, sched)
				want, err := testmodels.Build(spec, sched)
				if err != nil {
					t.Fatal(err)
				}
				gotPath := save(t, dir, fmt.Sprintf("got%d-%s", n, specName(spec)), got)
				wantPath := save(t, dir, fmt.Sprintf("want%d-%s", n, specName(spec)), want)
				n++
				if checkable(spec) {
					paths = append(paths, gotPath)
				}
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
				orttest.Compare(t, name,
					orttest.Run(t, orttest.Session(t, gotPath), feeds),
					orttest.Run(t, orttest.Session(t, wantPath), feeds), 1e-5)
			}
		})
	}
	onnxcheck.CheckMany(t, paths...)
}

// TestLowerCacheConsistency is oracle 2: on a rewritten KV model, a prefill
// of 5 tokens followed by one cached decode step equals recomputing all 6.
func TestLowerCacheConsistency(t *testing.T) {
	orttest.Require(t)
	runs := passRuns(t, 8, passes.Options{})
	for _, spec := range specs {
		if !spec.KVCache {
			continue
		}
		t.Run(specName(spec), func(t *testing.T) {
			for _, pass := range []string{"identity", "reverse", "parallel", "looped-parallel"} {
				sched := runs[pass].Schedule
				name := fmt.Sprintf("%s %s", specName(spec), pass)
				cacheConsistent(t, name, spec, sched, save(t, t.TempDir(), "m", lower(t, spec, sched)))
			}
		})
	}
}

// TestGolden compares the text dump of each (testmodel, pass) output with
// testdata/golden; run `go test ./compile -update` after an intended change.
func TestGolden(t *testing.T) {
	var paths []string
	dir := t.TempDir()
	for _, spec := range []testmodels.Spec{
		{Family: testmodels.Llama, KVCache: true, Layers: 6},
		{Family: testmodels.GPT2, Layers: 6},
		{Family: testmodels.BERT, Layers: 6},
		{Family: testmodels.Llama, Fused: true, KVCache: true, Layers: 6},
		{Family: testmodels.Llama, Float16: true, KVCache: true, Layers: 6},
	} {
		m, err := testmodels.Default(spec)
		if err != nil {
			t.Fatal(err)
		}
		var blocks strings.Builder
		run(t, m, compile.Options{Until: "detect", Dump: "blocks", DumpTo: &blocks})
		checkGolden(t, filepath.Join("testdata", "golden", specName(spec), "blocks.txt"), blocks.String())
		for _, p := range passes.All {
			name := p.Name
			out := run(t, m, compile.Options{Pass: name, PassOptions: passOptions(name, passes.Options{N: 1, HasN: true})}).Model
			checkGolden(t, filepath.Join("testdata", "golden", specName(spec), name+".txt"), rewrite.Dump(out))
			paths = append(paths, save(t, dir, specName(spec)+"-"+name, out))
		}
		// Sub-block steps: halves of one block, an attention half
		// repeated, an MLP half alone.
		out := run(t, m, compile.Options{Schedule: "0,1.attn,1.mlp,2.attnx2,3.mlp,4-5"}).Model
		checkGolden(t, filepath.Join("testdata", "golden", specName(spec), "subblock.txt"), rewrite.Dump(out))
		paths = append(paths, save(t, dir, specName(spec)+"-subblock", out))
	}
	onnxcheck.CheckMany(t, paths...)
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./compile -update` to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); run `go test ./compile -update` if intended:\n%s", path, diff)
	}
}

// TestLowerSharesWeights: instances share the input's initializers (the same
// tensors, not copies), blocks that never run drop theirs, and the output is
// deterministic.
func TestLowerSharesWeights(t *testing.T) {
	spec := testmodels.Spec{Family: testmodels.Llama, Layers: 32}
	m, err := testmodels.Default(spec)
	if err != nil {
		t.Fatal(err)
	}
	runs := passRuns(t, 32, passes.Options{N: 7, HasN: true})
	lower := func(pass string) *onnx.Model {
		return run(t, m, compile.Options{Pass: pass, PassOptions: passes.Options{N: 7, HasN: true}}).Model
	}
	orig := map[*onnx.Tensor]bool{}
	var origBytes int64
	for _, x := range m.Graph.Initializer {
		orig[x] = true
		origBytes += rewrite.TensorSize(x)
	}
	size := func(out *onnx.Model) (n int64) {
		for _, x := range out.Graph.Initializer {
			if !orig[x] {
				t.Errorf("initializer %s is not the input's tensor", x.Name)
			}
			n += rewrite.TensorSize(x)
		}
		return n
	}
	rep := lower("middle-repeat")
	if got := runs["middle-repeat"].Schedule.String(); got != "0-7,16x17,25-31" {
		t.Fatalf("middle-repeat schedule %s", got)
	}
	repBytes := size(rep)
	skip := lower("skip")
	skipBytes := size(skip)
	if repBytes >= origBytes || skipBytes >= origBytes {
		t.Errorf("weights: original %d, middle-repeat %d, skip %d bytes: both rewrites should hold fewer", origBytes, repBytes, skipBytes)
	}
	a, err := onnx.Encode(rep)
	if err != nil {
		t.Fatal(err)
	}
	c, err := onnx.Encode(lower("middle-repeat"))
	if err != nil {
		t.Fatal(err)
	}
	if len(a) == 0 || !bytes.Equal(a, c) {
		t.Error("lowering the same schedule twice gave different bytes")
	}
	meta := map[string]string{}
	for _, p := range rep.MetadataProps {
		if _, dup := meta[p.Key]; dup {
			t.Errorf("metadata key %s appears twice", p.Key)
		}
		meta[p.Key] = p.Value
	}
	if meta[rewrite.MetaSchedule] != "0-7,16x17,25-31" || meta[rewrite.MetaPass] != "middle-repeat n=7" {
		t.Errorf("metadata %v", meta)
	}
}

// TestLowerExternalDataSize: on a 32-block model whose weights are external,
// middle-repeat (M=17) writes no more than 1.01× the input's total bytes and
// skip writes less, because instances share weights and skipped blocks drop
// theirs.
func TestLowerExternalDataSize(t *testing.T) {
	spec := testmodels.Spec{Family: testmodels.Llama, Layers: 32}
	m, err := testmodels.Default(spec)
	if err != nil {
		t.Fatal(err)
	}
	inDir, outDir := t.TempDir(), t.TempDir()
	inPath := filepath.Join(inDir, "model.onnx")
	if err := onnx.Save(inPath, m, onnx.SaveOptions{ExternalData: true}); err != nil {
		t.Fatal(err)
	}
	in, err := onnx.Load(inPath)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	external := 0
	for _, x := range in.Graph.Initializer {
		if x.DataLocation == onnx.LocationExternal {
			external++
		}
	}
	if external == 0 {
		t.Fatal("the input has no external tensors")
	}
	total := func(dir string) (n int64) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			fi, _ := e.Info()
			n += fi.Size()
		}
		return n
	}
	inSize := total(inDir)
	for _, pass := range []string{"middle-repeat", "skip"} {
		dir := filepath.Join(outDir, pass)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		run(t, in, compile.Options{Pass: pass, PassOptions: passes.Options{N: 7, HasN: true},
			Output: filepath.Join(dir, "model.onnx"), Save: onnx.SaveOptions{ExternalData: true}})
		ratio := float64(total(dir)) / float64(inSize)
		t.Logf("%s: output %d bytes, input %d bytes (%.3fx)", pass, total(dir), inSize, ratio)
		if pass == "middle-repeat" && ratio > 1.01 {
			t.Errorf("middle-repeat output is %.3fx the input, want <= 1.01x", ratio)
		}
		if pass == "skip" && ratio >= 1 {
			t.Errorf("skip output is %.3fx the input, want < 1", ratio)
		}
	}
}

// TestDetectorGolden gives each layout detector a fixture and a golden
// dump of what it finds: the scopes of a torch-style export, fused pairs,
// structure alone (names without a layer index), and a merged decoder.
func TestDetectorGolden(t *testing.T) {
	small := func(s testmodels.Spec) *onnx.Model {
		s.Layers = 4
		return testmodels.MustBuild(s, s.Identity())
	}
	for _, tc := range []struct {
		name, method string
		m            *onnx.Model
	}{
		{"names", "names", small(testmodels.Spec{Family: testmodels.Llama, KVCache: true})},
		{"names-fused-pairs", "names", small(testmodels.Spec{Family: testmodels.Llama, Fused: true})},
		{"genai", "names", small(testmodels.Spec{Family: testmodels.Llama, GenAI: true, KVCache: true})},
		{"genai-int4", "names", small(testmodels.Spec{Family: testmodels.Llama, GenAI: true, Int4: true, KVCache: true})},
		{"dynamo", "dynamo", small(testmodels.Spec{Family: testmodels.Llama, Dynamo: true, KVCache: true})},
		{"dynamo-gpt2", "dynamo", small(testmodels.Spec{Family: testmodels.GPT2, Dynamo: true})},
		{"structure", "structure", small(testmodels.Spec{Family: testmodels.GPT2, NoLayerIndex: true})},
		{"merged", "merged", testmodels.Merged(small(testmodels.Spec{Family: testmodels.Llama, KVCache: true}))},
	} {
		r := run(t, tc.m, compile.Options{Until: "detect"})
		if r.Blocks.Method != tc.method || r.Blocks.T != 4 {
			t.Errorf("%s: found %d blocks by %s, want 4 by %s", tc.name, r.Blocks.T, r.Blocks.Method, tc.method)
		}
		got := "layout: " + r.Blocks.Layout() + "\n" + rewrite.DumpBlocks(tc.m.Graph, r.Blocks)
		checkGolden(t, filepath.Join("testdata", "golden", "detect", tc.name+".txt"), got)
	}
}

// TestGenAIInt4Size: on a 32-block int4 genai model, middle-repeat (M=17)
// writes no more than 1.01x the input's bytes, because every instance
// reads the block's shared {weight}_Q4 and {weight}_scales; skip writes
// less. (That the int4 rewrites run and equal Build is TestLowerEquivalence.)
// docs/layouts.md quotes both ratios; the test checks that it quotes these.
func TestGenAIInt4Size(t *testing.T) {
	ratios := map[string]string{}
	defer func() {
		doc, err := os.ReadFile(filepath.Join("..", "docs", "layouts.md"))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("(middle-repeat %s×, skip %s× the input on 32 blocks", ratios["middle-repeat"], ratios["skip"])
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/layouts.md does not say %q: update its genai int4 row", want)
		}
	}()
	spec := testmodels.Spec{Family: testmodels.Llama, GenAI: true, Int4: true, KVCache: true, Layers: 32}
	m, err := testmodels.Default(spec)
	if err != nil {
		t.Fatal(err)
	}
	in, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, pass := range []string{"middle-repeat", "skip"} {
		out := run(t, m, compile.Options{Pass: pass, PassOptions: passes.Options{N: 7, HasN: true}}).Model
		data, err := onnx.Encode(out)
		if err != nil {
			t.Fatal(err)
		}
		q4 := 0
		for _, x := range out.Graph.Initializer {
			if strings.HasSuffix(x.Name, "_Q4") {
				q4++
			}
		}
		ratio := float64(len(data)) / float64(len(in))
		t.Logf("%s: output %d bytes, input %d bytes (%.3fx), %d _Q4 weights", pass, len(data), len(in), ratio, q4)
		ratios[pass] = fmt.Sprintf("%.3f", ratio)
		// 5 per distinct block that runs (0-7, 25-31, and 16 for
		// middle-repeat), plus the lm_head's: the 17 instances of block 16
		// share one set.
		distinct := map[string]int{"middle-repeat": 16, "skip": 15}[pass]
		if q4 != 5*distinct+1 {
			t.Errorf("%s: %d _Q4 initializers, want %d (shared by every instance)", pass, q4, 5*distinct+1)
		}
		if pass == "middle-repeat" && ratio > 1.01 {
			t.Errorf("middle-repeat output is %.3fx the input, want <= 1.01x", ratio)
		}
		if pass == "skip" && ratio >= 1 {
			t.Errorf("skip output is %.3fx the input, want < 1", ratio)
		}
	}
}

// cacheConsistent checks oracle 2 on the model at path, which runs sched
// on spec's family: prefilling 5 tokens then decoding the sixth from the
// presents equals recomputing all 6, within 1e-5.
func cacheConsistent(t *testing.T, name string, spec testmodels.Spec, sched schedule.Schedule, path string) {
	t.Helper()
	cacheConsistentTol(t, name, spec, sched, path, 1e-5)
}

// cacheConsistentTol is cacheConsistent within tol; float16 models run at
// extended (see orttest.SessionAt).
func cacheConsistentTol(t *testing.T, name string, spec testmodels.Spec, sched schedule.Schedule, path string, tol float64) {
	t.Helper()
	level := ""
	if spec.Float16 {
		level = "extended"
	}
	sess := orttest.SessionAt(t, path, level)
	full, err := testmodels.RandomInputs(spec, sched, testmodels.InputOptions{Seq: 6, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	fullOut := orttest.Run(t, sess, full)

	prefill := map[string]testmodels.Tensor{}
	decode := map[string]testmodels.Tensor{}
	for n, v := range full {
		switch {
		case strings.HasPrefix(n, "past_key_values."):
			prefill[n] = v // empty pasts
		case n == "attention_mask":
			prefill[n] = testmodels.Tensor{Shape: []int64{1, 5}, Int: v.Int[:5]}
			decode[n] = v
		default: // input_ids, position_ids
			prefill[n] = testmodels.Tensor{Shape: []int64{1, 5}, Int: v.Int[:5]}
			decode[n] = testmodels.Tensor{Shape: []int64{1, 1}, Int: v.Int[5:]}
		}
	}
	pre := orttest.Run(t, sess, prefill)
	for n, v := range pre {
		if strings.HasPrefix(n, "present.") {
			decode["past_key_values."+strings.TrimPrefix(n, "present.")] = v
		}
	}
	step := orttest.Run(t, sess, decode)
	want := map[string]testmodels.Tensor{}
	for n, v := range fullOut {
		if n == "logits" {
			vocab := v.Shape[2]
			want[n] = testmodels.Tensor{Shape: []int64{1, 1, vocab}, Float: v.Float[5*vocab:]}
		} else {
			want[n] = v
		}
	}
	orttest.Compare(t, name, step, want, tol)
}
