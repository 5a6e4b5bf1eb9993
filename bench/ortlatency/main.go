// Command ortlatency times ONNX Runtime inference of several models side by
// side, for scripts/bench.sh: each model gets its own session (one intra-op
// thread by default, so that two cores do not make the numbers noisy), the
// same random Llama-style inputs (input_ids, attention_mask, position_ids),
// warm-up runs, then -reps rounds in which every model runs once, in an
// order that rotates each round so that drift (frequency, cache, a noisy
// neighbour) falls on all models alike. It prints one JSON line per model:
// the median, minimum and quartiles in milliseconds, every round's time (so
// that ratios can be taken round by round, each between runs a few hundred
// milliseconds apart), and the largest difference of its logits from the
// first model's.
//
//	ortlatency [-seq 128] [-vocab 1024] [-reps 15] LABEL=MODEL.onnx ...
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/runtime"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ortlatency:", err)
		os.Exit(1)
	}
}

type result struct {
	Label    string    `json:"label"`
	Model    string    `json:"model"`
	MedianMS float64   `json:"median_ms"`
	MinMS    float64   `json:"min_ms"`
	P25MS    float64   `json:"p25_ms"`
	P75MS    float64   `json:"p75_ms"`
	Reps     int       `json:"reps"`
	TimesMS  []float64 `json:"times_ms"` // round by round, for paired ratios
	MaxDiff  float64   `json:"max_logit_diff_vs_first"`
}

func run(args []string) error {
	fs := pflag.NewFlagSet("ortlatency", pflag.ContinueOnError)
	seq := fs.Int("seq", 128, "tokens per run (batch 1)")
	vocab := fs.Int("vocab", 1024, "token ids are drawn below this")
	reps := fs.Int("reps", 15, "timed rounds")
	warmup := fs.Int("warmup", 2, "untimed runs of each model first")
	threads := fs.Int("threads", 1, "ONNX Runtime intra-op threads (0 = its default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("usage: ortlatency [flags] LABEL=MODEL.onnx ...")
	}
	if err := runtime.Init(runtime.Options{}); err != nil {
		return err
	}
	type model struct {
		label, path string
		s           *runtime.Session
		times       []float64
		logits      []float32
	}
	var ms []*model
	defer func() {
		for _, m := range ms {
			m.s.Close()
		}
	}()
	for _, a := range fs.Args() {
		label, path, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("%q: want LABEL=MODEL.onnx", a)
		}
		s, err := runtime.NewSession(path, runtime.SessionOptions{IntraOpThreads: *threads, InterOpThreads: 1})
		if err != nil {
			return err
		}
		ms = append(ms, &model{label: label, path: path, s: s})
	}

	r := rand.New(rand.NewPCG(1, 2))
	S := int64(*seq)
	ids, mask, pos := make([]int64, S), make([]int64, S), make([]int64, S)
	for i := range ids {
		ids[i] = int64(r.IntN(*vocab))
		mask[i] = 1
		pos[i] = int64(i)
	}
	feeds := map[string]*runtime.Tensor{
		"input_ids":      runtime.NewInt64([]int64{1, S}, ids),
		"attention_mask": runtime.NewInt64([]int64{1, S}, mask),
		"position_ids":   runtime.NewInt64([]int64{1, S}, pos),
	}
	once := func(m *model) (float64, error) {
		t := time.Now()
		out, err := m.s.Run(feeds, "logits")
		d := time.Since(t).Seconds() * 1e3
		if err != nil {
			return 0, err
		}
		if m.logits == nil {
			if m.logits, err = out["logits"].Float32s(); err != nil {
				return 0, err
			}
		}
		return d, nil
	}
	for _, m := range ms {
		for range *warmup {
			if _, err := once(m); err != nil {
				return err
			}
		}
	}
	for i := range *reps {
		for j := range ms {
			m := ms[(i+j)%len(ms)]
			d, err := once(m)
			if err != nil {
				return err
			}
			m.times = append(m.times, d)
		}
	}
	enc := json.NewEncoder(os.Stdout)
	for _, m := range ms {
		t := slices.Clone(m.times)
		slices.Sort(t)
		q := func(p float64) float64 { return t[int(math.Round(p*float64(len(t)-1)))] }
		diff := 0.0
		if len(m.logits) == len(ms[0].logits) {
			for i, v := range m.logits {
				diff = max(diff, math.Abs(float64(v)-float64(ms[0].logits[i])))
			}
		} else {
			diff = -1 // the outputs differ in shape
		}
		if err := enc.Encode(result{Label: m.label, Model: m.path, MedianMS: q(0.5), MinMS: t[0], P25MS: q(0.25), P75MS: q(0.75), Reps: len(t), TimesMS: m.times, MaxDiff: diff}); err != nil {
			return err
		}
	}
	return nil
}
