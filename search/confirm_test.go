package search

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/sweep/sweeptest"
	"github.com/painterc/painterc/testmodels"
)

// TestConfirmPicksOnChoosingTasks: the search's schedule is the finalist
// with the best score on the choosing task, whatever the reporting task
// says, and every entry reports its normalized score on the reporting
// task only.
func TestConfirmPicksOnChoosingTasks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	m, err := testmodels.Default(testmodels.Spec{Family: testmodels.Llama, Layers: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := onnx.Save(path, m, onnx.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	fake := &sweeptest.Fake{Identity: "0-7"}
	norm := func(sched, task string) float64 { return (fake.Value(sched, task) - 0.25) / (0.9 - 0.25) }
	finalists := []string{"0-2,5-7", "0-1,3,5-7", "0-3,6-7"}
	res := &Result{T: 8, Budgets: []float64{0.75}, Finalists: map[float64][]*Candidate{}, Baselines: map[float64][]Baseline{}}
	for _, s := range finalists {
		res.Finalists[0.75] = append(res.Finalists[0.75], &Candidate{Schedule: s, Fraction: 0.75})
	}
	res.Baselines[0.75] = []Baseline{{Method: "shortgpt", Budget: 0.75, Schedule: "0-4,7", Fraction: 0.75}, {Method: "random", Budget: 0.75, Schedule: "1-6", Fraction: 0.75}}
	cc := ConfirmConfig{ModelPath: path, ChooseTasks: []string{"../eval/testdata/arc_tiny.jsonl"}, ReportTasks: []string{"../eval/testdata/lambada_tiny.jsonl"},
		Settings: fake.Settings(), Dir: dir, Scorer: fake}
	entries, chance, err := Confirm(context.Background(), res, cc)
	if err != nil {
		t.Fatal(err)
	}
	want := finalists[0]
	for _, s := range finalists[1:] {
		if norm(s, "arc_tiny") > norm(want, "arc_tiny") {
			want = s
		}
	}
	if len(entries) != 3 || len(chance) != 0 {
		t.Fatalf("%d entries, %d at chance", len(entries), len(chance))
	}
	if e := entries[0]; e.Method != "search" || e.Schedule != want || e.Choose != norm(want, "arc_tiny") {
		t.Errorf("search entry %+v: want %s chosen at %v", e, want, norm(want, "arc_tiny"))
	}
	for _, e := range entries {
		if got, w := e.Report, norm(e.Schedule, "lambada_tiny"); math.Abs(got-w) > 1e-12 || len(e.Tasks) != 1 {
			t.Errorf("%s: report %v over %d tasks, want %v on lambada_tiny", e.Method, got, len(e.Tasks), w)
		}
	}
	if entries[1].Method != "shortgpt" || !math.IsNaN(entries[1].Choose) {
		t.Errorf("baseline entry %+v", entries[1])
	}
}
