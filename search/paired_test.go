package search

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/painterc/painterc/report"
	"github.com/painterc/painterc/sweep"
)

func docRow(pass, params, task string, base float64, docs []float64) report.Result {
	return report.Result{Row: sweep.Row{Pass: pass, Params: params, Task: task, Main: "acc,none", Baseline: base, HasBaseline: true, Docs: docs}}
}

// TestPairedMargin: on one task whose full model gets every document
// right, the normalized margin is mean(a−b)/(1−chance) and its bootstrap
// interval must match the normal approximation, mean ± 1.96·sd/√n; equal
// outcomes give an interval of zero width; a variant that is never worse
// is ahead in every resample; missing outcomes give no interval.
func TestPairedMargin(t *testing.T) {
	const n = 400
	rng := rand.New(rand.NewPCG(7, 7))
	full, a, b := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		full[i] = 1
		if rng.Float64() < 0.6 {
			a[i] = 1
		}
		if rng.Float64() < 0.5 {
			b[i] = 1
		}
	}
	rows := []report.Result{docRow("identity", "", "mc", 0.25, full), docRow("search", "x", "mc", 0.25, a), docRow("sleb", "y", "mc", 0.25, b)}
	p, ok := pairedMargin(rows, nil, "search x", "sleb y")
	if !ok {
		t.Fatal("no interval")
	}
	var mean, sq float64
	for i := range n {
		mean += (a[i] - b[i]) / n
	}
	for i := range n {
		d := a[i] - b[i] - mean
		sq += d * d
	}
	se := math.Sqrt(sq/(n-1)) / math.Sqrt(n)
	wantLo, wantHi := (mean-1.96*se)/0.75, (mean+1.96*se)/0.75
	half := (wantHi - wantLo) / 2
	t.Logf("interval [%.4f, %.4f], normal [%.4f, %.4f], ahead %.3f", p.Low, p.High, wantLo, wantHi, p.Ahead)
	if math.Abs(p.Low-wantLo) > 0.15*half || math.Abs(p.High-wantHi) > 0.15*half || p.Resamples != pairedResamples {
		t.Errorf("interval [%.4f, %.4f] over %d resamples, want about [%.4f, %.4f]", p.Low, p.High, p.Resamples, wantLo, wantHi)
	}

	same, _ := pairedMargin([]report.Result{rows[0], rows[1], docRow("sleb", "y", "mc", 0.25, a)}, nil, "search x", "sleb y")
	if same.Low != 0 || same.High != 0 || same.Ahead != 0 {
		t.Errorf("equal outcomes: %+v", same)
	}
	better := append([]float64(nil), b...)
	for i := range better {
		if i%3 == 0 {
			better[i] = 1
		}
	}
	dom, _ := pairedMargin([]report.Result{rows[0], docRow("search", "x", "mc", 0.25, better), rows[2]}, nil, "search x", "sleb y")
	if dom.Low <= 0 || dom.Ahead != 1 {
		t.Errorf("never worse: %+v", dom)
	}

	// A second task with no outcomes stored (a row from before they were
	// kept) leaves the margin without an interval; at chance it is
	// ignored.
	old := append(rows, docRow("identity", "", "piqa", 0.5, nil), docRow("search", "x", "piqa", 0.5, nil), docRow("sleb", "y", "piqa", 0.5, nil))
	if p, ok := pairedMargin(old, nil, "search x", "sleb y"); ok {
		t.Errorf("rows without outcomes gave %+v", p)
	}
	if _, ok := pairedMargin(old, []report.ChanceTask{{Task: "piqa"}}, "search x", "sleb y"); !ok {
		t.Error("a task at chance was not left out")
	}
}
