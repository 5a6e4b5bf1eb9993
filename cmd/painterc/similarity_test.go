package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/testmodels"
)

// similarityModel writes a small Llama whose vocabulary covers the
// unigram test tokenizer, with that tokenizer beside it, and a rolling
// task and a text file to feed it.
func similarityModel(t *testing.T) (model, task, text string) {
	t.Helper()
	dir := t.TempDir()
	model = writeModel(t, filepath.Join(dir, "model", "model.onnx"), testmodels.Spec{Family: testmodels.Llama, Layers: 6, Vocab: 400, Seed: 3})
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
		writeFile(t, filepath.Join(dir, "model", f), readFile(t, filepath.Join("..", "..", "tokenizer", "testdata", "unigram", f)))
	}
	task = filepath.Join(dir, "wiki.jsonl")
	writeFile(t, task, []byte(`{"task": {"name": "wiki", "kind": "rolling"}}
{"text": "The quick brown fox jumps over the lazy dog."}
{"text": "A painter paints the layers of a picture one by one."}
{"text": "Transformers pass a residual stream from block to block."}
`))
	text = filepath.Join(dir, "corpus.txt")
	writeFile(t, text, []byte("First paragraph, on one line.\n\nSecond paragraph\nover two lines.\n  \n\nThird.\n"))
	return model, task, text
}

// TestSimilarityCLI: painterc similarity writes the four files for a task
// corpus, suggests a span whose command painterc accepts, and probes a
// variant stage by stage.
func TestSimilarityCLI(t *testing.T) {
	orttest.Require(t)
	model, task, text := similarityModel(t)
	out := filepath.Join(t.TempDir(), "sim")
	r := cli(t, "similarity", model, "--task", task, "--out", out, "--threads", "1", "--suggest", "2")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, f := range []string{"similarity.csv", "block_influence.csv", "angular_distance.csv", "similarity.png", "similarity.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(r.stderr, "3 documents") {
		t.Errorf("stderr does not count the documents: %s", r.stderr)
	}
	m := regexp.MustCompile(`painterc --pass=skip --layers (\d+)-(\d+) (\S+) -o OUT`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no suggested command in %q", r.stdout)
	}
	skipped := filepath.Join(t.TempDir(), "skipped.onnx")
	if r := cli(t, "--pass=skip", "--layers", m[1]+"-"+m[2], m[3], "-o", skipped); r.code != 0 {
		t.Errorf("the suggested command fails: exit %d: %s", r.code, r.stderr)
	}

	// A variant: reverse with --n 1 has 6 stages, so 7 states.
	vout := filepath.Join(t.TempDir(), "variant")
	r = cli(t, "similarity", model, "--text", text, "--task", task, "--limit", "2", "--out", vout, "--threads", "1", "--pass=reverse", "--n", "1")
	if r.code != 0 {
		t.Fatalf("variant: exit %d: %s", r.code, r.stderr)
	}
	f, err := os.Open(filepath.Join(vout, "similarity.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// --limit 2 keeps two documents of the task and two paragraphs.
	if len(rows) != 8 || !strings.Contains(r.stderr, "4 documents") || !strings.Contains(r.stderr, "stages of 0-1,4-2,5") {
		t.Errorf("variant: %d CSV rows (want 8), stderr %s", len(rows), r.stderr)
	}
}

// TestSimilarityCLIErrors: usage mistakes exit 2 and say what to do.
func TestSimilarityCLIErrors(t *testing.T) {
	model, task, _ := similarityModel(t)
	out := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{model, "--out", out}, "no corpus: give --task FILE"},
		{[]string{model, "--task", task}, "--out DIR is required"},
		{[]string{model, "--task", task, "--out", out, "--pass=skip", "--suggest", "1"}, "drop --pass/--schedule"},
		{[]string{model, "--task", task, "--out", out, "--n", "1"}, "--n applies to --pass"},
		{[]string{model, "--task", task, "--out", out, "--batch-size", "4"}, "one document at a time"},
		{[]string{model, "--task", task, "--out", out, "--tokenizer", filepath.Join(out, "nope.json")}, "nope.json"},
		{[]string{filepath.Join(out, "elsewhere", "m.onnx"), "--task", task, "--out", out}, "--tokenizer PATH"},
		{[]string{model, "--task", filepath.Join(out, "none.jsonl"), "--out", out}, "none.jsonl"},
		{[]string{model, "--text", filepath.Join(out, "none.txt"), "--out", out}, "--text"},
		{[]string{model, "--task", task, "--out", out, "--max-length", "-1"}, "must not be negative"},
	} {
		r := cli(t, append([]string{"similarity"}, c.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 saying %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

// TestReportCLI: painterc report DIR writes report.md; a directory
// without results exits 2 and names the file.
func TestReportCLI(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "results.jsonl"), readFile(t, filepath.Join("..", "..", "report", "testdata", "results.jsonl")))
	r := cli(t, "report", dir)
	if r.code != 0 || !strings.Contains(r.stdout, filepath.Join(dir, "report.md")) {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "scores_median.png")); err != nil {
		t.Error(err)
	}
	r = cli(t, "report", t.TempDir())
	if r.code != exitUsage || !strings.Contains(r.stderr, "no results.jsonl there") {
		t.Errorf("empty directory: exit %d, %s", r.code, r.stderr)
	}
	if r := cli(t, "report"); r.code != exitUsage || !strings.Contains(r.stderr, "usage: painterc report DIR") {
		t.Errorf("no DIR: exit %d, %s", r.code, r.stderr)
	}
}
