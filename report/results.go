package report

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"fmt"
	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/plot"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/sweep"
)

// Result is one row of a sweep's results.jsonl: a variant (a pass with
// its parameters, compiled to a schedule affecting Affected blocks, with a
// seed for random) scored on one task. The row's schema is package
// sweep's, the one that writes it (sweep.Row); report adds the views it
// needs. Metrics are the raw scores, Normalized the scores rescaled so
// 0 = random guessing and 1 = the full model, keyed "metric,filter" as
// lm-evaluation-harness does ("acc,none").
type Result struct{ sweep.Row }

// ReadResults reads a sweep's results.jsonl with sweep's reader. When
// several rows carry the same key for the same pass, seed and task, the
// last one wins, so a re-run appended by hand supersedes the old line.
// (The sweep's key is a content hash of the schedule, so variants of
// different passes that run the same schedule share it and stay separate
// rows.)
func ReadResults(path string) ([]Result, error) {
	// sweep's reader takes a missing file for an empty store; a report
	// needs its input, and only a regular one (a FIFO must not block).
	f, err := safeio.Open(path)
	if err != nil {
		return nil, err
	}
	f.Close()
	rows, err := sweep.ReadResults(path)
	if err != nil {
		return nil, err
	}
	type rowID struct {
		key, pass, params, task string
	}
	var out []Result
	byID := map[rowID]int{}
	for i, r := range rows {
		res := Result{*r}
		if err := checkResult(&res); err != nil {
			return nil, fmt.Errorf("%s: row %d: %v", path, i+1, err)
		}
		id := rowID{r.Key, r.Pass, r.Params, r.Task}
		if j, ok := byID[id]; ok {
			out[j] = res
			continue
		}
		byID[id] = len(out)
		out = append(out, res)
	}
	return out, nil
}

// ParamMap returns the row's parameters ("n=7 loops=3") as key=value
// pairs.
func (r Result) ParamMap() map[string]string {
	out := map[string]string{}
	for _, f := range strings.Fields(r.Params) {
		if k, v, ok := strings.Cut(f, "="); ok {
			out[k] = v
		}
	}
	return out
}

// positional are the parameters that say where a pass acts or how it is
// seeded, not which variant of it runs: they do not make a separate line.
var positional = map[string]bool{"n": true, "layers": true, "seed": true, "index": true}

// Variant is the row's parameters that name a variant of its pass
// ("loops=3"), sorted, without n, layers, seed and index.
func (r Result) Variant() string {
	var kv []string
	for k, v := range r.ParamMap() {
		if !positional[k] {
			kv = append(kv, k+"="+v)
		}
	}
	sort.Strings(kv)
	return strings.Join(kv, " ")
}

// Score is the row's normalized score of the task's main metric: the
// row's "main" when it is normalized, else the only normalized metric or,
// when there are several, the first in sorted order (metric says which; ok
// is false when there is none). A NaN (a normalization with no
// denominator, written as null) is no score.
func (r Result) Score() (score float64, metric string, ok bool) {
	if v, ok := r.NormalizedValue(r.Main); ok && r.Main != "" && !math.IsNaN(v) {
		return v, r.Main, true
	}
	var keys []string
	for _, n := range r.Normalized {
		if !math.IsNaN(n.Value) {
			keys = append(keys, n.Key)
		}
	}
	if len(keys) == 0 {
		return 0, "", false
	}
	sort.Strings(keys)
	v, _ := r.NormalizedValue(keys[0])
	return v, keys[0], true
}

// seed is the row's seed, 0 for the passes that take none.
func (r Result) seed() int64 {
	if r.Seed == nil {
		return 0
	}
	return *r.Seed
}

// Blocks returns the blocks the row's schedule runs, in order, or nil when
// it has none or it does not parse.
func (r Result) Blocks() []int {
	if r.Schedule == "" {
		return nil
	}
	s, err := schedule.Parse(r.Schedule)
	if err != nil {
		return nil
	}
	return s.Instances()
}

// Rows converts results to plot rows, leaving out those with no
// normalized score.
func Rows(results []Result) []plot.Row {
	var out []plot.Row
	for _, r := range results {
		s, _, ok := r.Score()
		if !ok {
			continue
		}
		out = append(out, plot.Row{Pass: r.Pass, Variant: r.Variant(), Affected: r.Affected, Seed: r.seed(), Task: r.Task, Score: s})
	}
	return out
}

// BlockCount infers T, the model's number of blocks, as the largest block
// index any row's schedule runs, plus one (every paper pass runs the last
// block). It returns 0 when no schedule parses.
func BlockCount(results []Result) int {
	T := 0
	for _, r := range results {
		for _, b := range r.Blocks() {
			T = max(T, b+1)
		}
	}
	return T
}

// Category says whether a task is "math" (math and reasoning: the paper
// finds these the most order-sensitive) or "semantic", or "" when neither.
// A row's own "category" field decides when set (the sweep may copy it
// from the task file's header); otherwise the task's name does: names
// containing gsm8k, math (mathqa too), arc, mmlu or asdiv are math, names
// containing lambada, hellaswag, winogrande, piqa, wiki, rte, sst, boolq
// or copa are semantic.
func Category(r Result) string {
	switch c := strings.ToLower(r.Category); c {
	case "math", "reasoning", "math/reasoning":
		return "math"
	case "semantic":
		return "semantic"
	case "":
	default:
		return ""
	}
	return categoryOf(r.Task)
}

var (
	mathNames     = []string{"gsm8k", "math", "arc", "mmlu", "asdiv"}
	semanticNames = []string{"lambada", "hellaswag", "winogrande", "piqa", "wiki", "rte", "sst", "boolq", "copa"}
)

func categoryOf(task string) string {
	t := strings.ToLower(task)
	for _, n := range mathNames {
		if strings.Contains(t, n) {
			return "math"
		}
	}
	for _, n := range semanticNames {
		if strings.Contains(t, n) {
			return "semantic"
		}
	}
	return ""
}

// fmtNum prints a score with three decimals.
func fmtNum(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// ChanceTask is a task whose full model does not beat random guessing by
// more than one standard error of its main metric.
type ChanceTask struct {
	Task                   string
	Metric                 string
	Full, Stderr, Baseline float64
}

// AtChance returns the tasks, sorted by name, whose identity row scores
// its main metric within one standard error of the baseline (or below
// it; within 0 when the metric has no stderr). A normalized score divides
// by (full − baseline): on such a task that denominator is sampling noise,
// or negative when the full model is below chance, so its normalized
// scores are not evidence of anything. The report keeps the task's own
// table and figure but leaves it out of every median and every finding.
// A 135M model on WinoGrande (0.483 against a baseline of 0.5 on 60
// documents) is the case that made this necessary.
func AtChance(results []Result) []ChanceTask {
	var out []ChanceTask
	seen := map[string]bool{}
	for _, r := range results {
		if r.Pass != "identity" || !r.HasBaseline || r.Main == "" || seen[r.Task] {
			continue
		}
		v, ok := r.Metric(r.Main)
		if !ok || math.IsNaN(v.Value) {
			continue
		}
		seen[r.Task] = true
		margin := 0.0
		if v.HasStderr && !math.IsNaN(v.Stderr) {
			margin = v.Stderr
		}
		if v.Value-r.Baseline <= margin {
			out = append(out, ChanceTask{Task: r.Task, Metric: r.Main, Full: v.Value, Stderr: v.Stderr, Baseline: r.Baseline})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Task < out[j].Task })
	return out
}

// withoutTasks returns the results whose task is not in drop.
func withoutTasks(results []Result, drop []ChanceTask) []Result {
	if len(drop) == 0 {
		return results
	}
	gone := map[string]bool{}
	for _, d := range drop {
		gone[d.Task] = true
	}
	var out []Result
	for _, r := range results {
		if !gone[r.Task] {
			out = append(out, r)
		}
	}
	return out
}
