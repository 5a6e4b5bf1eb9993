package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/screen"
)

// TestSearchRefuses: the search's own mistakes are caught before any
// work, each with the exit code of usage and a sentence that says what to
// do.
func TestSearchRefuses(t *testing.T) {
	dir := filepath.Join("..", "..", "models", "painter-16")
	model, task, other := filepath.Join(dir, "model.onnx"), filepath.Join(dir, "tasks", "add_mc.jsonl"), filepath.Join(dir, "tasks", "count_mc.jsonl")
	calib := filepath.Join(dir, "tasks", "valid_rolling.jsonl")
	out := filepath.Join(t.TempDir(), "s")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{model, "--choose-task", task, "--task", other, "--calib", calib, "--out", out},
			"no budget: add --budget F, a fraction of the full model's block compute such as 0.75"},
		{[]string{model, "--budget", "1.5", "--choose-task", task, "--task", other, "--calib", calib, "--out", out},
			"--budget 1.5: want a fraction between 0 and 1 of the full model's block compute, e.g. 0.75"},
		{[]string{model, "--budget", "0.75", "--task", other, "--calib", calib, "--out", out},
			"no choosing task: add --choose-task FILE; the search picks among its finalists there, and reports on --task, which must be other tasks"},
		{[]string{model, "--budget", "0.75", "--choose-task", task, "--task", task, "--calib", calib, "--out", out},
			"--choose-task " + task + " is also a --task: the tasks that choose must differ from the tasks that report, or the report flatters the search"},
		{[]string{model, "--budget", "0.75", "--choose-task", task, "--task", other, "--out", out},
			"no calibration text: add --calib FILE (a task file; WikiText's is the usual choice)"},
		{[]string{model, "--budget", "0.75", "--choose-task", task, "--task", other, "--calib", calib, "--out", out, "--calib-windows", "4000"},
			"fewer than 4000 windows of 128: lower --calib-windows or --calib-length"},
		{[]string{model, "--budget", "0.75", "--choose-task", task, "--task", other, "--calib", calib, "--out", out, "--choose-by", "mean"},
			"--choose-by mean: want one of pooled, median (docs/search.md says how they differ)"},
	} {
		r := cli(t, append([]string{"search"}, c.args...)...)
		noPanic(t, r)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("search %v: exit %d, stderr %q; want exit %d and %q", c.args, r.code, r.stderr, exitUsage, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused search created its output folder")
	}
}

// TestSearchPainter16 runs a small search end to end on the shipped
// model: every output is there, every schedule fits its budget, the
// search's schedule compiles to the model it wrote, and a rerun screens
// and scores nothing again.
func TestSearchPainter16(t *testing.T) {
	orttest.Require(t)
	if testing.Short() {
		t.Skip("screens some 60 candidates")
	}
	dir := filepath.Join("..", "..", "models", "painter-16")
	out := filepath.Join(t.TempDir(), "s")
	args := []string{"search", filepath.Join(dir, "model.onnx"), "--budget", "0.9", "--calib", filepath.Join(dir, "tasks", "valid_rolling.jsonl"),
		"--calib-windows", "2", "--calib-length", "32", "--beam", "1", "--finalists", "2", "--polish", "0", "--halves=false",
		"--choose-task", filepath.Join(dir, "tasks", "add_mc.jsonl"), "--task", filepath.Join(dir, "tasks", "count_mc.jsonl"),
		"--task", filepath.Join(dir, "tasks", "sort_mc.jsonl"), "--limit", "8", "--threads", "2", "--latency-tokens", "16", "-q", "--out", out}
	r := cli(t, args...)
	mustSucceed(t, r)
	for _, f := range []string{"search.md", "search.json", "search-pareto.png", "search-pareto.svg", "schedule-0.9.txt", "model-0.9.onnx",
		"mergekit-0.9.yml", "prune-layers-0.9.txt", "screen.jsonl", "choose/results.jsonl", "report/results.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	var js struct {
		Entries []struct {
			Method   string  `json:"method"`
			Schedule string  `json:"schedule"`
			Fraction float64 `json:"compute_fraction"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(out, "search.json")), &js); err != nil {
		t.Fatal(err)
	}
	methods := map[string]bool{}
	for _, e := range js.Entries {
		methods[e.Method] = true
		s, err := schedule.Parse(e.Schedule)
		if err != nil || s.Validate(16) != nil || e.Fraction > 0.9 || len(s.Stages()) != 14 {
			t.Errorf("%s: schedule %q (err %v), fraction %v: want 14 of 16 blocks, within 0.9", e.Method, e.Schedule, err, e.Fraction)
		}
	}
	if len(methods) != 5 {
		t.Errorf("methods %v: want search, shortgpt, angular, sleb, random", methods)
	}
	// The written model is the search's schedule compiled.
	sched := strings.TrimSpace(string(readFile(t, filepath.Join(out, "schedule-0.9.txt"))))
	meta := cli(t, "inspect", filepath.Join(out, "model-0.9.onnx"))
	if !strings.Contains(meta.stdout, sched) {
		t.Errorf("model-0.9.onnx does not record schedule %s:\n%s", sched, meta.stdout)
	}
	screens := readFile(t, filepath.Join(out, "screen.jsonl"))
	r = cli(t, args...)
	mustSucceed(t, r)
	if again := readFile(t, filepath.Join(out, "screen.jsonl")); len(again) != len(screens) {
		t.Errorf("the rerun screened again: screen.jsonl grew from %d to %d bytes", len(screens), len(again))
	}
}

// TestScreenSalt: screens made at screening's default optimization level
// keep the salt of the runs before the level counted (their stores stay
// valid); any other level gets a salt of its own, so its screens are
// never read back for another level's.
func TestScreenSalt(t *testing.T) {
	before := "m\x00w"
	for _, level := range []string{"", screen.DefaultOptLevel} {
		if got := screenSalt("m", "w", level); got != before {
			t.Errorf("level %q: salt %q, want %q", level, got, before)
		}
	}
	all, ext := screenSalt("m", "w", "all"), screenSalt("m", "w", "extended")
	if all == before || ext == before || all == ext {
		t.Errorf("salts at all %q and extended %q must differ from the default's %q and each other", all, ext, before)
	}
}
