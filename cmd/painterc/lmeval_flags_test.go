package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painterc/painterc/testmodels"
)

// --lm-eval-samples takes a folder: a file there is refused before any
// scoring, with the output exit code, and a missing folder is created.
func TestLMEvalSamplesFlag(t *testing.T) {
	model, task := writeScoreFixture(t, testmodels.Spec{Family: testmodels.Llama, Layers: 2, Vocab: len(scoreWords)})
	file := filepath.Join(t.TempDir(), "f")
	writeFile(t, file, []byte("x"))
	r := cli(t, "score", model, "--task", task, "--lm-eval-samples", file)
	if want := "painterc: --lm-eval-samples " + file + " is a file: give a folder\n"; r.code != exitOutput || r.stderr != want {
		t.Errorf("exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitOutput, want)
	}
	dir := filepath.Join(t.TempDir(), "new", "samples")
	mustSucceed(t, cli(t, "score", model, "--task", task, "--lm-eval-samples", dir))
	files, _ := os.ReadDir(dir)
	name := strings.TrimSuffix(filepath.Base(task), ".jsonl")
	if len(files) != 1 || !strings.HasPrefix(files[0].Name(), "samples_"+name+"_") || !strings.HasSuffix(files[0].Name(), ".jsonl") {
		t.Errorf("files %v, want one samples_%s_{date}.jsonl", files, name)
	}
}
