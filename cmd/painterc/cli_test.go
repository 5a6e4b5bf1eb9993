package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/painterc/painterc/internal/onnxcheck"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/passes"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/runtime/npy"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

// The happy paths of every command, run the way a user types them.

func mustSucceed(t *testing.T, r result) {
	t.Helper()
	noPanic(t, r)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// metadata reads the metadata_props of a model file.
func metadata(t *testing.T, path string) map[string]string {
	t.Helper()
	m, err := onnx.Decode(readFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	md := map[string]string{}
	for _, p := range m.MetadataProps {
		md[p.Key] = p.Value
	}
	return md
}

// TestCompileAsWritten runs the command of the README exactly, in the
// model's directory, and checks the result on ONNX Runtime against
// testmodels building the same schedule directly.
func TestCompileAsWritten(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "model.onnx"), tiny)
	t.Run("cd", func(t *testing.T) {
		t.Chdir(dir)
		r := cli(t, "--pass=looped-parallel", "model.onnx", "-o", "out.onnx")
		mustSucceed(t, r)
		if r.stdout != "" {
			t.Errorf("stdout: %q", r.stdout)
		}
		want := []string{
			"painterc: no --n or --layers given: using N = floor(T/4) = 2, middle 3-5 (3 blocks)",
			"painterc: no --loops given: using R = 3, the paper's main setting",
			"painterc: 8 blocks (found by names); schedule 0-2,[3-5]x3,6-7",
			"painterc: wrote out.onnx (14 block instances)",
		}
		if got := lines(r.stderr); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, strings.Join(want, "\n"))
		}
	})
	out := filepath.Join(dir, "out.onnx")
	md := metadata(t, out)
	if md[rewrite.MetaSchedule] != "0-2,[3-5]x3,6-7" || md[rewrite.MetaPass] != "looped-parallel n=2 loops=3" {
		t.Errorf("metadata %v", md)
	}
	if d := diffSnapshots(map[string]string{"model.onnx": "", "out.onnx": ""}, fileSet(t, dir)); len(d) > 0 {
		t.Errorf("files in the directory: %v", d)
	}
	onnxcheck.Check(t, out)

	// The rewritten model computes what the schedule says.
	orttest.Require(t)
	sched, err := schedule.Parse("0-2,[3-5]x3,6-7")
	if err != nil {
		t.Fatal(err)
	}
	direct := filepath.Join(dir, "direct.onnx")
	m, err := testmodels.Build(tiny, sched)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, direct, encodeModel(t, m))
	feeds, err := testmodels.RandomInputs(tiny, sched, testmodels.InputOptions{Seq: 5, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	orttest.Compare(t, "painterc vs testmodels.Build",
		orttest.Run(t, orttest.Session(t, out), feeds),
		orttest.Run(t, orttest.Session(t, direct), feeds), 1e-5)
}

// fileSet lists the names in dir, with empty hashes (for diffSnapshots).
func fileSet(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := map[string]string{}
	for _, e := range ents {
		s[e.Name()] = ""
	}
	return s
}

func TestCompileSchedule(t *testing.T) {
	dir := t.TempDir()
	in := writeModel(t, filepath.Join(dir, "model.onnx"), testmodels.Spec{Family: testmodels.GPT2, KVCache: true, Seed: 2})
	out := filepath.Join(dir, "out.onnx")
	r := cli(t, "--schedule", "0,1,2, [3,4,5] x2, 7-6", in, "-o", out, "-q")
	mustSucceed(t, r)
	if r.stderr != "" || r.stdout != "" {
		t.Errorf("-q printed:\n%s%s", r.stdout, r.stderr)
	}
	md := metadata(t, out)
	if md[rewrite.MetaSchedule] != "0-2,[3-5]x2,7-6" || md[rewrite.MetaPass] != "schedule" || md[rewrite.MetaKVSlots] != "0,1,2,3,4,5,3,4,5,7,6" {
		t.Errorf("metadata %v", md)
	}
	onnxcheck.Check(t, out)
}

func TestPlan(t *testing.T) {
	dir := t.TempDir()
	in := writeModel(t, filepath.Join(dir, "model.onnx"), tiny)
	for _, tc := range []struct {
		args           []string
		stdout, stderr string
	}{
		{[]string{"plan", "--pass=reverse", in}, "0-2,5-3,6-7\n",
			"painterc: no --n or --layers given: using N = floor(T/4) = 2, middle 3-5 (3 blocks)\npainterc: reverse n=2 on 8 blocks: 8 block instances\n"},
		{[]string{"plan", "--pass=skip", "--n", "7", "--blocks", "32"}, "0-7,25-31\n",
			"painterc: skip n=7 on 32 blocks: 15 block instances\n"},
		{[]string{"plan", "--pass=looped-parallel", "--layers", "8-24", "--blocks", "32"}, "0-7,[8-24]x3,25-31\n",
			"painterc: no --loops given: using R = 3, the paper's main setting\npainterc: looped-parallel layers=8-24 loops=3 on 32 blocks: 66 block instances\n"},
		{[]string{"plan", "--schedule", "0-7,[8-24]x3,25-31", "--blocks", "32"}, "0-7,[8-24]x3,25-31\n",
			"painterc: schedule on 32 blocks: 66 block instances\n"},
		{[]string{"plan", "--schedule", "0,(1.attn,1.mlp),2.attnx2,3.mlp,4-7", "--blocks", "8"}, "0,1.attn,1.mlp,2.attnx2,3.mlp,4-7\n",
			"painterc: schedule on 8 blocks: 8 block instances (3 of them attention halves) and 2 MLP halves\n"},
	} {
		r := cli(t, tc.args...)
		mustSucceed(t, r)
		if r.stdout != tc.stdout || r.stderr != tc.stderr {
			t.Errorf("painterc %s\nstdout %q, want %q\nstderr %q, want %q", strings.Join(tc.args, " "), r.stdout, tc.stdout, r.stderr, tc.stderr)
		}
	}
}

// TestPlanInstanceCap: a pass's schedule obeys the 100000-instance cap the
// parser enforces, so a huge --loops is refused before anything unrolls it.
func TestPlanInstanceCap(t *testing.T) {
	r := cli(t, "plan", "--pass=looped-parallel", "--loops", "100000", "--layers", "0-31", "--blocks", "32")
	want := "painterc: looped-parallel layers=0-31 loops=100000: the schedule runs 3200000 block instances; at most 100000 are allowed: use a smaller middle or fewer loops\n"
	if r.code != exitSchedule || r.stdout != "" || r.stderr != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", r.code, r.stdout, r.stderr, exitSchedule, want)
	}
}

func TestPasses(t *testing.T) {
	r := cli(t, "passes")
	mustSucceed(t, r)
	got := lines(r.stdout)
	if len(got) != len(passes.All) {
		t.Fatalf("%d lines for %d passes:\n%s", len(got), len(passes.All), r.stdout)
	}
	for i, p := range passes.All {
		if f := strings.Fields(got[i]); len(f) == 0 || f[0] != p.Name || !strings.Contains(got[i], p.Doc) {
			t.Errorf("line %d: %q, want pass %s", i, got[i], p.Name)
		}
	}
	r = cli(t, "passes", "-v")
	mustSucceed(t, r)
	if n := len(lines(r.stdout)); n != 2*len(passes.All) {
		t.Errorf("passes -v printed %d lines, want %d", n, 2*len(passes.All))
	}
}

func TestInspect(t *testing.T) {
	dir := t.TempDir()
	in := writeModel(t, filepath.Join(dir, "model.onnx"), testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 2})

	r := cli(t, "inspect", in)
	mustSucceed(t, r)
	for _, want := range []string{
		"model      " + in + "\n",
		"ir_version 8\n",
		"opsets     ai.onnx 17\n",
		"blocks     8 (found by names); prologue ",
		"past_key_values.0.key ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, r.stdout)
		}
	}

	r = cli(t, "inspect", "--json", in)
	mustSucceed(t, r)
	var rep inspectReport
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, r.stdout)
	}
	if rep.Path != in || rep.IRVersion != 8 || rep.Opsets["ai.onnx"] != 17 || rep.Blocks == nil {
		t.Fatalf("report %+v", rep)
	}
	b := rep.Blocks
	if b.Count != 8 || b.Method != "names" || len(b.Blocks) != 8 || len(b.Boundaries) != 9 {
		t.Errorf("blocks %+v", b)
	}
	for i, bl := range b.Blocks {
		if bl.Index != i || bl.Nodes == 0 || bl.ParamBytes == 0 || bl.Input != b.Boundaries[i] || bl.Output != b.Boundaries[i+1] {
			t.Errorf("block %d: %+v", i, bl)
		}
		if want := "past_key_values." + itoa(i) + ".key"; bl.PastKey != want {
			t.Errorf("block %d past key %q, want %q", i, bl.PastKey, want)
		}
		// The halves: a mid stream, nodes and weights that add up.
		if bl.Mid == "" || bl.NoHalves != "" || bl.AttnNodes+bl.MLPNodes != bl.Nodes || bl.AttnParamBytes+bl.MLPParamBytes != bl.ParamBytes || bl.AttnNodes == 0 || bl.MLPParamBytes == 0 {
			t.Errorf("block %d halves: %+v", i, bl)
		}
	}
	var names []string
	for _, v := range rep.Inputs {
		names = append(names, v.Name)
	}
	if len(names) != 2+1+16 || names[0] != "input_ids" || !slices.Contains(names, "past_key_values.7.value") {
		t.Errorf("inputs %v", names)
	}

	// A model without blocks is still described, with the reason.
	relu := filepath.Join(dir, "relu.onnx")
	writeFile(t, relu, reluGraph(t))
	r = cli(t, "inspect", relu)
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, "blocks     not found: cannot find the transformer blocks:") {
		t.Errorf("inspect of a model without blocks:\n%s", r.stdout)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestDump checks each --dump phase against the library's own dump of the
// same thing, and that --dump without -o writes no file.
func TestDump(t *testing.T) {
	dir := t.TempDir()
	in := writeModel(t, filepath.Join(dir, "model.onnx"), tiny)
	m, err := onnx.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b, err := rewrite.Detect(m.Graph, rewrite.DetectOptions{})
	if err != nil {
		t.Fatal(err)
	}

	r := cli(t, "--pass=reverse", "--dump=blocks", in)
	mustSucceed(t, r)
	if r.stdout != rewrite.DumpBlocks(m.Graph, b) {
		t.Errorf("--dump=blocks differs from rewrite.DumpBlocks")
	}
	if !strings.Contains(r.stdout, "block 7") {
		t.Errorf("--dump=blocks:\n%.500s", r.stdout)
	}

	r = cli(t, "--pass=reverse", "--dump=schedule", in)
	mustSucceed(t, r)
	if r.stdout != "0-2,5-3,6-7\n" {
		t.Errorf("--dump=schedule: %q", r.stdout)
	}

	out := filepath.Join(dir, "out.onnx")
	r = cli(t, "--pass=reverse", "--dump=lowered", in, "-o", out)
	mustSucceed(t, r)
	saved, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	defer saved.Close()
	if r.stdout != rewrite.Dump(saved) {
		t.Errorf("--dump=lowered differs from the dump of the written model")
	}
	if d := diffSnapshots(map[string]string{"model.onnx": "", "out.onnx": ""}, fileSet(t, dir)); len(d) > 0 {
		t.Errorf("files: %v", d)
	}

	r = cli(t, "--pass=reverse", "--dump=middle", in)
	if r.code != exitUsage || r.stderr != "painterc: --dump=middle: want blocks, schedule or lowered\n" {
		t.Errorf("--dump=middle: exit %d, %q", r.code, r.stderr)
	}
}

// TestRun runs a model with painterc run, writing .npy files, and checks
// them against the same model run through internal/orttest.
func TestRun(t *testing.T) {
	orttest.Require(t)
	dir := t.TempDir()
	spec := testmodels.Spec{Family: testmodels.GPT2, KVCache: true, Seed: 5}
	in := writeModel(t, filepath.Join(dir, "model.onnx"), spec)
	feeds, err := testmodels.RandomInputs(spec, spec.Identity(), testmodels.InputOptions{Batch: 2, Seq: 4, Past: 2, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"run", in, "--threads", "1"}
	for name, v := range feeds {
		p := filepath.Join(dir, "inputs", name+".npy")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var tensor *runtime.Tensor
		if v.Int != nil {
			tensor = runtime.NewInt64(v.Shape, v.Int)
		} else {
			tensor = runtime.NewFloat32(v.Shape, v.Float)
		}
		if err := npy.WriteFile(p, tensor); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--input", name+"="+p)
	}
	outDir := filepath.Join(dir, "outputs")
	r := cli(t, append(args, "--out", outDir)...)
	mustSucceed(t, r)

	want := orttest.Run(t, orttest.Session(t, in), feeds)
	got := map[string]testmodels.Tensor{}
	ents, err := os.ReadDir(outDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		tensor, err := npy.ReadFile(filepath.Join(outDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		f, err := tensor.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		got[strings.TrimSuffix(e.Name(), ".npy")] = testmodels.Tensor{Shape: tensor.Shape, Float: f}
	}
	orttest.Compare(t, "painterc run --out", got, want, 0)
	if len(lines(r.stdout)) != len(want) {
		t.Errorf("stdout has %d lines for %d outputs:\n%s", len(lines(r.stdout)), len(want), r.stdout)
	}

	// --compare against those files reports no difference.
	r = cli(t, append(args, "--compare", outDir)...)
	mustSucceed(t, r)
	for _, l := range lines(r.stdout) {
		if !strings.HasSuffix(l, "max|diff| 0 mean|diff| 0") {
			t.Errorf("--compare: %s", l)
		}
	}

	// --out onto the files --compare reads is refused (exit 6), and they
	// stay as they were.
	before := snapshot(t, outDir)
	r = cli(t, append(args, "--compare", outDir, "--out", outDir)...)
	first := filepath.Join(outDir, ents[0].Name())
	if want := "painterc: " + first + " is a --compare file: painterc never modifies its input; choose another output path\n"; r.code != exitOutput || !strings.HasSuffix(r.stderr, want) {
		t.Errorf("--out onto --compare: exit %d, %q; want exit 6 and %q", r.code, r.stderr, want)
	}
	if d := diffSnapshots(before, snapshot(t, outDir)); len(d) > 0 {
		t.Errorf("--compare files changed: %v", d)
	}
}

// TestInspectNamesLayout: inspect names the exporter whose layout it found,
// for each layout testmodels writes.
func TestInspectNamesLayout(t *testing.T) {
	dir := t.TempDir()
	for i, c := range []struct {
		spec testmodels.Spec
		want string
	}{
		{testmodels.Spec{Family: testmodels.Llama, KVCache: true}, "layout     TorchScript/optimum: module scopes in node names\n"},
		{testmodels.Spec{Family: testmodels.Llama, GenAI: true, KVCache: true}, "layout     genai builder: module scopes in node names, fused (a, r) boundaries\n"},
		{testmodels.Spec{Family: testmodels.Llama, GenAI: true, Int4: true, KVCache: true}, "layout     genai builder: "},
		{testmodels.Spec{Family: testmodels.GPT2, Dynamo: true}, "layout     torch dynamo: module scopes in node metadata_props"},
		{testmodels.Spec{Family: testmodels.Llama, Fused: true}, "layout     ORT-optimized: module scopes in node names, fused (a, r) boundaries\n"},
	} {
		in := writeModel(t, filepath.Join(dir, itoa(i)+".onnx"), c.spec)
		r := cli(t, "inspect", in)
		mustSucceed(t, r)
		if !strings.Contains(r.stdout, c.want) {
			t.Errorf("%+v: inspect output lacks %q:\n%s", c.spec, c.want, r.stdout)
		}
		r = cli(t, "inspect", "--json", in)
		mustSucceed(t, r)
		var rep inspectReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		exporter, _, _ := strings.Cut(strings.TrimPrefix(c.want, "layout     "), ":")
		if rep.Blocks == nil || rep.Blocks.Exporter != exporter {
			t.Errorf("%+v: inspect --json exporter %+v, want %q", c.spec, rep.Blocks, exporter)
		}
	}
}
