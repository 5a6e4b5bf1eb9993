package search

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/report"
	"github.com/painterc/painterc/sweep"
	"github.com/painterc/painterc/sweep/sweeptest"
	"github.com/painterc/painterc/testmodels"
)

// TestConfirmPicksOnChoosingTasks: the search's schedule is the finalist
// with the best score on the choosing task, whatever the reporting task
// says, and every entry reports its normalized score on the reporting
// task only.
func TestConfirmPicksOnChoosingTasks(t *testing.T) {
	dir := t.TempDir()
	path := llama8(t, dir)
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
		// The fake's stderr is sqrt(acc(1-acc)/10); normalized, over the
		// full model's 0.9 - 0.25 above chance.
		acc := fake.Value(e.Schedule, "lambada_tiny")
		if got, w := e.Stderr["lambada_tiny"], math.Sqrt(acc*(1-acc)/10)/(0.9-0.25); math.Abs(got-w) > 1e-12 {
			t.Errorf("%s: normalized stderr %v, want %v", e.Method, got, w)
		}
	}
	if entries[1].Method != "shortgpt" || !math.IsNaN(entries[1].Choose) {
		t.Errorf("baseline entry %+v", entries[1])
	}
	if entries[0].Paired != nil {
		t.Errorf("a margin interval without document outcomes: %+v", entries[0].Paired)
	}
}

// TestConfirmPairedMargin: when the scorer logs each document's outcome,
// the reporting sweep stores them and the search's entry carries a
// bootstrap interval of its margin over the best baseline, which holds
// the margin itself; the outcomes read back from results.jsonl are the
// scorer's.
func TestConfirmPairedMargin(t *testing.T) {
	dir := t.TempDir()
	path := llama8(t, dir)
	const n = 200
	docs := func(sched, task string) []float64 {
		out := make([]float64, n)
		h := fnv.New64a()
		h.Write([]byte(sched + "\x00" + task))
		rng := rand.New(rand.NewPCG(h.Sum64(), 1))
		p := 0.3 + 0.6*rng.Float64()
		if sched == "0-7" {
			p = 0.95
		}
		for i := range out {
			if rng.Float64() < p {
				out[i] = 1
			}
		}
		return out
	}
	fake := &sweeptest.Fake{Identity: "0-7", Docs: docs}
	res := &Result{T: 8, Budgets: []float64{0.75}, Finalists: map[float64][]*Candidate{0.75: {{Schedule: "0-2,5-7", Fraction: 0.75}}}, Baselines: map[float64][]Baseline{}}
	res.Baselines[0.75] = []Baseline{{Method: "shortgpt", Budget: 0.75, Schedule: "0-4,7", Fraction: 0.75}, {Method: "sleb", Budget: 0.75, Schedule: "1-6", Fraction: 0.75}}
	cc := ConfirmConfig{ModelPath: path, ChooseTasks: []string{"../eval/testdata/arc_tiny.jsonl"}, ReportTasks: []string{"../eval/testdata/lambada_tiny.jsonl"},
		Settings: fake.Settings(), Dir: dir, Scorer: fake}
	entries, _, err := Confirm(context.Background(), res, cc)
	if err != nil {
		t.Fatal(err)
	}
	best := entries[1]
	if entries[2].Report > best.Report {
		best = entries[2]
	}
	p := entries[0].Paired
	margin := entries[0].Report - best.Report
	if p == nil || p.Versus != best.Method || p.Low > margin || p.High < margin || p.Low == p.High {
		t.Fatalf("paired %+v, want an interval over %s around %v", p, best.Method, margin)
	}
	rows, err := report.ReadResults(filepath.Join(dir, "report", sweep.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if want := docs(r.Schedule, r.Task); !slices.Equal(r.Docs, want) {
			t.Errorf("%s on %s: stored outcomes %v, want %v", r.Label(), r.Task, r.Docs, want)
		}
	}
}

// TestConfirmRefines: with rounds of refinement, the choosing tasks also
// score the best-screened neighbours of each budget's best so far; every
// one is a single move from an earlier candidate and fits the budget,
// and the pick is the best of all they scored. Without rounds they score
// the finalists alone.
func TestConfirmRefines(t *testing.T) {
	dir := t.TempDir()
	path := llama8(t, dir)
	fake := &sweeptest.Fake{Identity: "0-7"}
	norm := func(sched string) float64 { return (fake.Value(sched, "arc_tiny") - 0.25) / (0.9 - 0.25) }
	for _, rounds := range []int{0, 3} {
		sdir := filepath.Join(dir, fmt.Sprint("refine", rounds))
		cfg := Config{T: 8, Cost: uniform(8), Screener: &fakeScreener{weight: []float64{5, 1, 3, 0.2, 0.1, 2, 4, 6}},
			Analysis: bendingAnalysis(t, []float64{0.5, 0.1, 0.3, 0.02, 0.01, 0.2, 0.4, 0.6}),
			Dir:      sdir, Salt: "refine", Seed: 1, Options: Options{Budgets: []float64{0.75}, Beam: 1, Finalists: 1}}
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		var refined [][]string
		cc := ConfirmConfig{ModelPath: path, ChooseTasks: []string{"../eval/testdata/arc_tiny.jsonl"}, ReportTasks: []string{"../eval/testdata/lambada_tiny.jsonl"},
			Settings: fake.Settings(), Dir: sdir, Scorer: fake, Refine: rounds,
			Refined: func(round int, f float64, from *Candidate, next []*Candidate) {
				// Each neighbour is one move from the best so far.
				moves := map[string]bool{}
				for _, st := range res.r.moves(8, f, from.st) {
					moves[st.key()] = true
				}
				var keys []string
				for _, c := range next {
					if !moves[c.Schedule] || c.Fraction > f+1e-12 || c.Origin != "refined" {
						t.Errorf("round %d: %s (%s, fraction %v) is not a refinement of %s", round, c.Schedule, c.Origin, c.Fraction, from.Schedule)
					}
					keys = append(keys, c.Schedule)
				}
				refined = append(refined, keys)
			}}
		entries, _, err := Confirm(context.Background(), res, cc)
		res.Close()
		if err != nil {
			t.Fatal(err)
		}
		scored := []string{}
		for _, c := range res.Finalists[0.75] {
			scored = append(scored, c.Schedule)
		}
		for _, r := range refined {
			scored = append(scored, r...)
		}
		if rounds == 0 && len(refined) != 0 || rounds > 0 && (len(refined) == 0 || len(refined) > rounds) {
			t.Errorf("%d rounds asked, %d made", rounds, len(refined))
		}
		best := scored[0]
		for _, s := range scored {
			if norm(s) > norm(best) {
				best = s
			}
		}
		e := entries[0]
		if e.Schedule != best || e.Choose != norm(best) || e.Scored != len(scored) {
			t.Errorf("%d rounds: pick %s (%v) of %d scored, want %s (%v) of %d", rounds, e.Schedule, e.Choose, e.Scored, best, norm(best), len(scored))
		}
		if rounds > 0 && e.Choose <= norm(res.Finalists[0.75][0].Schedule) {
			t.Errorf("refinement found nothing better than %s: the test wants a case where it does", res.Finalists[0.75][0].Schedule)
		}
	}
}

// TestConfirmShards: a sharded search scores its share of the choosing
// sweep and waits for the merge, then its share of the reporting sweep,
// and the unsharded rerun reads both merges: the same entries as one
// unsharded search.
func TestConfirmShards(t *testing.T) {
	dir := t.TempDir()
	path := llama8(t, dir)
	fake := &sweeptest.Fake{Identity: "0-7"}
	res := &Result{T: 8, Budgets: []float64{0.75}, Finalists: map[float64][]*Candidate{}, Baselines: map[float64][]Baseline{}}
	for _, s := range []string{"0-2,5-7", "0-1,3,5-7", "0-3,6-7"} {
		res.Finalists[0.75] = append(res.Finalists[0.75], &Candidate{Schedule: s, Fraction: 0.75})
	}
	res.Baselines[0.75] = []Baseline{{Method: "shortgpt", Budget: 0.75, Schedule: "0-4,7", Fraction: 0.75}, {Method: "random", Budget: 0.75, Schedule: "1-6", Fraction: 0.75}}
	config := func(dir string, shard sweep.Shard) ConfirmConfig {
		return ConfirmConfig{ModelPath: path, ChooseTasks: []string{"../eval/testdata/arc_tiny.jsonl"}, ReportTasks: []string{"../eval/testdata/lambada_tiny.jsonl"},
			Settings: fake.Settings(), Dir: dir, Scorer: fake, Shard: shard}
	}
	want, _, err := Confirm(context.Background(), res, config(filepath.Join(dir, "whole"), sweep.Shard{}))
	if err != nil {
		t.Fatal(err)
	}
	sdir := filepath.Join(dir, "sharded")
	for _, phase := range []string{"choose", "report"} {
		for i := range 2 {
			_, _, err := Confirm(context.Background(), res, config(sdir, sweep.Shard{Index: i, Count: 2}))
			var wait *AwaitingMerge
			if !errors.As(err, &wait) || wait.Dir != filepath.Join(sdir, phase) {
				t.Fatalf("shard %d/2 in the %s phase: %v, want it to wait for the merge of %s", i, phase, err, phase)
			}
		}
		if _, err := sweep.Merge(filepath.Join(sdir, phase)); err != nil {
			t.Fatal(err)
		}
	}
	calls := fake.Calls.Load()
	got, _, err := Confirm(context.Background(), res, config(sdir, sweep.Shard{}))
	if err != nil {
		t.Fatal(err)
	}
	if fake.Calls.Load() != calls {
		t.Errorf("the rerun on the merges scored %d variants, want none", fake.Calls.Load()-calls)
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Method != w.Method || g.Schedule != w.Schedule || g.Report != w.Report || g.Choose != w.Choose && !math.IsNaN(w.Choose) {
			t.Errorf("entry %d: %s %s %v/%v, want %s %s %v/%v", i, g.Method, g.Schedule, g.Choose, g.Report, w.Method, w.Schedule, w.Choose, w.Report)
		}
	}
}

// TestChooseScores: the pooled score is the points above chance summed
// over the tasks, over the full model's sum; the median is the report's
// median of per-task normalized scores. The full model's accuracies are
// the demo's dev split (ARC-Easy, PIQA and arithmetic, 100 documents
// each), where PIQA's margin over chance is 0.06: B wins the median by
// four PIQA documents, each worth a sixth of that task's normalized
// score, while A leads by two documents over all three tasks, which the
// pooled score counts alike.
func TestChooseScores(t *testing.T) {
	full := map[string]float64{"arc": 0.50, "piqa": 0.56, "arith": 0.55}
	chance := map[string]float64{"arc": 0.25, "piqa": 0.5, "arith": 0.25}
	runs := []struct {
		pass, params string
		acc          map[string]float64
	}{
		{"identity", "", full},
		{"search", "A", map[string]float64{"arc": 0.56, "piqa": 0.52, "arith": 0.50}},
		{"search", "B", map[string]float64{"arc": 0.48, "piqa": 0.56, "arith": 0.52}},
		{"search", "short", map[string]float64{"arc": 0.60, "piqa": 0.60}}, // no arithmetic row
	}
	var rows []report.Result
	for _, r := range runs {
		for _, task := range []string{"arc", "piqa", "arith"} {
			v, ok := r.acc[task]
			if !ok {
				continue
			}
			rows = append(rows, report.Result{Row: sweep.Row{Pass: r.pass, Params: r.params, Task: task, Main: "acc,none", Baseline: chance[task], HasBaseline: true,
				Metrics:    []sweep.Value{{Key: "acc,none", Value: v, Stderr: 0.05, HasStderr: true}},
				Normalized: []sweep.Norm{{Key: "acc,none", Value: (v - chance[task]) / (full[task] - chance[task])}}}})
		}
	}
	label := func(params string) string { r := sweep.Row{Pass: "search", Params: params}; return r.Label() }
	pooled := chooseScores(rows, nil, ChoosePooled)
	median := chooseScores(rows, nil, ChooseMedian)
	want := map[string][2]float64{ // pooled, median
		"A": {(0.31 + 0.02 + 0.25) / 0.61, 0.25 / 0.30},
		"B": {(0.23 + 0.06 + 0.27) / 0.61, 0.23 / 0.25},
	}
	for _, p := range []string{"A", "B"} {
		if got := pooled[label(p)]; math.Abs(got-want[p][0]) > 1e-9 {
			t.Errorf("pooled %s = %v, want %v", p, got, want[p][0])
		}
		if got := median[label(p)]; math.Abs(got-want[p][1]) > 1e-9 {
			t.Errorf("median %s = %v, want %v", p, got, want[p][1])
		}
	}
	if !(pooled[label("A")] > pooled[label("B")]) || !(median[label("B")] > median[label("A")]) {
		t.Errorf("want A ahead pooled and B by the median: pooled A %v B %v, median A %v B %v", pooled[label("A")], pooled[label("B")], median[label("A")], median[label("B")])
	}
	if got := chooseScores(rows, nil, "")[label("A")]; got != pooled[label("A")] {
		t.Errorf("an empty ChooseBy scores A %v, want the pooled %v", got, pooled[label("A")])
	}
	if v := pooled[label("short")]; !math.IsNaN(v) {
		t.Errorf("a variant missing a task scores %v pooled, want NaN", v)
	}
	// A task at chance in the full model counts in neither.
	drop := []report.ChanceTask{{Task: "piqa"}}
	if got, w := chooseScores(rows, drop, ChoosePooled)[label("B")], (0.23+0.27)/(0.25+0.30); math.Abs(got-w) > 1e-9 {
		t.Errorf("pooled B without piqa = %v, want %v", got, w)
	}
}

// llama8 saves an 8-block Llama test model in dir and returns its path.
func llama8(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "model.onnx")
	m, err := testmodels.Default(testmodels.Spec{Family: testmodels.Llama, Layers: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := onnx.Save(path, m, onnx.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}
