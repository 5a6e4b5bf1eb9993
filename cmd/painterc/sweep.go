package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/internal/fault"
	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/sweep"
)

// cmdSweep runs the paper's grid of variants on task files into a results
// directory (docs/sweep.md), or merges the shards of one.
//
//	painterc sweep MODEL --task FILE ... --out DIR [--passes ...] [--n A..B] [--shard i/n]
//	painterc sweep merge DIR [SHARD_DIR ...]
func cmdSweep(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "merge" {
		return cmdSweepMerge(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "status" {
		return cmdSweepStatus(args[1:], stdout, stderr)
	}
	fs := pflag.NewFlagSet("painterc sweep", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf scoreFlags
	sf.register(fs)
	passList := fs.StringSlice("passes", sweep.DefaultPasses, "the strategies to sweep, comma-separated")
	nRange := fs.String("n", "", "the paper's N: a range A..B, walked from A to B, or a list A,B,C walked in its order (default: floor(T/2)-1..0, so M = T-2N-1 = 1 ... T-1)")
	seeds := fs.Int("seeds", sweep.DefaultSeeds, "random: how many seeds (0, 1, ..., K-1; the paper averages 10)")
	loops := fs.IntSlice("loops", []int{sweep.DefaultLoops}, "looped-parallel: the loop counts R, comma-separated")
	probes := fs.Bool("probes", false, "also run skip-one on every block (the paper's Figure 2)")
	boundaries := fs.StringSlice("boundaries", nil, "name the residual-stream tensors by hand: t0,t1,...,tT (a fused pair as a+r)")
	out := fs.String("out", "", "the results directory (required): results.jsonl, results.csv, sweep.json")
	shardFlag := fs.String("shard", "", "run only shard i of n (variants with index % n == i) into DIR/shard-i-of-n")
	quiet := fs.BoolP("quiet", "q", false, "print no progress line per variant")
	dryRun := fs.Bool("dry-run", false, "print the plan (index, shard, variant, schedule, M) and stop: no tokenizer, tasks or scoring needed")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: painterc sweep MODEL --task FILE [--task FILE ...] --out DIR [flags]\n       painterc sweep merge DIR [SHARD_DIR ...]\n       painterc sweep status DIR\n\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		return fail(exitUsage, err)
	}
	if fs.NArg() != 1 {
		return failf(exitUsage, "want exactly one model, got %d arguments; usage: painterc sweep MODEL --task FILE --out DIR", fs.NArg())
	}
	if *out == "" && !*dryRun {
		return failf(exitUsage, "no results directory: add --out DIR")
	}
	path := fs.Arg(0)
	plan := sweep.PlanOptions{Passes: *passList, Seeds: *seeds, Loops: *loops, Probes: *probes}
	if *seeds < 1 {
		return failf(exitUsage, "--seeds %d: random needs at least 1 seed", *seeds)
	}
	if strings.Contains(*nRange, ",") {
		ns, err := parseNList(*nRange)
		if err != nil {
			return fail(exitUsage, err)
		}
		plan.NList = ns
	} else if *nRange != "" {
		a, b, err := parseNRange(*nRange)
		if err != nil {
			return fail(exitUsage, err)
		}
		plan.NFrom, plan.NTo, plan.HasN = a, b, true
	}
	var shard sweep.Shard
	if *shardFlag != "" {
		var err error
		if shard, err = sweep.ParseShard(*shardFlag); err != nil {
			return fail(exitUsage, err)
		}
	}
	if *dryRun {
		return sweepDryRun(path, *boundaries, plan, shard, stdout)
	}
	ss, err := sf.setup(path, true)
	if err != nil {
		return err
	}
	tokHash, err := sweep.HashTokenizer(ss.tokenizerPath)
	if err != nil {
		return fail(exitUsage, err)
	}
	m, err := onnx.Load(path)
	if err != nil {
		return fail(exitModel, explainLoad(err))
	}
	defer m.Close()
	if err := sweepOutputs(path, m, ss, sf.tasks, *out, shard); err != nil {
		return err
	}
	if err := runtime.Init(runtime.Options{LibPath: sf.rt.lib}); err != nil {
		return fail(exitRuntime, err)
	}
	scorer := &sweep.ORTScorer{
		Model: m, Tokenizer: ss.tok, Limit: sf.limit, Boundaries: *boundaries,
		Open: func(lowered *onnx.Model) (sweep.ScoringModel, error) { return sf.model(lowered, ss.maxLength) },
	}
	cfg := sweep.Config{
		ModelPath: path, Model: m, Boundaries: *boundaries, TaskFiles: sf.tasks,
		Plan: plan, Shard: shard, Out: *out,
		Settings: sweep.ORTSettings(ss.maxLength, sf.limit, tokHash),
	}
	if !*quiet {
		cfg.Progress = func(p sweep.Progress) {
			what := "scored"
			if !p.Scored {
				what = "already done"
			}
			eta := ""
			if p.ETA > 0 {
				eta = ", ETA " + p.ETA.Round(time.Second).String()
			}
			fmt.Fprintf(stderr, "painterc: sweep [%d/%d] %s (%s): %s, %s elapsed%s\n", p.Done, p.Total, p.Variant.Label(), p.Variant.Schedule, what, p.Elapsed.Round(time.Millisecond), eta)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := sweep.Run(ctx, cfg, scorer)
	if sum != nil {
		for _, n := range sum.Notes {
			fmt.Fprintln(stderr, "painterc:", n)
		}
	}
	if err != nil {
		return sweepError(err)
	}
	fmt.Fprintf(stdout, "%d variants: %d scored, %d rows written (%d reusing an equal schedule's score), %d already there; %s/%s in %s (%s scoring)\n",
		sum.Variants, sum.Scored, sum.Rows, sum.Reused, sum.Skipped, sum.Dir, sweep.ResultsFile, sum.Wall.Round(time.Millisecond), sum.ScoreTime.Round(time.Millisecond))
	return nil
}

// sweepDryRun prints the plan a sweep would run on the model.
func sweepDryRun(path string, boundaries []string, plan sweep.PlanOptions, shard sweep.Shard, stdout io.Writer) error {
	m, err := onnx.Load(path)
	if err != nil {
		return fail(exitModel, explainLoad(err))
	}
	defer m.Close()
	T, err := sweep.Blocks(context.Background(), m, boundaries)
	if err != nil {
		return compileError(nil, err)
	}
	vs, err := sweep.Plan(T, plan)
	if err != nil {
		return fail(exitSchedule, err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "index\tshard\tvariant\tschedule\tM")
	mine := 0
	for _, v := range vs {
		owner := "all"
		if shard.Count == 0 {
			owner = "-"
		} else if v.Index > 0 {
			owner = strconv.Itoa(v.Index % shard.Count)
		}
		if v.Index == 0 || shard.Owns(v.Index) {
			mine++
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\n", v.Index, owner, v.Label(), v.Schedule, v.Affected)
	}
	tw.Flush()
	if shard.Count > 0 {
		fmt.Fprintf(stdout, "%d variants for a model with %d blocks; shard %s runs %d of them (the identity in every shard)\n", len(vs), T, shard, mine)
	} else {
		fmt.Fprintf(stdout, "%d variants for a model with %d blocks\n", len(vs), T)
	}
	return nil
}

// sweepOutputs checks, before any scoring, that the results directory's
// files are neither links nor inputs of the run.
func sweepOutputs(model string, m *onnx.Model, ss *scoreSetup, tasks []string, out string, shard sweep.Shard) error {
	if err := safeio.OutDir("--out", out); err != nil {
		return fail(exitOutput, err)
	}
	dir := shard.Dir(out)
	if err := safeio.FolderEntry(dir); err != nil {
		return fail(exitOutput, err)
	}
	var files safeio.Files
	modelInputs(&files, model, m)
	ss.scoringInputs(&files, model, tasks)
	if err := files.OutputIn(dir, sweep.ResultsFile, sweep.CSVFile, sweep.ManifestFile); err != nil {
		return fail(exitOutput, err)
	}
	return nil
}

// parseNRange reads --n: "A..B", or a single "N".
func parseNRange(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		b = a
	}
	x, err1 := strconv.Atoi(strings.TrimSpace(a))
	y, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("--n %q: want a range A..B of whole numbers, e.g. --n 15..0, or one N", s)
	}
	return x, y, nil
}

// parseNList reads --n's list form: "12,10,8".
func parseNList(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("--n %q: want a list of whole numbers, e.g. --n 12,8,4,1, or a range A..B", s)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// sweepError gives a sweep's error its exit code, from its kind.
func sweepError(err error) error {
	if errors.Is(err, context.Canceled) {
		return fail(exitInternal, errors.New("interrupted: the rows written so far are kept; rerun the same command to resume"))
	}
	var ce *compile.Error
	if errors.As(err, &ce) {
		return compileError(nil, ce)
	}
	if fault.KindOf(err) == fault.Model {
		return fail(exitModel, explainLoad(err))
	}
	return failByKind(err)
}

// cmdSweepMerge merges DIR/shard-I-of-N (and any extra shard directories)
// into DIR.
func cmdSweepMerge(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("painterc sweep merge", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: painterc sweep merge DIR [SHARD_DIR ...]\n\nmerges DIR/shard-I-of-N (and the shard directories given) into DIR/results.jsonl\n")
	}
	if err := fs.Parse(args); err != nil {
		return fail(exitUsage, err)
	}
	if fs.NArg() < 1 {
		return failf(exitUsage, "usage: painterc sweep merge DIR [SHARD_DIR ...]")
	}
	sum, err := sweep.Merge(fs.Arg(0), fs.Args()[1:]...)
	var we *sweep.WriteError
	var oe *safeio.OutputError
	switch {
	case errors.As(err, &we), errors.As(err, &oe):
		return fail(exitOutput, err)
	case err != nil:
		return fail(exitUsage, err)
	}
	for _, n := range sum.Notes {
		fmt.Fprintln(stderr, "painterc:", n)
	}
	fmt.Fprintf(stdout, "merged %d shards: %d rows in %s/%s\n", sum.Shards, sum.Rows, fs.Arg(0), sweep.ResultsFile)
	return nil
}

// cmdSweepStatus prints how far DIR and its shards have got.
func cmdSweepStatus(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("painterc sweep status", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return fail(exitUsage, err)
	}
	if fs.NArg() != 1 {
		return failf(exitUsage, "usage: painterc sweep status DIR")
	}
	st, err := sweep.Status(fs.Arg(0))
	if err != nil {
		return fail(exitUsage, err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "directory\twhat\trows\tstate")
	for _, s := range st {
		what := "unsharded run"
		switch {
		case s.Shard != nil:
			what = "shard " + s.Shard.String()
		case s.Merged > 0:
			what = fmt.Sprintf("merge of %d shards", s.Merged)
		}
		state := "complete"
		switch {
		case s.Running:
			state = "running"
		case s.Rows < s.Planned:
			state = "stopped (resume it)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%s\n", s.Dir, what, s.Rows, s.Planned, state)
	}
	return tw.Flush()
}
