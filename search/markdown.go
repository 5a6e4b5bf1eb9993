package search

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/painterc/painterc/plot"
	"github.com/painterc/painterc/report"
)

// Files a finished search writes into its directory, besides the stores.
const (
	MarkdownFile = "search.md"
	ParetoBase   = "search-pareto" // .png and .svg
	JSONFile     = "search.json"
)

// Summary is everything search.md says.
type Summary struct {
	Model       string
	Command     string
	Cost        Cost
	Calibration string // "8 windows of 128 tokens from wikitext.jsonl"
	ChooseTasks []string
	ChooseBy    string // ConfirmConfig.ChooseBy
	ReportTasks []string
	AtChance    []report.ChanceTask
	Entries     []Entry
	FullLatency time.Duration
	Screened    int
	Cached      int
	Wall        time.Duration
	Exports     map[float64][]string // budget -> lines about the files written for it
	Halves      bool
	Beam        int
	ScreenRatio string // the one-graph screening's speed, when measured
}

// Wins reports, for a budget, whether the search's median normalized
// score beats every baseline's, and the margin over the best baseline.
func (s *Summary) Wins(f float64) (bool, float64) {
	var mine, rival float64 = math.NaN(), math.Inf(-1)
	for _, e := range s.Entries {
		if e.Budget != f {
			continue
		}
		if e.Method == "search" {
			mine = e.Report
		} else if !math.IsNaN(e.Report) {
			rival = max(rival, e.Report)
		}
	}
	return mine > rival, mine - rival
}

// noise is the range of the standard errors of the normalized scores in
// a budget's table, over the tasks in the medians; ok is false when no
// row has one.
func (s *Summary) noise(f float64) (lo, hi float64, ok bool) {
	skip := map[string]bool{}
	for _, c := range s.AtChance {
		skip[c.Task] = true
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, e := range s.Entries {
		if e.Budget != f {
			continue
		}
		for t, v := range e.Stderr {
			if !skip[t] {
				lo, hi, ok = min(lo, v), max(hi, v), true
			}
		}
	}
	return lo, hi, ok
}

func (s *Summary) budgets() []float64 {
	seen := map[float64]bool{}
	var out []float64
	for _, e := range s.Entries {
		if !seen[e.Budget] {
			seen[e.Budget] = true
			out = append(out, e.Budget)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(out)))
	return out
}

func ms(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond))
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

// Markdown renders search.md.
func (s *Summary) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Search under a compute budget: %s\n\n", s.Model)
	fmt.Fprintf(&b, "Made by `%s` in %s (screening, baselines, scoring and exports; a rerun reuses every screen and score already stored).\n\n", s.Command, s.Wall.Round(time.Second))
	fmt.Fprintf(&b, "- Compute: %s. A budget is a fraction of the full model's block compute; every block instance a schedule runs counts, parallel members and repeats included.\n", s.Cost)
	fmt.Fprintf(&b, "- Screening: %d distinct candidates (%d from the store of an earlier run), by KL divergence from the full model and by NLL on %s; beam %d per ranking", s.Screened, s.Cached, s.Calibration, s.Beam)
	if s.Halves {
		b.WriteString(", sub-block steps allowed")
	}
	b.WriteString(".\n")
	fmt.Fprintf(&b, "- Choosing tasks (pick the search's schedule among its finalists, by the %s): %s.\n", chooseRule(s.ChooseBy), strings.Join(s.ChooseTasks, ", "))
	fmt.Fprintf(&b, "- Reporting tasks (the scores below; no choice saw them): %s.\n", strings.Join(s.ReportTasks, ", "))
	for _, c := range s.AtChance {
		fmt.Fprintf(&b, "- %s is left out of the medians: the full model scores %.3f (± %.3f) against chance %.3f.\n", c.Task, c.Full, c.Stderr, c.Baseline)
	}
	fmt.Fprintf(&b, "\n![score against compute and latency](%s.png)\n\n", ParetoBase)
	var tasks []string
	if len(s.Entries) > 0 {
		for t := range s.Entries[0].Tasks {
			tasks = append(tasks, t)
		}
		sort.Strings(tasks)
	}
	for _, f := range s.budgets() {
		win, margin := s.Wins(f)
		verdict := "does not beat"
		if win {
			verdict = "beats"
		}
		fmt.Fprintf(&b, "## Budget %.2f\n\nThe search %s every baseline here (median normalized score, margin %+.3f over the best baseline).", f, verdict, margin)
		if lo, hi, ok := s.noise(f); ok {
			fmt.Fprintf(&b, " Each task's normalized score carries a standard error of %.3f to %.3f here (the row's stderr over the full model's margin above chance), so a margin smaller than that is within noise.", lo, hi)
		}
		for _, e := range s.Entries {
			if p := e.Paired; e.Budget == f && e.Method == "search" && p != nil {
				fmt.Fprintf(&b, " On the same reporting documents, a paired bootstrap (%d resamples of the documents, seeded) puts the margin over %s between %+.3f and %+.3f (95%%), with the search ahead in %.0f%% of them.", p.Resamples, p.Versus, p.Low, p.High, 100*p.Ahead)
			}
		}
		b.WriteString("\n\n")
		b.WriteString("| method | schedule | compute | median | ")
		for _, t := range tasks {
			b.WriteString(t + " | ")
		}
		b.WriteString("KL | top-1 | latency ms | time to choose |\n|---|---|---|---|")
		for range tasks {
			b.WriteString("---|")
		}
		b.WriteString("---|---|---|---|\n")
		for _, e := range s.Entries {
			if e.Budget != f {
				continue
			}
			kl, top1 := "–", "–"
			if e.Screen.Tokens > 0 {
				kl, top1 = fmt.Sprintf("%.4f", e.Screen.KL), fmt.Sprintf("%.3f", e.Screen.Top1)
			}
			fmt.Fprintf(&b, "| %s | `%s` | %.3f | **%s** | ", e.Method, e.Schedule, e.Fraction, num(e.Report))
			for _, t := range tasks {
				v, ok := e.Tasks[t]
				if !ok {
					v = math.NaN()
				}
				b.WriteString(num(v) + " | ")
			}
			fmt.Fprintf(&b, "%s | %s | %s | %s |\n", kl, top1, ms(e.Latency), e.Time.Round(time.Second))
		}
		for _, e := range s.Entries {
			if e.Budget == f && e.Method == "search" {
				fmt.Fprintf(&b, "\nThe choosing tasks scored %d candidates at this budget; the search's pick (%s %s there) came in as %s.\n", e.Scored, chooseName(s.ChooseBy), num(e.Choose), originText(e.Origin))
			}
		}
		if lines := s.Exports[f]; len(lines) > 0 {
			b.WriteString("\nExports of the search's schedule:\n\n")
			for _, l := range lines {
				fmt.Fprintf(&b, "- %s\n", l)
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Full model latency: %s ms per forward pass.\n\n", ms(s.FullLatency))
	b.WriteString("## Methods\n\n- search: beam search over schedules (docs/search.md): shrink a step at a time keeping the least KL and the least NLL per compute saved, then polish each budget's best by each with moves of equal or lower cost; the finalists are those and the label-free rules' schedules (ShortGPT, angular, SLEB); the choosing tasks score them, then the best neighbours of their best, round after round, and pick. Its time to choose includes the rules' own and the choosing tasks' scoring.\n")
	for _, m := range Methods {
		fmt.Fprintf(&b, "- %s: %s.\n", m.Name, m.Does)
	}
	b.WriteString("\nScores are normalized per task, 0 = chance and 1 = the full model; median is across the reporting tasks. Time to choose is the wall time of the method's own selection for all budgets together (ShortGPT and angular share one similarity pass; SLEB's screens that the search had already made come from the store). What a run reads back from the store costs it no time, so a rerun's times are its own, not those of the run that screened and scored.\n")
	return b.String()
}

// Figure writes the Pareto figure into dir.
func (s *Summary) Figure(dir string) error {
	byMethod := map[string]*plot.Method{}
	var order []string
	for _, e := range s.Entries {
		m := byMethod[e.Method]
		if m == nil {
			m = &plot.Method{Label: e.Method}
			byMethod[e.Method] = m
			order = append(order, e.Method)
		}
		m.Points = append(m.Points, plot.MethodPoint{Fraction: e.Fraction, LatencyMS: float64(e.Latency) / float64(time.Millisecond), Score: e.Report})
	}
	var ms []plot.Method
	for _, name := range order {
		ms = append(ms, *byMethod[name])
	}
	return plot.Pareto(filepath.Join(dir, ParetoBase), "search against the baselines", float64(s.FullLatency)/float64(time.Millisecond), ms)
}

// originText says in words how a pick became a finalist.
func originText(o string) string {
	switch {
	case o == "kl":
		return "one of the beam's best by KL"
	case o == "nll":
		return "one of the beam's best by calibration NLL"
	case o == "refined":
		return "a neighbour of an earlier best on the choosing tasks (refinement)"
	case strings.HasPrefix(o, "seed: "):
		return "the schedule of " + strings.TrimPrefix(o, "seed: ") + " (a seed)"
	case o == "":
		return "a finalist"
	}
	return o
}

// chooseRule says in search.md how the choosing score is made.
func chooseRule(by string) string {
	if by == ChooseMedian {
		return "median normalized score, as the report"
	}
	return "pooled score: points above chance summed over the tasks, over the full model's"
}

// chooseName names the choosing score in search.md.
func chooseName(by string) string {
	if by == ChooseMedian {
		return "median normalized score"
	}
	return "pooled score"
}
