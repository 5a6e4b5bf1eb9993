package ortmodel

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/testmodels"
)

// TestExternalMatchesInFile: a model saved with its (random) weights in an
// external data file, loaded and scored with ORT reading that file itself,
// gives exactly the log-likelihoods of the same model held in memory with
// its weights in-file; so does a skip variant compiled from the file
// against the same variant compiled in memory. Nothing is written to the
// model's folder.
func TestExternalMatchesInFile(t *testing.T) {
	s := testmodels.Spec{Family: testmodels.Llama, Layers: 4, Seed: 7}
	inMem := build(t, s, s.Identity())
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	if err := onnx.Save(path, inMem, onnx.SaveOptions{ExternalData: true, Threshold: 1}); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 2 {
		t.Fatalf("saved %d files, want the model and its data file", len(files))
	}
	reqs := []eval.LLRequest{
		{Context: []int{3, 4, 5}, Continuation: []int{6, 7}},
		{Context: []int{1}, Continuation: []int{9, 2, 8}},
	}
	score := func(m *onnx.Model) []eval.LLResult {
		t.Helper()
		lm := open(t, m, Options{MaxLength: 16})
		res, err := lm.LogLikelihood(context.Background(), reqs, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	variant := func(in compile.Input) *onnx.Model {
		t.Helper()
		r, err := compile.Run(context.Background(), in, compile.Options{Schedule: "0,3"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r.Model
	}
	loaded, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	if !loaded.Graph.Initializer[0].IsExternal() {
		t.Fatal("the loaded model's weights are not external")
	}
	for _, c := range []struct {
		name         string
		file, memory *onnx.Model
	}{
		{"original", loaded, inMem},
		{"skip", variant(compile.Input{Path: path}), variant(compile.Input{Model: inMem})},
	} {
		got, want := score(c.file), score(c.memory)
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s request %d: external %+v, in-file %+v", c.name, i, got[i], want[i])
			}
		}
	}
	if after, _ := os.ReadDir(dir); len(after) != 2 {
		t.Errorf("the model's folder holds %d files after scoring, want 2", len(after))
	}
}
