package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/testmodels"
)

var update = flag.Bool("update", false, "rewrite docs/errors.md's table from the tests")

// env is where one row of the error table runs: the input model lives in
// inDir, the output goes to outDir.
type env struct {
	root   string
	inDir  string
	in     string // the input model
	outDir string
	out    string // the -o path (or --out directory for painterc run)

	child bool // run painterc in a child process
	spec  childSpec
	cmd   *exec.Cmd
	// vars holds more placeholders for the message ({LIB}: the ORT library).
	vars map[string]string
}

// errRow is one row of docs/errors.md: a bad input, the message painterc
// gives, and its exit code.
type errRow struct {
	name  string // the subtest, TestErrors/NAME
	input string // the bad input, for the docs
	code  int
	// msg is the whole error message painterc prints (its last lines on
	// stderr), with placeholders for what varies: {IN} the input model, {OUT}
	// the -o path, {DIR} the directory holding both, {N} a decimal number;
	// a row's setup may add more.
	msg   string
	setup func(t *testing.T, e *env) []string
}

var errRows = []errRow{
	{
		name: "score-no-tokenizer", input: "painterc score on a model with no tokenizer.json beside it", code: exitUsage,
		msg: `painterc: no tokenizer: {DIR}/in/tokenizer.json does not exist; give the model's tokenizer.json with --tokenizer PATH`,
		setup: func(t *testing.T, e *env) []string {
			model, task := writeScoreFixtureIn(t, e.inDir, testmodels.Spec{Family: testmodels.Llama, Layers: 2, Vocab: len(scoreWords)})
			if err := os.Remove(filepath.Join(e.inDir, "tokenizer.json")); err != nil {
				t.Fatal(err)
			}
			return []string{"score", model, "--task", task}
		},
	},
	{
		name: "score-gold-out-of-range", input: "a multiple-choice document whose gold index is not one of its choices", code: exitUsage,
		msg: `painterc: {DIR}/in/bad.jsonl:2: field "gold" is 2 but there are 2 choices: it must be 0 to 1`,
		setup: func(t *testing.T, e *env) []string {
			model, _ := writeScoreFixtureIn(t, e.inDir, testmodels.Spec{Family: testmodels.Llama, Layers: 2, Vocab: len(scoreWords)})
			bad := filepath.Join(e.inDir, "bad.jsonl")
			writeFile(t, bad, []byte(`{"task": {"kind": "multiple_choice"}}`+"\n"+`{"context": "the cat", "choices": ["sat", "ran"], "gold": 2}`+"\n"))
			return []string{"score", model, "--task", bad}
		},
	},
	{
		name: "score-output-unwritable", input: "painterc score --output into a directory that does not exist", code: exitOutput,
		msg: `painterc: --output {DIR}/out/no/results.json: cannot create files in {DIR}/out/no: no such file or directory; choose a directory you can write to`,
		setup: func(t *testing.T, e *env) []string {
			model, task := writeScoreFixtureIn(t, e.inDir, testmodels.Spec{Family: testmodels.Llama, Layers: 2, Vocab: len(scoreWords)})
			return []string{"score", model, "--task", task, "--output", filepath.Join(e.outDir, "no", "results.json")}
		},
	},
	{
		name: "search-choose-is-report", input: "painterc search with one task file both choosing and reporting", code: exitUsage,
		msg: `painterc: --choose-task {DIR}/in/mc.jsonl is also a --task: the tasks that choose must differ from the tasks that report, or the report flatters the search`,
		setup: func(t *testing.T, e *env) []string {
			model, task := writeScoreFixtureIn(t, e.inDir, testmodels.Spec{Family: testmodels.Llama, Layers: 2, Vocab: len(scoreWords)})
			return []string{"search", model, "--budget", "0.75", "--calib", task, "--choose-task", task, "--task", task, "--out", filepath.Join(e.outDir, "search")}
		},
	},
	{
		name: "search-budget-out-of-range", input: "painterc search with a budget that is not a fraction", code: exitUsage,
		msg: `painterc: --budget 75: want a fraction between 0 and 1 of the full model's block compute, e.g. 0.75`,
		setup: func(t *testing.T, e *env) []string {
			model, task := writeScoreFixtureIn(t, e.inDir, testmodels.Spec{Family: testmodels.Llama, Layers: 2, Vocab: len(scoreWords)})
			return []string{"search", model, "--budget", "75", "--calib", task, "--choose-task", task, "--task", task + ".other", "--out", filepath.Join(e.outDir, "search")}
		},
	},
	{
		name: "truncated-file", input: "truncated file (a model cut in half)", code: exitModel,
		msg: `painterc: {IN}: not an ONNX model: field 7 (graph): length {N} runs past the end of the input ({N} bytes left) at byte 27; the file ends early, so it is probably truncated (an interrupted download or copy): fetch or export it again`,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, e.in, truncatedModel(t))
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "random-bytes", input: "random bytes", code: exitModel,
		msg: `painterc: {IN}: not an ONNX model: field 743: malformed group: invalid field number at byte 3747; check that this is the .onnx model file (a serialized ModelProto), not its external data or another format, and that it is intact`,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, e.in, randomBytes())
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "wrong-wire-type", input: "a field with the wrong wire type (a node's op_type written as a varint)", code: exitModel,
		msg: `painterc: {IN}: not an ONNX model: graph "g" > node 0 ("relu"): field 4 (op_type): wrong wire type varint, want length-delimited at byte 18; check that this is the .onnx model file (a serialized ModelProto), not its external data or another format, and that it is intact`,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, e.in, wrongWireType())
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "length-past-end", input: "a length past the end of its message (a node's name)", code: exitModel,
		msg: `painterc: {IN}: not an ONNX model: graph "g" > node 0 (Relu): field 3 (name): length 50 runs past the end of the node message (4 bytes left) at byte 19; check that this is the .onnx model file (a serialized ModelProto), not its external data or another format, and that it is intact`,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, e.in, lengthPastEnd())
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "empty-file", input: "an empty file", code: exitModel,
		msg: `painterc: {IN}: not an ONNX model (no graph); check that this is the .onnx model file (a serialized ModelProto), not its external data or another format, and that it is intact`,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, e.in, nil)
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "graph-cycle", input: "a graph with a cycle", code: exitModel,
		msg: `painterc: {IN}: invalid graph: node {N} (Pow "/model/layers.3/input_layernorm/Pow") reads "/model/layers.3/Add_1_output_0", which node {N} (Add "/model/layers.3/Add_1") computes from node {N}'s own output: the graph has a cycle (node {N} → node {N} → node {N} → ... {N} more → node {N} → node {N} → node {N}); painterc rewrites only valid graphs: fix the exporter or export the model again (onnx.checker.check_model reports the same)`,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, e.in, editedModel(t, withCycle))
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "dangling-input", input: "a node input nothing defines", code: exitModel,
		msg: `painterc: {IN}: invalid graph: node {N} (MatMul "/model/layers.2/mlp/down_proj/MatMul") reads "/model/layers.2/mlp/Mul_1_output_0", which no node, graph input or initializer defines; painterc rewrites only valid graphs: fix the exporter or export the model again (onnx.checker.check_model reports the same)`,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, e.in, editedModel(t, withDanglingInput))
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "duplicate-tensor", input: "two nodes writing the same tensor name", code: exitModel,
		msg: `painterc: {IN}: invalid graph: tensor "/model/layers.1/self_attn/k_proj/MatMul_output_0" is defined twice (by node {N} (MatMul "/model/layers.1/self_attn/k_proj/MatMul") and by node {N} (MatMul "/model/layers.1/self_attn/k_proj/MatMul_duplicate")); painterc rewrites only valid graphs: fix the exporter or export the model again (onnx.checker.check_model reports the same)`,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, e.in, editedModel(t, withDuplicateTensor))
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "external-data-missing", input: "external data file missing", code: exitModel,
		msg: `painterc: {IN}: tensor "model.embed_tokens.weight": external data file {IN}.data (location "model.onnx.data") does not exist; copy the data file into the model's directory under that name (external data locations are relative to the model file)`,
		setup: func(t *testing.T, e *env) []string {
			externalModel(t, e.inDir)
			if err := os.Remove(e.in + ".data"); err != nil {
				t.Fatal(err)
			}
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "external-data-short", input: "external data file too short", code: exitModel,
		msg: `painterc: {IN}: tensor "model.embed_tokens.weight": external data file {IN}.data is 1000 bytes, but the tensor needs bytes 0 to {N} (offset 0, length {N}); the data file is truncated or belongs to another model: copy it again together with the model`,
		setup: func(t *testing.T, e *env) []string {
			externalModel(t, e.inDir)
			if err := os.Truncate(e.in+".data", 1000); err != nil {
				t.Fatal(err)
			}
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "external-data-escapes", input: "external data location escaping the model directory (`../weights.data`)", code: exitModel,
		msg: `painterc: {IN}: tensor "model.embed_tokens.weight": external data location "../weights.data" leaves the model directory {DIR}/in; painterc only reads external data inside the model's directory (CVE-2024-27318); put the model and its data file in one directory, with the location relative to the model (as ONNX itself requires)`,
		setup: func(t *testing.T, e *env) []string {
			externalModel(t, e.inDir)
			if err := os.Rename(e.in+".data", filepath.Join(e.root, "weights.data")); err != nil {
				t.Fatal(err)
			}
			relocate(t, e.in, "../weights.data")
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "external-data-absolute", input: "external data location that is an absolute path", code: exitModel,
		msg: `painterc: {IN}: tensor "model.embed_tokens.weight": external data location "{IN}.data" is an absolute path, outside the model directory {DIR}/in; painterc only reads external data inside the model's directory (CVE-2024-27318); put the model and its data file in one directory, with the location relative to the model (as ONNX itself requires)`,
		setup: func(t *testing.T, e *env) []string {
			externalModel(t, e.inDir)
			relocate(t, e.in, e.in+".data")
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "no-blocks", input: "a valid model with no detectable blocks", code: exitBlocks,
		msg: "painterc: {IN}: cannot find the transformer blocks:\n  by node names: no node name carries a layer index (like /model/layers.3/ or /transformer/h.3/)\n  by graph structure: the graph has no token input (input_ids, or an input read by a Gather)\n  name the residual-stream tensors by hand with --boundaries t0,t1,...,tT (the embedding output, then each block's output; see `painterc inspect`)",
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, e.in, reluGraph(t))
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "schedule-missing-block", input: "a schedule naming a block the model lacks (`--schedule=0-8`, 8 blocks)", code: exitSchedule,
		msg: `painterc: --schedule "0-8": column 3: block 8 is out of range: the model has 8 blocks (0-7)`,
		setup: func(t *testing.T, e *env) []string {
			writeModel(t, e.in, tiny)
			return []string{"--schedule=0-8", e.in, "-o", e.out}
		},
	},
	{
		name: "output-is-input", input: "output path equal to the input", code: exitOutput,
		msg: `painterc: -o {IN} is the input model: painterc never modifies its input; choose another output path`,
		setup: func(t *testing.T, e *env) []string {
			writeModel(t, e.in, tiny)
			e.outDir, e.out = e.inDir, e.in
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "output-dir-unwritable", input: "unwritable output directory", code: exitOutput,
		msg: `painterc: cannot write {OUT}: cannot create files in directory {DIR}/out: permission denied; choose an output directory you can write to`,
		setup: func(t *testing.T, e *env) []string {
			writeModel(t, e.in, tiny)
			unwritable(t, e)
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "disk-full", input: "disk full while writing (simulated: RLIMIT_FSIZE of 64 KiB, so writes fail with EFBIG)", code: exitOutput,
		msg: `painterc: {OUT}: write {DIR}/out/.model.onnx.tmp-{N}: file too large; the disk is full or a file size limit (ulimit -f) was reached: free some space or write elsewhere; painterc removed its partial output`,
		setup: func(t *testing.T, e *env) []string {
			writeModel(t, e.in, tiny)
			e.child = true
			e.spec.FileSizeLimit = 64 << 10
			return []string{"--pass=skip", e.in, "-o", e.out}
		},
	},
	{
		name: "ort-missing", input: "ONNX Runtime library missing (`painterc run --ort-lib` naming no file)", code: exitRuntime,
		msg: `painterc: ONNX Runtime library not found: {DIR}/lib/libonnxruntime.so.1 (from --ort-lib) does not exist; run "make ort" or set ONNXRUNTIME_SHARED_LIBRARY_PATH (or pass --ort-lib) to an ONNX Runtime 1.24.x library`,
		setup: func(t *testing.T, e *env) []string {
			writeModel(t, e.in, tiny)
			e.child = true
			return []string{"run", e.in, "--ort-lib", filepath.Join(e.root, "lib", "libonnxruntime.so.1"), "--out", e.out}
		},
	},
	{
		name: "ort-not-a-library", input: "ONNX Runtime library that is not a shared library", code: exitRuntime,
		msg: `painterc: cannot load {DIR}/lib/libonnxruntime.so.1 as ONNX Runtime: {DIR}/lib/libonnxruntime.so.1: file too short; painterc needs the ONNX Runtime 1.24.x shared library (C API 24): run "make ort" or set ONNXRUNTIME_SHARED_LIBRARY_PATH (or pass --ort-lib) to an ONNX Runtime 1.24.x library`,
		setup: func(t *testing.T, e *env) []string {
			writeModel(t, e.in, tiny)
			lib := filepath.Join(e.root, "lib", "libonnxruntime.so.1")
			writeFile(t, lib, []byte("not a library\n"))
			e.child = true
			return []string{"run", e.in, "--ort-lib", lib, "--out", e.out}
		},
	},
	{
		name: "ort-wrong-version", input: "ONNX Runtime of the wrong version (a library reporting 1.22.0)", code: exitRuntime,
		msg: `painterc: {DIR}/lib/libonnxruntime.so.1 is ONNX Runtime 1.22.0; painterc needs ONNX Runtime 1.24.x (C API 24): run "make ort" or set ONNXRUNTIME_SHARED_LIBRARY_PATH (or pass --ort-lib) to an ONNX Runtime 1.24.x library`,
		setup: func(t *testing.T, e *env) []string {
			writeModel(t, e.in, tiny)
			lib := fakeORT(t, filepath.Join(e.root, "lib"), "1.22.0")
			e.child = true
			return []string{"run", e.in, "--ort-lib", lib, "--out", e.out}
		},
	},
	{
		name: "cuda-without-cuda-build", input: "`painterc run --device cuda` with a CPU-only ONNX Runtime", code: exitRuntime,
		msg: `painterc: --device cuda: {LIB} is a CPU build of ONNX Runtime 1.24.{N}: libonnxruntime_providers_shared.so and libonnxruntime_providers_cuda.so, which CUDA needs, not found in {LIBDIR}; use a CUDA build of ONNX Runtime 1.24.x (libonnxruntime.so.1 with libonnxruntime_providers_shared.so and libonnxruntime_providers_cuda.so beside it) via --ort-lib or ONNXRUNTIME_SHARED_LIBRARY_PATH, or run with --device cpu`,
		setup: func(t *testing.T, e *env) []string {
			orttest.Require(t)
			lib, _, err := runtime.FindLibrary("")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(lib), "libonnxruntime_providers_cuda.so")); err == nil {
				t.Skipf("%s is a CUDA build", lib)
			}
			writeModel(t, e.in, tiny)
			e.vars = map[string]string{"{LIB}": lib, "{LIBDIR}": filepath.Dir(lib)}
			return []string{"run", e.in, "--device", "cuda", "--out", e.out}
		},
	},
	{
		name: "ort-optimize-level", input: "`--ort-optimize` at a level other than extended or all", code: exitUsage,
		msg: `painterc: --ort-optimize=basic: want extended or all`,
		setup: func(t *testing.T, e *env) []string {
			writeModel(t, e.in, tiny)
			return []string{"--pass=skip", "--ort-optimize=basic", e.in, "-o", e.out}
		},
	},
	{
		name: "ort-optimize-ort-missing", input: "`--ort-optimize` with `--ort-lib` naming no file (the rewrite is removed again)", code: exitRuntime,
		msg: `painterc: --ort-optimize: ONNX Runtime library not found: {DIR}/lib/libonnxruntime.so.1 (from --ort-lib) does not exist; run "make ort" or set ONNXRUNTIME_SHARED_LIBRARY_PATH (or pass --ort-lib) to an ONNX Runtime 1.24.x library`,
		setup: func(t *testing.T, e *env) []string {
			writeModel(t, e.in, tiny)
			e.child = true
			return []string{"--pass=skip", "--ort-optimize=all", "--ort-lib", filepath.Join(e.root, "lib", "libonnxruntime.so.1"), e.in, "-o", e.out}
		},
	},
}

// TestErrors runs painterc on every bad input of docs/errors.md and checks
// the exact message, the exit code, that nothing is left in the output
// directory, and that the input is byte-for-byte unchanged.
func TestErrors(t *testing.T) {
	for _, row := range errRows {
		t.Run(row.name, func(t *testing.T) {
			root := t.TempDir()
			e := &env{root: root, inDir: filepath.Join(root, "in"), outDir: filepath.Join(root, "out")}
			e.in = filepath.Join(e.inDir, "model.onnx")
			e.out = filepath.Join(e.outDir, "model.onnx")
			if err := os.MkdirAll(e.outDir, 0o755); err != nil {
				t.Fatal(err)
			}
			args := row.setup(t, e)
			if strings.HasPrefix(args[0], "run") {
				// painterc run writes into --out DIR, which does not exist yet.
				if err := os.Remove(e.outDir); err != nil {
					t.Fatal(err)
				}
				e.out = e.outDir
			}
			inBefore := snapshot(t, e.inDir)
			outBefore := snapshot(t, e.outDir)

			var r result
			if e.child {
				r = cliChild(t, childSpec{Args: args, FileSizeLimit: e.spec.FileSizeLimit}, e.cmd)
			} else {
				r = cli(t, args...)
			}
			t.Logf("painterc %s\nexit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
			noPanic(t, r)
			if r.code != row.code {
				t.Errorf("exit code %d, want %d", r.code, row.code)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %q, want nothing", r.stdout)
			}
			vars := map[string]string{"{IN}": e.in, "{OUT}": e.out, "{DIR}": root}
			for k, v := range e.vars {
				vars[k] = v
			}
			re := messageRegexp(row.msg, vars)
			if !re.MatchString(r.stderr) {
				t.Errorf("stderr:\n%s\nwant its last lines to be:\n%s", r.stderr, row.msg)
			}
			if d := diffSnapshots(inBefore, snapshot(t, e.inDir)); len(d) > 0 {
				t.Errorf("the input directory changed: %s", strings.Join(d, ", "))
			}
			if d := diffSnapshots(outBefore, snapshot(t, e.outDir)); len(d) > 0 {
				t.Errorf("the output directory changed: %s", strings.Join(d, ", "))
			}
		})
	}
}

// messageRegexp turns a message template into a regexp that matches
// stderr ending in exactly that message, after any notes painterc printed
// first ("painterc: ..." lines).
func messageRegexp(msg string, paths map[string]string) *regexp.Regexp {
	var b strings.Builder
	rest := msg
	for rest != "" {
		i := strings.Index(rest, "{")
		j := strings.Index(rest[max(i, 0):], "}")
		if i < 0 || j < 0 {
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		b.WriteString(regexp.QuoteMeta(rest[:i]))
		ph := rest[i : i+j+1]
		switch {
		case ph == "{N}":
			b.WriteString(`[0-9]+`)
		case paths[ph] != "":
			b.WriteString(regexp.QuoteMeta(paths[ph]))
		default:
			b.WriteString(regexp.QuoteMeta(ph))
		}
		rest = rest[i+j+1:]
	}
	return regexp.MustCompile(`\A(?:painterc: [^\n]*\n)*` + b.String() + `\n\z`)
}

// unwritable makes e.outDir a directory painterc cannot write to. Root may
// write anywhere, so as root painterc runs in a child as nobody.
func unwritable(t *testing.T, e *env) {
	if err := os.Chmod(e.outDir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(e.outDir, 0o755) })
	if os.Geteuid() != 0 {
		return
	}
	// nobody must reach the test binary, the input and the directories.
	bin := filepath.Join(e.root, "bin", "painterc.test")
	copyFile(t, os.Args[0], bin, 0o755)
	for _, d := range []string{filepath.Dir(e.root), e.root, filepath.Dir(bin), e.inDir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.child = true
	e.cmd = &exec.Cmd{Path: bin, SysProcAttr: asUser(65534, 65534)}
	probe := exec.Command(bin, "-test.run=^$")
	probe.SysProcAttr = asUser(65534, 65534)
	if out, err := probe.CombinedOutput(); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, os.ErrPermission) {
			t.Skipf("cannot run a child as nobody to see a permission error as root: %v", err)
		}
		t.Fatalf("child as nobody: %v\n%s", err, out)
	}
}

func copyFile(t *testing.T, from, to string, perm os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// fakeORT compiles a shared library that exports OrtGetApiBase like ONNX
// Runtime does but reports another version, as an old install would.
func fakeORT(t *testing.T, dir, version string) string {
	t.Helper()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler (%s) to build a fake ONNX Runtime: %v", cc, err)
	}
	src := filepath.Join(dir, "fake.c")
	writeFile(t, src, []byte(`#include <stddef.h>
typedef struct { const void *(*GetApi)(unsigned); const char *(*GetVersionString)(void); } Base;
static const void *get_api(unsigned v) { (void)v; return NULL; }
static const char *get_version(void) { return "`+version+`"; }
static const Base base = { get_api, get_version };
const Base *OrtGetApiBase(void) { return &base; }
`))
	lib := filepath.Join(dir, "libonnxruntime.so.1")
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cc, err, out)
	}
	return lib
}

const (
	docPath     = "../../docs/errors.md"
	tableBegin  = "<!-- The table is generated from errRows in cmd/painterc/errors_test.go: go test ./cmd/painterc -run TestErrorsDoc -update -->"
	tableEnd    = "<!-- end of generated table -->"
	docExamples = "/data"
)

var exitNames = map[int]string{
	exitInternal: "internal", exitUsage: "usage", exitModel: "model", exitSchedule: "schedule",
	exitBlocks: "blocks", exitOutput: "output", exitRuntime: "runtime",
}

// docTable renders errRows as the Markdown table of docs/errors.md.
func docTable() string {
	var b strings.Builder
	b.WriteString("| bad input | exit | message (the last lines painterc prints on stderr) | test |\n")
	b.WriteString("|---|---|---|---|\n")
	example := strings.NewReplacer(
		"{IN}", docExamples+"/in/model.onnx", "{OUT}", docExamples+"/out/model.onnx", "{DIR}", docExamples,
		"{N}", "<n>", "{LIB}", "/opt/ort/libonnxruntime.so.1", "{LIBDIR}", "/opt/ort",
		"|", `\|`)
	for _, r := range errRows {
		var msg []string
		for _, l := range strings.Split(r.msg, "\n") {
			msg = append(msg, codeSpan(example.Replace(l)))
		}
		fmt.Fprintf(&b, "| %s | %d (%s) | %s | `TestErrors/%s` |\n", r.input, r.code, exitNames[r.code], strings.Join(msg, "<br>"), r.name)
	}
	return b.String()
}

// codeSpan quotes s as Markdown code, with enough backticks around it.
func codeSpan(s string) string {
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// TestErrorsDoc keeps docs/errors.md's table identical to the rows that
// TestErrors checks; -update rewrites it.
func TestErrorsDoc(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, tableBegin), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no generated table between %q and %q", docPath, tableBegin, tableEnd)
	}
	want := s[:i] + tableBegin + "\n\n" + docTable() + "\n" + s[j:]
	if want == s {
		return
	}
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date with the error table in errors_test.go; run go test ./cmd/painterc -run TestErrorsDoc -update", docPath)
}

// TestExplainSave: a full disk and a file size limit read the same.
func TestExplainSave(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG} {
		err := explainSave(fmt.Errorf("/data/out/model.onnx: %w", &os.PathError{Op: "write", Path: "/data/out/.model.onnx.tmp-1", Err: errno}))
		want := "/data/out/model.onnx: write /data/out/.model.onnx.tmp-1: " + errno.Error() + "; " + hintDiskFull
		if err.Error() != want {
			t.Errorf("%v:\n got %s\nwant %s", errno, err, want)
		}
	}
}

// TestInvalidGraphMany: a model with several problems lists each on a line
// of its own, at most ten, under one line that says what to do.
func TestInvalidGraphMany(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "model.onnx")
	writeFile(t, in, editedModel(t, func(t testing.TB, g *onnx.Graph) {
		for i := 0; i < 12; i++ {
			_, n := nodeNamed(t, g, fmt.Sprintf("/model/layers.%d/mlp/down_proj/MatMul", i%8))
			n.Input = append(n.Input, fmt.Sprintf("missing_%d", i))
		}
	}))
	r := cli(t, "--pass=skip", in, "-o", filepath.Join(dir, "out.onnx"))
	noPanic(t, r)
	got := lines(r.stderr)
	if r.code != exitModel || len(got) != 12 {
		t.Fatalf("exit %d, %d lines:\n%s", r.code, len(got), r.stderr)
	}
	if want := "painterc: " + in + ": invalid graph, 12 problems (" + hintGraph + "):"; got[0] != want {
		t.Errorf("first line\n got %s\nwant %s", got[0], want)
	}
	if want := `  node 78 (MatMul "/model/layers.0/mlp/down_proj/MatMul") reads "missing_0", which no node, graph input or initializer defines`; !regexp.MustCompile(`^  node [0-9]+ \(MatMul "/model/layers.0/mlp/down_proj/MatMul"\) reads "missing_0", which no node, graph input or initializer defines$`).MatchString(got[1]) {
		t.Errorf("second line\n got %s\nwant %s", got[1], want)
	}
	if got[11] != "  ... and 2 more" {
		t.Errorf("last line %q", got[11])
	}
}
