//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/testmodels"
)

// The rows of docs/errors.md about the files the scoring commands read and
// write (issue 15): outputs on inputs or through links, inputs that are not
// regular files, and damaged files read back. They join errRows, so
// TestErrors checks each like the others (the exact message, the exit code,
// the input and output directories unchanged) and TestErrorsDoc keeps the
// table in step.
func init() { errRows = append(errRows, fileRows...) }

// linkTarget is a file outside the test's input and output directories,
// which an output link points to; a write through the link would change it.
const linkTarget = "elsewhere.txt"

// scoreFixture writes the 2-block scoring model, its tokenizer and mc.jsonl
// into e.inDir.
func scoreFixture(t *testing.T, e *env) (model, task string) {
	return writeScoreFixtureIn(t, e.inDir, testmodels.Spec{Family: testmodels.Llama, Layers: 2, Vocab: len(scoreWords)})
}

// linkOut makes e.outDir/name a symbolic link to a file outside it.
func linkOut(t *testing.T, e *env, name string) string {
	target := filepath.Join(e.root, linkTarget)
	writeFile(t, target, []byte("not painterc's\n"))
	p := filepath.Join(e.outDir, name)
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func mkfifo(t *testing.T, path string) string {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return path
}

// shardManifest is a shard's sweep.json as painterc sweep writes it, with
// the shard and rows given.
func shardManifest(index, count, rows int) []byte {
	const h = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	return []byte(`{"version": 1, "model": "model.onnx", "model_hash": "` + h + `", "blocks": 4, "settings": {}, "tasks": {"mc": "` + h + `"},
 "plan_hash": "` + h + `", "variants": 1, "shard": {"index": ` + itoa(index) + `, "count": ` + itoa(count) + `}, "rows_planned": ` + itoa(rows) + `}
`)
}

const (
	notRegular  = " is a named pipe (FIFO), not a regular file: painterc reads its inputs only from files; give the file itself"
	throughLink = " is a symbolic link (to {DIR}/" + linkTarget + "): painterc does not write through links, which could reach outside the output folder; remove the link or choose another path"
)

var fileRows = []errRow{
	{
		name: "output-is-external-data", input: "output path equal to the input's external data file", code: exitOutput,
		msg: `painterc: {IN}.data: refusing to overwrite {IN}.data: the model reads external data from it, and painterc never modifies its input; choose another output path`,
		setup: func(t *testing.T, e *env) []string {
			externalModel(t, e.inDir)
			return []string{"--pass=skip", e.in, "-o", e.in + ".data"}
		},
	},
	{
		name: "output-symlink", input: "output path that is a symbolic link to a file elsewhere", code: exitOutput,
		msg: `painterc: -o {OUT}` + throughLink,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, e.in, goodModelBytes(t))
			return []string{"--pass=skip", e.in, "-o", linkOut(t, e, "model.onnx")}
		},
	},
	{
		name: "score-output-is-task", input: "painterc score --output naming the task file", code: exitOutput,
		msg: `painterc: --output {DIR}/in/mc.jsonl is the task file: painterc never modifies its input; choose another output path`,
		setup: func(t *testing.T, e *env) []string {
			model, task := scoreFixture(t, e)
			return []string{"score", model, "--task", task, "--output", task}
		},
	},
	{
		name: "score-samples-is-tokenizer", input: "painterc score --log-samples naming the tokenizer through another spelling", code: exitOutput,
		msg: `painterc: --log-samples {DIR}/in/./tokenizer.json is the tokenizer {DIR}/in/tokenizer.json: painterc never modifies its input; choose another output path`,
		setup: func(t *testing.T, e *env) []string {
			model, task := scoreFixture(t, e)
			return []string{"score", model, "--task", task, "--log-samples", e.inDir + "/./tokenizer.json"}
		},
	},
	{
		name: "score-outputs-same-file", input: "painterc score --output and --log-samples naming one file", code: exitOutput,
		msg: `painterc: --log-samples {DIR}/out/./results.json is the same file as --output {DIR}/out/results.json: give each output its own path`,
		setup: func(t *testing.T, e *env) []string {
			model, task := scoreFixture(t, e)
			return []string{"score", model, "--task", task, "--output", filepath.Join(e.outDir, "results.json"), "--log-samples", e.outDir + "/./results.json"}
		},
	},
	{
		name: "score-output-symlink", input: "painterc score --output that is a symbolic link to a file elsewhere", code: exitOutput,
		msg: `painterc: --output {DIR}/out/results.json` + throughLink,
		setup: func(t *testing.T, e *env) []string {
			model, task := scoreFixture(t, e)
			return []string{"score", model, "--task", task, "--output", linkOut(t, e, "results.json")}
		},
	},
	{
		name: "score-task-fifo", input: "a task file that is a named pipe (FIFO)", code: exitUsage,
		msg: `painterc: {DIR}/in/task.jsonl` + notRegular,
		setup: func(t *testing.T, e *env) []string {
			model, _ := scoreFixture(t, e)
			return []string{"score", model, "--task", mkfifo(t, filepath.Join(e.inDir, "task.jsonl"))}
		},
	},
	{
		name: "score-task-invalid-utf8", input: "a task file that is not UTF-8 (a Latin-1 é)", code: exitUsage,
		msg: `painterc: {DIR}/in/latin1.jsonl:2: invalid UTF-8 at byte 21 of the line (0xe9): task files are UTF-8 text; convert the file (for example with iconv -f latin1 -t utf-8) or fix the bytes`,
		setup: func(t *testing.T, e *env) []string {
			model, _ := scoreFixture(t, e)
			bad := filepath.Join(e.inDir, "latin1.jsonl")
			writeFile(t, bad, []byte("{\"task\": {\"kind\": \"multiple_choice\"}}\n{\"context\": \"the caf\xe9\", \"choices\": [\"sat\"], \"gold\": 0}\n"))
			return []string{"score", model, "--task", bad}
		},
	},
	{
		name: "tokenize-fifo", input: "painterc tokenize --tokenizer naming a named pipe (FIFO)", code: exitModel,
		msg: `painterc: {DIR}/in/tokenizer.json` + notRegular,
		setup: func(t *testing.T, e *env) []string {
			return []string{"tokenize", "--tokenizer", mkfifo(t, filepath.Join(e.inDir, "tokenizer.json"))}
		},
	},
	{
		name: "sweep-no-blocks", input: "painterc sweep on a valid model with no detectable blocks", code: exitBlocks,
		msg: "painterc: {IN}: cannot find the transformer blocks:\n  by node names: no node name carries a layer index (like /model/layers.3/ or /transformer/h.3/)\n  by graph structure: the graph has no token input (input_ids, or an input read by a Gather)\n  name the residual-stream tensors by hand with --boundaries t0,t1,...,tT (the embedding output, then each block's output; see `painterc inspect`)",
		setup: func(t *testing.T, e *env) []string {
			orttest.Require(t)
			model, task := scoreFixture(t, e)
			writeFile(t, model, reluGraph(t))
			return []string{"sweep", model, "--task", task, "--out", e.outDir, "-q"}
		},
	},
	{
		name: "sweep-results-symlink", input: "painterc sweep into a directory whose results.jsonl is a symbolic link", code: exitOutput,
		msg: `painterc: {DIR}/out/results.jsonl` + throughLink,
		setup: func(t *testing.T, e *env) []string {
			model, task := scoreFixture(t, e)
			linkOut(t, e, "results.jsonl")
			return []string{"sweep", model, "--task", task, "--out", e.outDir, "-q"}
		},
	},
	{
		name: "sweep-results-is-task", input: "painterc sweep into a directory whose results.jsonl is a hard link to the task file", code: exitOutput,
		msg: `painterc: {DIR}/out/results.jsonl is the task file {DIR}/in/mc.jsonl: painterc never modifies its input; choose another output path`,
		setup: func(t *testing.T, e *env) []string {
			model, task := scoreFixture(t, e)
			if err := os.Link(task, filepath.Join(e.outDir, "results.jsonl")); err != nil {
				t.Fatal(err)
			}
			return []string{"sweep", model, "--task", task, "--out", e.outDir, "-q"}
		},
	},
	{
		name: "merge-shard-count", input: "painterc sweep merge of a shard whose sweep.json claims two billion shards", code: exitUsage,
		msg: `painterc: {DIR}/out/shard-0-of-2/sweep.json: field "shard" is index 0 of count 2000000000: want a count of 1 to 100000 and an index of 0 to count-1; sweep.json is written by painterc sweep; this one is damaged or was edited: rerun the sweep (or the shard) into a new directory`,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, filepath.Join(e.outDir, "shard-0-of-2", "sweep.json"), shardManifest(0, 2000000000, 0))
			return []string{"sweep", "merge", e.outDir}
		},
	},
	{
		name: "merge-shard-misnamed", input: "painterc sweep merge of a directory shard-0-of-2 that holds shard 1 of 2", code: exitUsage,
		msg: `painterc: {DIR}/out/shard-0-of-2 is named for shard 0/2, but its sweep.json says it is shard 1/2: rename the directory to shard-1-of-2, or rerun the shard`,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, filepath.Join(e.outDir, "shard-0-of-2", "sweep.json"), shardManifest(1, 2, 0))
			return []string{"sweep", "merge", e.outDir}
		},
	},
	{
		name: "merge-results-symlink", input: "painterc sweep merge into a directory whose results.jsonl is a symbolic link", code: exitOutput,
		msg: `painterc: {DIR}/out/results.jsonl` + throughLink,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, filepath.Join(e.outDir, "shard-0-of-1", "sweep.json"), shardManifest(0, 1, 0))
			writeFile(t, filepath.Join(e.outDir, "shard-0-of-1", "results.jsonl"), nil)
			linkOut(t, e, "results.jsonl")
			return []string{"sweep", "merge", e.outDir}
		},
	},
	{
		name: "similarity-out-is-file", input: "painterc similarity --out naming a file", code: exitOutput,
		msg: `painterc: --out {DIR}/out/notes.txt is a file, not a directory: give a directory for the output files`,
		setup: func(t *testing.T, e *env) []string {
			model, task := scoreFixture(t, e)
			notes := filepath.Join(e.outDir, "notes.txt")
			writeFile(t, notes, []byte("mine\n"))
			return []string{"similarity", model, "--task", task, "--out", notes}
		},
	},
	{
		name: "similarity-csv-symlink", input: "painterc similarity into a directory whose similarity.csv is a symbolic link", code: exitOutput,
		msg: `painterc: {DIR}/out/similarity.csv` + throughLink,
		setup: func(t *testing.T, e *env) []string {
			model, task := scoreFixture(t, e)
			linkOut(t, e, "similarity.csv")
			return []string{"similarity", model, "--task", task, "--out", e.outDir}
		},
	},
	{
		name: "similarity-text-fifo", input: "painterc similarity --text naming a named pipe (FIFO)", code: exitUsage,
		msg: `painterc: --text: {DIR}/in/corpus.txt` + notRegular,
		setup: func(t *testing.T, e *env) []string {
			model, _ := scoreFixture(t, e)
			return []string{"similarity", model, "--text", mkfifo(t, filepath.Join(e.inDir, "corpus.txt")), "--out", e.outDir}
		},
	},
	{
		name: "similarity-suggest-too-many", input: "painterc similarity --suggest more blocks than the model can lose (nothing is written)", code: exitUsage,
		msg: `painterc: --suggest: suggest 2 blocks: want 1 to 1 for a model with 2 blocks (at least one block must stay)`,
		setup: func(t *testing.T, e *env) []string {
			orttest.Require(t)
			model, task := scoreFixture(t, e)
			return []string{"similarity", model, "--task", task, "--out", e.outDir, "--suggest", "2"}
		},
	},
	{
		name: "report-row-affected", input: "painterc report on a results row with a negative affected count", code: exitUsage,
		msg: `painterc: {DIR}/out/results.jsonl:2: not a results row: "affected" is -3: want a number of blocks, 0 or more`,
		setup: func(t *testing.T, e *env) []string {
			// Rows as painterc sweep writes them, but for the count.
			writeFile(t, filepath.Join(e.outDir, "results.jsonl"), []byte(`{"pass":"identity","params":"","schedule":"0-3","affected":0,"seed":null,"task":"mc","metrics":{"acc,none":0.5},"normalized":{"acc,none":1},"main":"acc,none","baseline":0.25,"key":"k0"}
{"pass":"skip","params":"n=1","schedule":"0,3","affected":-3,"seed":null,"task":"mc","metrics":{"acc,none":0.4},"normalized":{"acc,none":0.6},"main":"acc,none","baseline":0.25,"key":"k1"}
`))
			return []string{"report", e.outDir}
		},
	},
	{
		name: "report-row-schedule", input: "painterc report on a results row whose schedule names a block past the language's limit", code: exitUsage,
		msg: `painterc: {DIR}/out/results.jsonl:1: not a results row: "schedule" is "0,2000000000": column 3: number 2000000000 is too large: at most 100000 is allowed`,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, filepath.Join(e.outDir, "results.jsonl"), []byte(`{"pass":"skip","params":"n=1","schedule":"0,2000000000","affected":1,"seed":null,"task":"mc","metrics":{"acc,none":0.4},"normalized":{"acc,none":0.6},"main":"acc,none","baseline":0.25,"key":"k1"}
`))
			return []string{"report", e.outDir}
		},
	},
	{
		name: "report-results-fifo", input: "painterc report on a results.jsonl that is a named pipe (FIFO)", code: exitUsage,
		msg: `painterc: {DIR}/out/results.jsonl` + notRegular,
		setup: func(t *testing.T, e *env) []string {
			mkfifo(t, filepath.Join(e.outDir, "results.jsonl"))
			return []string{"report", e.outDir}
		},
	},
	{
		name: "report-md-symlink", input: "painterc report into a directory whose report.md is a symbolic link (no figure is left behind)", code: exitOutput,
		msg: `painterc: {DIR}/out/report.md` + throughLink,
		setup: func(t *testing.T, e *env) []string {
			writeFile(t, filepath.Join(e.outDir, "results.jsonl"), readFile(t, filepath.Join("..", "..", "report", "testdata", "results.jsonl")))
			linkOut(t, e, "report.md")
			return []string{"report", e.outDir}
		},
	},
}
