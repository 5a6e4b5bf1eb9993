package search

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"time"

	"github.com/painterc/painterc/internal/fault"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/plot"
	"github.com/painterc/painterc/report"
	"github.com/painterc/painterc/sweep"
)

// ConfirmConfig says how to score the finalists and the baselines. Two
// sweeps do it, each in its own folder of the search directory, so both
// resume and shard as any sweep does:
//
//	choose/  the identity and every budget's finalists on the choosing
//	         tasks; the best score there (ChooseBy) picks the search's
//	         schedule for each budget;
//	report/  the identity, the search's pick and every baseline at every
//	         budget on the reporting tasks, which played no part in any
//	         choice.
type ConfirmConfig struct {
	ModelPath   string
	Model       *onnx.Model
	Boundaries  []string
	ChooseTasks []string
	ReportTasks []string
	Settings    map[string]string
	Dir         string
	Shard       sweep.Shard
	Scorer      sweep.Scorer
	Progress    func(sweep.Progress)
	// Refine is how many rounds of labelled local search follow the
	// finalists: each round screens the neighbours of each budget's best
	// on the choosing tasks (Result's moves) and scores the best few of
	// them there too, until a round finds nothing better. 0 is none; a
	// sharded run does not refine (a round needs every shard's scores),
	// its unsharded rerun does.
	Refine int
	// Refined, when set, is told each round's new candidates.
	Refined func(round int, f float64, from *Candidate, next []*Candidate)
	// ChooseBy is the score that picks on the choosing tasks: ChoosePooled
	// (the default, when empty) or ChooseMedian.
	ChooseBy string
}

// The scores that can pick the search's schedule on the choosing tasks.
//
// ChooseMedian is the report's own score: each task normalized by the full
// model's margin over chance, then the median across tasks. On a dev
// split of a hundred documents that margin can be a few points (SmolLM2's
// PIQA dev documents: 0.56 against chance 0.50), so one document moves
// that task's normalized score by a sixth and the median follows it.
//
// ChoosePooled sums the points above chance across the tasks and divides
// by the full model's sum: the same 0 = chance, 1 = full model scale, with
// each task's accuracy weighted alike and no small denominator of its own.
// It ranks by every task's documents together rather than by one task's.
const (
	ChoosePooled = "pooled"
	ChooseMedian = "median"
)

// ChooseScores are the names ChooseBy accepts.
var ChooseScores = []string{ChoosePooled, ChooseMedian}

// Entry is one method's schedule at one budget, scored.
type Entry struct {
	Method   string // "search" or one of Methods
	Budget   float64
	Schedule string
	Fraction float64
	// Choose is the search's score on the choosing tasks, by
	// ConfirmConfig.ChooseBy (NaN for the baselines, which choose by their
	// own rule).
	Choose float64
	// Report is the median normalized score on the reporting tasks, and
	// Tasks each task's normalized main metric.
	Report float64
	Tasks  map[string]float64
	// Stderr is each task's standard error of that normalized score: the
	// row's own stderr of its main metric over the full model's margin
	// above chance. At a few hundred documents it is often larger than
	// the gaps between methods, and search.md says so.
	Stderr map[string]float64
	// Paired is the search's margin over the best baseline, bootstrapped
	// over the reporting documents; nil for the baselines and where the
	// rows lack document outcomes.
	Paired *Paired
	// Time is the method's wall time to choose, for all budgets together.
	Time time.Duration
	// Latency is ONNX Runtime's time for one forward pass (see the CLI's
	// --latency-tokens), 0 when not measured.
	Latency time.Duration
	Screen  Screen
	// Origin is how the search's pick became a finalist (Candidate's
	// Origin), and Scored how many candidates the choosing tasks scored
	// at this budget; empty for the baselines.
	Origin string
	Scored int
}

func budgetParam(f float64) string { return "budget=" + strconv.FormatFloat(f, 'f', -1, 64) }

// givenParams labels a scored schedule in the choosing and reporting
// sweeps. The schedule is part of the label because a sweep resumes by
// label: when a rerun's finalists, pick or baselines change (other
// options, another calibration text), a label without it would find the
// old schedule's rows and take them for the new one's.
func givenParams(f float64, sched string) string { return budgetParam(f) + " schedule=" + sched }

// Confirm scores the finalists on the choosing tasks, picks each budget's
// best, and scores those and the baselines on the reporting tasks. It
// returns the entries by budget (descending) in the order search,
// Methods..., and the tasks left out of the medians because the full
// model scores them at chance.
func Confirm(ctx context.Context, res *Result, cc ConfirmConfig) ([]Entry, []report.ChanceTask, error) {
	identity := sweep.Variant{Index: 0, Pass: "identity", Schedule: full(res.T).key(), Given: true}
	choose := []sweep.Variant{identity}
	cands := map[float64][]*Candidate{}
	scored := map[float64]map[string]bool{}
	add := func(f float64, cs []*Candidate) {
		if scored[f] == nil {
			scored[f] = map[string]bool{}
		}
		for _, c := range cs {
			if !scored[f][c.Schedule] {
				scored[f][c.Schedule] = true
				cands[f] = append(cands[f], c)
				choose = append(choose, sweep.Variant{Index: len(choose), Pass: "search", Params: givenParams(f, c.Schedule), Schedule: c.Schedule, Given: true})
			}
		}
	}
	for _, f := range res.Budgets {
		add(f, res.Finalists[f])
	}
	// run scores vs on tasks into dir and returns dir's rows. A shard
	// scores its share, then goes on only from the merge of every shard
	// (painterc sweep merge DIR): a pick needs all the scores. An
	// unsharded rerun reads a merge as it is, scoring nothing.
	run := func(dir string, tasks []string, vs []sweep.Variant, next string) ([]report.Result, error) {
		merged, err := sweep.Merged(dir)
		if err != nil {
			return nil, fault.New(fault.Output, err)
		}
		if cc.Shard.Count > 0 || merged == 0 {
			cfg := sweep.Config{ModelPath: cc.ModelPath, Model: cc.Model, Boundaries: cc.Boundaries, TaskFiles: tasks,
				Variants: vs, Shard: cc.Shard, Out: dir, Settings: cc.Settings, Progress: cc.Progress}
			sum, err := sweep.Run(ctx, cfg, cc.Scorer)
			if err != nil {
				return nil, err
			}
			if cc.Shard.Count == 0 {
				return report.ReadResults(filepath.Join(sum.Dir, sweep.ResultsFile))
			}
			if merged, err = sweep.Merged(dir); err != nil {
				return nil, fault.New(fault.Output, err)
			}
			if merged == 0 {
				return nil, &AwaitingMerge{Dir: dir, Shard: cc.Shard, Next: next}
			}
		}
		rows, err := report.ReadResults(filepath.Join(dir, sweep.ResultsFile))
		if err != nil {
			return nil, fault.New(fault.Output, err)
		}
		return rows, complete(dir, rows, vs)
	}
	// Score, pick each budget's best on the choosing tasks (the earlier
	// candidate on a tie: the finalists before their neighbours), and
	// while rounds remain, add the best neighbours of each pick that
	// changed.
	pick := map[float64]*Candidate{}
	pickScore := map[float64]float64{}
	t0 := time.Now()
	// A sharded search does not refine, nor does the rerun that reads its
	// merge: a round would need every shard's scores of the one before.
	sharded := cc.Shard.Count > 0
	if n, err := sweep.Merged(filepath.Join(cc.Dir, "choose")); err != nil {
		return nil, nil, fault.New(fault.Output, err)
	} else if n > 0 {
		sharded = true
	}
	for round := 0; ; round++ {
		chosen, err := run(filepath.Join(cc.Dir, "choose"), cc.ChooseTasks, choose, "run the shards again, for the reporting tasks")
		if err != nil {
			return nil, nil, err
		}
		chooseScore := chooseScores(chosen, report.AtChance(chosen), cc.ChooseBy)
		before := len(choose)
		for _, f := range res.Budgets {
			last := pick[f]
			for _, c := range cands[f] {
				s := chooseScore["search "+givenParams(f, c.Schedule)]
				if pick[f] == nil || s > pickScore[f] || math.IsNaN(pickScore[f]) && !math.IsNaN(s) {
					pick[f], pickScore[f] = c, s
				}
			}
			if round >= cc.Refine || res.r == nil || sharded || pick[f] == last {
				continue
			}
			next, err := res.r.neighbours(ctx, res.T, f, pick[f], res.whole, scored[f])
			if err != nil {
				return nil, nil, err
			}
			if cc.Refined != nil {
				cc.Refined(round+1, f, pick[f], next)
			}
			add(f, next)
		}
		if len(choose) == before {
			break
		}
	}
	chooseTime := time.Since(t0)
	rep := []sweep.Variant{identity}
	for _, f := range res.Budgets {
		rep = append(rep, sweep.Variant{Index: len(rep), Pass: "search", Params: givenParams(f, pick[f].Schedule), Schedule: pick[f].Schedule, Given: true})
		for _, b := range res.Baselines[f] {
			rep = append(rep, sweep.Variant{Index: len(rep), Pass: b.Method, Params: givenParams(f, b.Schedule), Schedule: b.Schedule, Given: true})
		}
	}
	reported, err := run(filepath.Join(cc.Dir, "report"), cc.ReportTasks, rep, "rerun without --shard for search.md")
	if err != nil {
		return nil, nil, err
	}
	chance := report.AtChance(reported)
	repScore := medians(reported, chance)
	var out []Entry
	for _, f := range res.Budgets {
		c := pick[f]
		s := repScore["search "+givenParams(f, c.Schedule)]
		out = append(out, Entry{Method: "search", Budget: f, Schedule: c.Schedule, Fraction: c.Fraction, Choose: pickScore[f],
			Report: s.median, Tasks: s.tasks, Stderr: s.stderr, Time: res.Time["search"] + chooseTime, Screen: c.Screen, Origin: c.Origin, Scored: len(cands[f])})
		for _, b := range res.Baselines[f] {
			s := repScore[b.Method+" "+givenParams(f, b.Schedule)]
			out = append(out, Entry{Method: b.Method, Budget: f, Schedule: b.Schedule, Fraction: b.Fraction, Choose: math.NaN(),
				Report: s.median, Tasks: s.tasks, Stderr: s.stderr, Time: res.Time[b.Method]})
		}
		// The margin that the verdict states is over the best baseline;
		// bootstrap that one.
		mine, rivals := &out[len(out)-1-len(res.Baselines[f])], out[len(out)-len(res.Baselines[f]):]
		var best *Entry
		for i := range rivals {
			if best == nil || rivals[i].Report > best.Report {
				best = &rivals[i]
			}
		}
		if best != nil {
			if p, ok := pairedMargin(reported, chance, "search "+givenParams(f, c.Schedule), best.Method+" "+givenParams(f, best.Schedule)); ok {
				p.Versus = best.Method
				mine.Paired = &p
			}
		}
	}
	return out, chance, nil
}

type score struct {
	median float64
	tasks  map[string]float64
	stderr map[string]float64
}

// chooseScores is each variant's score by the named rule (ChooseBy),
// keyed by its label; NaN where it has none.
func chooseScores(rows []report.Result, chance []report.ChanceTask, by string) map[string]float64 {
	out := map[string]float64{}
	if by == ChooseMedian {
		for k, s := range medians(rows, chance) {
			out[k] = s.median
		}
		return out
	}
	return pooled(rows, chance)
}

// pooled is each variant's ChoosePooled score over the tasks with a
// baseline and not at chance, keyed by its label: the sum of its main
// metric's points above chance over the full model's sum. A variant that
// lacks a task the full model has gets NaN, so it never wins on fewer
// tasks.
func pooled(rows []report.Result, chance []report.ChanceTask) map[string]float64 {
	skip := map[string]bool{}
	for _, c := range chance {
		skip[c.Task] = true
	}
	above := map[string]map[string]float64{} // label → task → points above chance
	var identity string
	for _, r := range rows {
		if skip[r.Task] || !r.HasBaseline || r.Main == "" {
			continue
		}
		v, ok := r.Metric(r.Main)
		if !ok || math.IsNaN(v.Value) {
			continue
		}
		if above[r.Label()] == nil {
			above[r.Label()] = map[string]float64{}
		}
		above[r.Label()][r.Task] = v.Value - r.Baseline
		if r.Pass == "identity" {
			identity = r.Label()
		}
	}
	out := map[string]float64{}
	full := above[identity]
	var den float64
	for _, v := range full {
		den += v
	}
	for label, tasks := range above {
		num := 0.0
		for t := range full {
			v, ok := tasks[t]
			if !ok {
				num = math.NaN()
				break
			}
			num += v
		}
		out[label] = math.NaN()
		if den > 0 {
			out[label] = num / den
		}
	}
	return out
}

// medians is each variant's median normalized main metric over the tasks
// not at chance, with each task's normalized score and its standard
// error, keyed by its label.
func medians(rows []report.Result, chance []report.ChanceTask) map[string]score {
	skip := map[string]bool{}
	for _, c := range chance {
		skip[c.Task] = true
	}
	margin := map[string]float64{} // task → the full model's points above chance
	for _, r := range rows {
		if v, ok := r.Metric(r.Main); ok && r.Pass == "identity" && r.HasBaseline && v.Value > r.Baseline {
			margin[r.Task] = v.Value - r.Baseline
		}
	}
	out := map[string]score{}
	for _, r := range rows {
		s, ok := out[r.Label()]
		if !ok {
			s = score{tasks: map[string]float64{}, stderr: map[string]float64{}}
		}
		if v, ok := r.NormalizedValue(r.Main); ok {
			s.tasks[r.Task] = v
		}
		if v, ok := r.Metric(r.Main); ok && v.HasStderr && !math.IsNaN(v.Stderr) && margin[r.Task] > 0 {
			s.stderr[r.Task] = v.Stderr / margin[r.Task]
		}
		out[r.Label()] = s
	}
	for k, s := range out {
		var vs []float64
		for t, v := range s.tasks {
			if !skip[t] && !math.IsNaN(v) {
				vs = append(vs, v)
			}
		}
		s.median = plot.MedianOf(vs)
		out[k] = s
	}
	return out
}

// AwaitingMerge is a shard's stop: it scored its share of Dir, and the
// search goes on from the merge of every shard's.
type AwaitingMerge struct {
	Dir   string
	Shard sweep.Shard
	Next  string // what to run after the merge
}

func (e *AwaitingMerge) Error() string {
	return fmt.Sprintf("shard %s scored its share of %s; when every shard has, run `painterc sweep merge %s`, then %s", e.Shard, e.Dir, e.Dir, e.Next)
}

// complete says which row a merge in dir lacks, or nil: every variant
// needs a row on every task the identity has one on.
func complete(dir string, rows []report.Result, vs []sweep.Variant) error {
	have := map[string]bool{}
	var tasks []string
	for _, r := range rows {
		have[r.Label()+"\x00"+r.Task] = true
		if r.Label() == vs[0].Label() {
			tasks = append(tasks, r.Task)
		}
	}
	if len(tasks) == 0 {
		return fault.New(fault.Output, fmt.Errorf("%s: the merge holds no row of the full model: run every shard to its end and merge again", dir))
	}
	for _, v := range vs {
		for _, t := range tasks {
			if !have[v.Label()+"\x00"+t] {
				return fault.New(fault.Output, fmt.Errorf("%s: the merge holds no row of %s (%s) on %s: run every shard to its end and merge again", dir, v.Label(), v.Schedule, t))
			}
		}
	}
	return nil
}
