package sweep

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/internal/fault"
	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
)

// Scorer scores one variant of the model on tasks. The sweep calls it once
// per variant with the tasks that variant still lacks; it returns one
// TaskResult per task, by task name.
type Scorer interface {
	Score(ctx context.Context, v Variant, tasks []*eval.Task) (*eval.Results, error)
}

// Shard is one part of a sharded sweep: Index of Count. Count 0 is an
// unsharded run.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Dir is the shard's directory under the sweep's directory.
func (s Shard) Dir(out string) string {
	if s.Count == 0 {
		return out
	}
	return filepath.Join(out, fmt.Sprintf("shard-%d-of-%d", s.Index, s.Count))
}

// ParseShard reads "i/n" with 0 <= i < n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("--shard %q: want i/n, e.g. --shard 0/4", s)
	}
	if n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("--shard %q: want 0 <= i < n", s)
	}
	if n > MaxShards {
		return Shard{}, fmt.Errorf("--shard %q: at most %d shards", s, MaxShards)
	}
	return Shard{Index: i, Count: n}, nil
}

// Owns reports whether the shard runs variant index k.
func (s Shard) Owns(k int) bool { return s.Count == 0 || k%s.Count == s.Index }

// Config is one sweep run.
type Config struct {
	// ModelPath is the model's .onnx file; it and its external data are
	// hashed once per run.
	ModelPath string
	// Model is the decoded model, when the caller has it (the scorer
	// compiles from the same one); nil loads ModelPath.
	Model *onnx.Model
	// Boundaries name the residual stream by hand, as --boundaries does.
	Boundaries []string
	// TaskFiles are the task files (eval.LoadTask); each is hashed.
	TaskFiles []string
	Plan      PlanOptions
	Shard     Shard
	// Out is the sweep's directory; a shard writes under Shard.Dir(Out).
	Out string
	// Settings are the scorer settings that change scores (max length,
	// limit, tokenizer hash, the scorer's name): they are part of every key
	// and of the manifest. Settings that do not change scores (batch size,
	// threads, device) stay out, so a run may resume with other ones.
	Settings map[string]string
	// Variants, when not nil, are scored instead of Plan's: schedules a
	// search or a person chose (Variant.Given), the identity first, since
	// normalizing needs it. Indexes must be 0, 1, 2, ...
	Variants []Variant
	// Progress, when not nil, is called after each variant.
	Progress func(Progress)
}

// Progress reports a finished variant.
type Progress struct {
	Done, Total int // variants of this run finished, and planned
	Variant     Variant
	// Scored is false when every row of the variant was already there
	// (resume) or came from a variant with the same schedule.
	Scored  bool
	Elapsed time.Duration
	// ETA extrapolates the mean scoring time of the variants scored so
	// far over the schedules left to score; 0 until one was scored.
	ETA time.Duration
}

// Summary is what a run did.
type Summary struct {
	Dir      string
	Variants int // planned for this run (its shard, and the identity)
	Scored   int // variants sent to the scorer
	Rows     int // rows appended
	Reused   int // rows whose score came from another variant with the same schedule
	Skipped  int // rows already there
	// Wall is the run's time; ScoreTime the time spent in Scorer.Score.
	Wall, ScoreTime time.Duration
	Notes           []string
}

// task is a loaded task file and its hash.
type task struct {
	t    *eval.Task
	hash string
}

func loadTasks(paths []string) ([]task, error) {
	if len(paths) == 0 {
		return nil, errors.New("no task files: give at least one --task FILE")
	}
	var out []task
	names := map[string]string{}
	for _, p := range paths {
		data, err := safeio.ReadFile(p)
		if err != nil {
			return nil, err
		}
		t, err := eval.ReadTask(p, bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		if q, ok := names[t.Name]; ok {
			return nil, fmt.Errorf("two tasks are named %s (%s and %s): rows are keyed by task name, so give one a header \"name\"", t.Name, q, p)
		}
		names[t.Name] = p
		sum := sha256.Sum256(data)
		out = append(out, task{t: t, hash: hex.EncodeToString(sum[:])})
	}
	return out, nil
}

// planHash identifies a plan by every variant's index, label and schedule.
func planHash(vs []Variant) string {
	h := sha256.New()
	for _, v := range vs {
		fmt.Fprintf(h, "%d %s %q %s\n", v.Index, v.Pass, v.Params, v.Schedule)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Blocks returns the number of blocks the compile pipeline finds in m.
func Blocks(ctx context.Context, m *onnx.Model, boundaries []string) (int, error) {
	r, err := compile.Run(ctx, compile.Input{Model: m}, compile.Options{Until: "detect", Boundaries: boundaries})
	if err != nil {
		return 0, err
	}
	return r.Blocks.T, nil
}

// Run runs the sweep: it plans the variants, keeps this shard's (and the
// identity, which every shard scores: normalizing needs it), and for each
// variant appends one row per task to results.jsonl, fsynced as soon as it
// exists. Rows already in the file are skipped, so a stopped run resumes
// where it stopped; a variant whose schedule another variant already had
// reuses that score. At the end it writes results.csv. Its errors carry a
// [fault.Kind]: the tasks, the model, the blocks, the plan, the results
// directory or the scoring (unless the scorer's error says better).
func Run(ctx context.Context, cfg Config, scorer Scorer) (*Summary, error) {
	start := time.Now()
	if cfg.ModelPath == "" {
		return nil, fault.New(fault.Model, errors.New("no model file: Config.ModelPath names the model, which is hashed"))
	}
	if cfg.Out == "" {
		return nil, fault.New(fault.Output, errors.New("no output directory: give --out DIR"))
	}
	if cfg.Shard.Count < 0 || (cfg.Shard.Count > 0 && (cfg.Shard.Index < 0 || cfg.Shard.Index >= cfg.Shard.Count)) {
		return nil, fault.New(fault.Schedule, fmt.Errorf("shard %s: want 0 <= i < n", cfg.Shard))
	}
	tasks, err := loadTasks(cfg.TaskFiles)
	if err != nil {
		return nil, fault.New(fault.Input, err)
	}
	m := cfg.Model
	if m == nil {
		if m, err = onnx.Load(cfg.ModelPath); err != nil {
			return nil, fault.New(fault.Model, err)
		}
		defer m.Close()
	}
	T, err := Blocks(ctx, m, cfg.Boundaries)
	if err != nil {
		return nil, fault.New(fault.Blocks, err)
	}
	variants := cfg.Variants
	if variants == nil {
		if variants, err = Plan(T, cfg.Plan); err != nil {
			return nil, fault.New(fault.Schedule, err)
		}
	} else if err := checkGiven(variants, T); err != nil {
		return nil, fault.New(fault.Schedule, err)
	}
	modelHash, err := HashModel(cfg.ModelPath, m)
	if err != nil {
		return nil, fault.New(fault.Model, err)
	}

	var mine []Variant
	for _, v := range variants {
		if v.Index == 0 || cfg.Shard.Owns(v.Index) {
			mine = append(mine, v)
		}
	}
	want := &Manifest{
		Version: manifestVersion, Model: cfg.ModelPath, ModelHash: modelHash, Blocks: T,
		Settings: cfg.Settings, Tasks: map[string]string{},
		PlanHash: planHash(variants), Variants: len(variants),
		RowsPlanned: len(mine) * len(tasks),
	}
	if want.Settings == nil {
		want.Settings = map[string]string{}
	}
	for _, t := range tasks {
		want.Tasks[t.t.Name] = t.hash
	}
	if cfg.Shard.Count > 0 {
		sh := cfg.Shard
		want.Shard = &sh
		// A sharded run checks the sweep's own manifest too, when a merge
		// or an unsharded run left one.
		if have, err := readManifest(cfg.Out); err == nil {
			if err := sameScoring(cfg.Out, have, want); err != nil {
				return nil, fault.New(fault.Output, err)
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fault.New(fault.Output, err)
		}
	}
	dir := cfg.Shard.Dir(cfg.Out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fault.New(fault.Output, err)
	}
	if have, err := readManifest(dir); err == nil {
		if err := sameScoring(dir, have, want); err != nil {
			return nil, fault.New(fault.Output, err)
		}
		if cfg.Shard.Count == 0 && have.MergedShards > 0 {
			return nil, fault.New(fault.Output, fmt.Errorf("%s holds %d merged shards: run unsharded sweeps into another --out directory, or resume a shard with --shard", dir, have.MergedShards))
		}
		if (have.Shard == nil) != (want.Shard == nil) || (have.Shard != nil && *have.Shard != *want.Shard) {
			return nil, fault.New(fault.Output, fmt.Errorf("%s belongs to shard %v, not %v", dir, have.Shard, want.Shard))
		}
		for name, h := range have.Tasks {
			if _, ok := want.Tasks[name]; !ok {
				want.Tasks[name] = h // rows of tasks this run does not name stay valid
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fault.New(fault.Output, err)
	}
	st, err := openStore(filepath.Join(dir, ResultsFile))
	if err != nil {
		return nil, fault.New(fault.Output, err)
	}
	defer st.close()
	// The rows must have been scored as this run would score them, with
	// or without a manifest (one deleted by hand proves nothing).
	for i, r := range st.rows {
		h, ok := want.Tasks[r.Task]
		if ok && r.Key != Key(modelHash, r.Schedule, h, want.Settings) {
			return nil, fault.New(fault.Output, fmt.Errorf("%s: row %d (%s on %s) was scored with another model, task file or settings than this run's (its key differs): use another --out directory", st.path, i+1, r.Label(), r.Task))
		}
	}
	if err := writeManifest(dir, want); err != nil {
		return nil, fault.New(fault.Output, err)
	}

	sum := &Summary{Dir: dir, Variants: len(mine), Notes: st.notes}
	identity := map[string]*Row{}
	for _, t := range tasks {
		if r := st.ids[(&Row{Pass: "identity", Task: t.t.Name}).id()]; r != nil {
			identity[t.t.Name] = r
		}
	}
	// pending counts the schedules left to score, for the ETA: variants
	// whose rows are all there, or whose schedule is scored already or
	// by an earlier variant, cost nothing.
	pending, counted := 0, map[string]bool{}
	for _, v := range mine {
		for _, t := range tasks {
			missing := st.ids[(&Row{Pass: v.Pass, Params: v.Params, Task: t.t.Name}).id()] == nil
			if missing && st.byKey[Key(modelHash, v.Schedule, t.hash, want.Settings)] == nil && !counted[v.Schedule] {
				counted[v.Schedule] = true
				pending++
			}
		}
	}
	for k, v := range mine {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		var need, score []task
		for _, t := range tasks {
			r := &Row{Pass: v.Pass, Params: v.Params, Task: t.t.Name}
			if old := st.ids[r.id()]; old != nil {
				if old.Schedule != v.Schedule {
					return sum, fault.New(fault.Output, fmt.Errorf("%s: %s on %s was scored as schedule %s, but this run's %s is %s: the variants changed since; use another --out directory", st.path, r.Label(), t.t.Name, old.Schedule, r.Label(), v.Schedule))
				}
				sum.Skipped++
				continue
			}
			need = append(need, t)
			if st.byKey[Key(modelHash, v.Schedule, t.hash, want.Settings)] == nil {
				score = append(score, t)
			}
		}
		var res map[string]*eval.TaskResult
		if len(score) > 0 {
			ts := make([]*eval.Task, len(score))
			for i, t := range score {
				ts[i] = t.t
			}
			t0 := time.Now()
			out, err := scorer.Score(ctx, v, ts)
			sum.ScoreTime += time.Since(t0)
			if err != nil {
				return sum, fault.New(fault.Runtime, fmt.Errorf("scoring %s (%s): %w", v.Label(), v.Schedule, err))
			}
			sum.Scored++
			res = map[string]*eval.TaskResult{}
			if out != nil {
				for _, tr := range out.Tasks {
					res[tr.Name] = tr
				}
			}
		}
		var rows []*Row
		for _, t := range need {
			key := Key(modelHash, v.Schedule, t.hash, want.Settings)
			r := &Row{Pass: v.Pass, Params: v.Params, Schedule: v.Schedule, Affected: v.Affected, Seed: v.Seed, Task: t.t.Name, Category: t.t.Category, Key: key}
			if old := st.byKey[key]; old != nil {
				r.Metrics, r.Main, r.Baseline, r.HasBaseline, r.Docs = old.Metrics, old.Main, old.Baseline, old.HasBaseline, old.Docs
				sum.Reused++
			} else {
				tr := res[t.t.Name]
				if tr == nil {
					return sum, fault.New(fault.Runtime, fmt.Errorf("scoring %s: the scorer returned no result for task %s", v.Label(), t.t.Name))
				}
				r.Metrics, r.Main, r.Baseline, r.HasBaseline = values(tr), tr.Main, tr.Baseline, tr.HasBaseline
				r.Docs, _ = tr.DocValues(tr.Main)
			}
			if v.Pass == "identity" {
				identity[t.t.Name] = r
			}
			Normalize(r, identity[t.t.Name])
			rows = append(rows, r)
		}
		if len(rows) > 0 {
			if err := st.append(rows...); err != nil {
				return sum, fault.New(fault.Output, err)
			}
			sum.Rows += len(rows)
		}
		if cfg.Progress != nil {
			p := Progress{Done: k + 1, Total: len(mine), Variant: v, Scored: len(score) > 0, Elapsed: time.Since(start)}
			if sum.Scored > 0 {
				p.ETA = sum.ScoreTime / time.Duration(sum.Scored) * time.Duration(max(pending-sum.Scored, 0))
			}
			cfg.Progress(p)
		}
	}
	if err := writeCSV(filepath.Join(dir, CSVFile), sortedRows(st.rows)); err != nil {
		return sum, fault.New(fault.Output, err)
	}
	sum.Wall = time.Since(start)
	return sum, nil
}

// checkGiven checks Config.Variants: the identity first, indexes in order,
// every schedule valid for T blocks and in canonical form (rows key on it),
// and no two variants with one label.
func checkGiven(vs []Variant, T int) error {
	if len(vs) == 0 || vs[0].Pass != "identity" {
		return errors.New("internal error: given variants must start with the identity, which normalizing needs")
	}
	labels := map[string]bool{}
	for i, v := range vs {
		if v.Index != i {
			return fmt.Errorf("internal error: given variant %d has index %d", i, v.Index)
		}
		if labels[v.Label()] {
			return fmt.Errorf("internal error: two given variants are labelled %q", v.Label())
		}
		labels[v.Label()] = true
		s, err := schedule.Parse(v.Schedule)
		if err == nil {
			err = s.Validate(T)
		}
		if err != nil {
			return fmt.Errorf("variant %s: %w", v.Label(), err)
		}
		if s.String() != v.Schedule {
			return fmt.Errorf("internal error: variant %s's schedule %q is not canonical (%q)", v.Label(), v.Schedule, s.String())
		}
	}
	return nil
}
