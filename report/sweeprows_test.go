package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/sweep"
	"github.com/painterc/painterc/sweep/sweeptest"
	"github.com/painterc/painterc/testmodels"
)

// TestReadsSweepRows reads what package sweep writes: every row survives,
// although the identity, middle-repeat, reverse and random at M = 1 run one
// schedule and so share a key, and the main metric is the row's "main".
func TestReadsSweepRows(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "model.onnx")
	m, err := testmodels.Default(testmodels.Spec{Family: testmodels.Llama, Layers: 8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := onnx.Save(model, m, onnx.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "sweep")
	f := &sweeptest.Fake{Identity: "0-7"}
	cfg := sweep.Config{ModelPath: model, TaskFiles: []string{"../eval/testdata/arc_tiny.jsonl"}, Out: out, Settings: f.Settings()}
	sum, err := sweep.Run(context.Background(), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ReadResults(filepath.Join(out, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Reused == 0 || len(res) != sum.Rows {
		t.Errorf("read %d rows of the %d the sweep wrote (%d sharing a key)", len(res), sum.Rows, sum.Reused)
	}
	if _, err := Write(out); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "33 result rows from `results.jsonl`") {
		t.Errorf("report.md does not count the sweep's 33 rows:\n%.400s", md)
	}

	path := filepath.Join(dir, "main.jsonl")
	row := `{"pass":"skip","params":"n=2","schedule":"0-2,6-7","affected":3,"seed":null,"task":"arc","metrics":{},"normalized":{"acc,none":0.1,"acc_norm,none":0.2},"main":"acc_norm,none","baseline":0.25,"key":"k"}` + "\n"
	if err := os.WriteFile(path, []byte(row), 0o644); err != nil {
		t.Fatal(err)
	}
	main, err := ReadResults(path)
	if err != nil {
		t.Fatal(err)
	}
	if s, k, _ := main[0].Score(); s != 0.2 || k != "acc_norm,none" {
		t.Errorf("Score = %v %s, want the main metric acc_norm,none = 0.2", s, k)
	}
}
