package search

import (
	"math"
	"strings"
	"testing"

	"github.com/painterc/painterc/report"
)

// TestMarkdownVerdictAndNoise: each budget's verdict compares the
// search's median with the best baseline's, and names the range of the
// normalized scores' standard errors in its table, leaving out a task
// at chance, and the paired bootstrap's interval where there is one.
func TestMarkdownVerdictAndNoise(t *testing.T) {
	s := &Summary{Model: "m/model.onnx", Command: "painterc search m/model.onnx", ChooseBy: ChoosePooled,
		AtChance: []report.ChanceTask{{Task: "winogrande", Full: 0.5, Stderr: 0.02, Baseline: 0.5}},
		Entries: []Entry{
			{Method: "search", Budget: 0.75, Schedule: "0-5", Fraction: 0.75, Report: 0.60, Choose: 0.5,
				Tasks: map[string]float64{"arc": 0.6, "piqa": 0.6}, Stderr: map[string]float64{"arc": 0.11, "piqa": 0.23, "winogrande": 3},
				Paired: &Paired{Versus: "shortgpt", Low: -0.0125, High: 0.2, Ahead: 0.914, Resamples: 1990}},
			{Method: "shortgpt", Budget: 0.75, Schedule: "0-4,6", Fraction: 0.75, Report: 0.55, Choose: math.NaN(),
				Tasks: map[string]float64{"arc": 0.5, "piqa": 0.6}, Stderr: map[string]float64{"arc": 0.09, "piqa": 0.2}},
			{Method: "search", Budget: 0.6, Schedule: "0-4", Fraction: 0.6, Report: 0.2, Choose: 0.3,
				Tasks: map[string]float64{"arc": 0.2, "piqa": 0.2}},
			{Method: "sleb", Budget: 0.6, Schedule: "1-5", Fraction: 0.6, Report: 0.3, Choose: math.NaN(),
				Tasks: map[string]float64{"arc": 0.3, "piqa": 0.3}},
		}}
	md := s.Markdown()
	for _, want := range []string{
		"## Budget 0.75\n\nThe search beats every baseline here (median normalized score, margin +0.050 over the best baseline). Each task's normalized score carries a standard error of 0.090 to 0.230 here (the row's stderr over the full model's margin above chance), so a margin smaller than that is within noise. On the same reporting documents, a paired bootstrap (1990 resamples of the documents, seeded) puts the margin over shortgpt between -0.013 and +0.200 (95%), with the search ahead in 91% of them.\n\n",
		"## Budget 0.60\n\nThe search does not beat every baseline here (median normalized score, margin -0.100 over the best baseline).\n\n",
		"| search | `0-5` | 0.750 | **0.600** | 0.600 | 0.600 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("search.md lacks %q:\n%s", want, md)
		}
	}
}
