package sweep_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painterc/painterc/sweep"
)

// TestGivenVariants scores schedules a search chose instead of a plan:
// each row carries its variant's label and schedule and the scorer's value
// for that schedule, a schedule given twice is scored once, and bad lists
// are refused before anything is scored.
func TestGivenVariants(t *testing.T) {
	dir := t.TempDir()
	f := fake()
	cfg := config(t, dir)
	cfg.Variants = []sweep.Variant{
		{Index: 0, Pass: "identity", Schedule: "0-7", Given: true},
		{Index: 1, Pass: "search", Params: "budget=0.75", Schedule: "0-2,[3-4],6-7", Given: true},
		{Index: 2, Pass: "shortgpt", Params: "budget=0.75", Schedule: "0-3,6-7", Given: true},
		{Index: 3, Pass: "sleb", Params: "budget=0.75", Schedule: "0-3,6-7", Given: true},
	}
	sum := run(t, cfg, f)
	if sum.Variants != 4 || sum.Rows != 8 || sum.Scored != 3 || sum.Reused != 2 {
		t.Errorf("summary %+v: want 4 variants, 8 rows, 3 scored, 2 reused", sum)
	}
	rows, err := sweep.ReadResults(filepath.Join(dir, sweep.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		acc, _ := r.Metric("acc,none")
		if want := f.Value(r.Schedule, r.Task); acc.Value != want {
			t.Errorf("%s on %s: acc %v, want %v", r.Label(), r.Task, acc.Value, want)
		}
		got[r.Label()] = r.Schedule
	}
	if got["search budget=0.75"] != "0-2,[3-4],6-7" || got["sleb budget=0.75"] != "0-3,6-7" {
		t.Errorf("rows: %v", got)
	}

	// A rerun whose label now names another schedule must not take the
	// old schedule's rows for it.
	changed := config(t, dir)
	changed.Variants = append([]sweep.Variant(nil), cfg.Variants...)
	changed.Variants[1].Schedule = "0-2,5-7"
	_, err = sweep.Run(context.Background(), changed, fake())
	if err == nil || !strings.Contains(err.Error(), "search budget=0.75 on ") ||
		!strings.Contains(err.Error(), "was scored as schedule 0-2,[3-4],6-7, but this run's search budget=0.75 is 0-2,5-7: the variants changed since; use another --out directory") {
		t.Errorf("a label whose schedule changed: error %v", err)
	}

	for _, c := range []struct {
		vs   []sweep.Variant
		want string
	}{
		{[]sweep.Variant{{Index: 0, Pass: "search", Schedule: "0-7", Given: true}}, "must start with the identity"},
		{[]sweep.Variant{{Index: 0, Pass: "identity", Schedule: "0-7"}, {Index: 1, Pass: "search", Schedule: "0-9", Given: true}}, "block 9 is out of range"},
		{[]sweep.Variant{{Index: 0, Pass: "identity", Schedule: "0-7"}, {Index: 1, Pass: "search", Schedule: "0,1,2-7", Given: true}}, "is not canonical"},
		{[]sweep.Variant{{Index: 0, Pass: "identity", Schedule: "0-7"}, {Index: 1, Pass: "s", Schedule: "0-6", Given: true}, {Index: 2, Pass: "s", Schedule: "1-7", Given: true}}, "two given variants are labelled"},
	} {
		cfg := config(t, t.TempDir())
		cfg.Variants = c.vs
		_, err := sweep.Run(context.Background(), cfg, fake())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.vs, err, c.want)
		}
	}
}
