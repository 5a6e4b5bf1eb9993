// Package sweeptest holds a fake sweep.Scorer for tests and benchmarks:
// deterministic scores computed from the schedule alone, so that a test can
// tell variants apart without running a model.
package sweeptest

import (
	"context"
	"hash/fnv"
	"math"
	"sync/atomic"
	"time"

	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/sweep"
)

// Fake scores each task with a number that depends only on the schedule and
// the task's name: the identity's 0.9 for the identity schedule, else a
// hash-derived value in [0.25, 0.9). Every task gets an "acc,none" (with a
// standard error) and a "perplexity,none" (none), a baseline of 0.25 and
// main metric "acc,none".
type Fake struct {
	// Delay is slept per Score call, to stand for the scoring time.
	Delay time.Duration
	// Calls counts Score calls.
	Calls atomic.Int64
	// Identity is the identity variant's schedule, which scores 0.9; empty
	// treats no schedule specially.
	Identity string
	// Docs, when set, gives each document's accuracy for a schedule and
	// task: "acc,none" is then their mean, and each document's value is
	// in the task result's samples, as eval's scorers write them.
	Docs func(schedule, task string) []float64
}

// Settings are the settings a sweep with a Fake records.
func (f *Fake) Settings() map[string]string { return map[string]string{"scorer": "fake"} }

// Value is the accuracy Fake gives schedule on task.
func (f *Fake) Value(schedule, task string) float64 {
	if f.Docs != nil {
		d := f.Docs(schedule, task)
		s := 0.0
		for _, x := range d {
			s += x
		}
		return s / float64(len(d))
	}
	if schedule == f.Identity && f.Identity != "" {
		return 0.9
	}
	h := fnv.New64a()
	h.Write([]byte(schedule + "\x00" + task))
	return 0.25 + 0.65*float64(h.Sum64()%10000)/10000
}

func (f *Fake) Score(ctx context.Context, v sweep.Variant, tasks []*eval.Task) (*eval.Results, error) {
	f.Calls.Add(1)
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	res := &eval.Results{}
	for _, t := range tasks {
		acc := f.Value(v.Schedule, t.Name)
		var samples []eval.Sample
		if f.Docs != nil {
			for i, x := range f.Docs(v.Schedule, t.Name) {
				samples = append(samples, eval.Sample{{Key: "task", Value: t.Name}, {Key: "doc_id", Value: i}, {Key: "acc", Value: x}})
			}
		}
		res.Tasks = append(res.Tasks, &eval.TaskResult{
			Samples: samples,
			Name:    t.Name, Kind: t.Kind.Name, Path: t.Path, Main: "acc,none",
			Baseline: 0.25, HasBaseline: true,
			Metrics: []eval.Metric{
				{Name: "acc", Filter: "none", Value: acc, Stderr: math.Sqrt(acc * (1 - acc) / 10), HasStderr: true},
				{Name: "perplexity", Filter: "none", Value: math.Exp(3 * (1 - acc))},
			},
		})
	}
	return res, nil
}
