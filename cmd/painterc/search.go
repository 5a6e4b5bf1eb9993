package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/screen"
	"github.com/painterc/painterc/search"
	"github.com/painterc/painterc/similarity"
	"github.com/painterc/painterc/sweep"
)

// cmdSearch finds, for each budget, the schedule that keeps most of the
// model under that fraction of its block compute, beside the peers'
// fixed rules at the same budget (docs/search.md).
//
//	painterc search MODEL --budget F [--budget F ...] --choose-task FILE ... --task FILE ... --calib FILE --out DIR
func cmdSearch(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("painterc search", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf scoreFlags
	sf.register(fs)
	budgets := fs.Float64Slice("budget", nil, "a fraction of the full model's block compute, e.g. 0.75 (repeat or comma-separate for several)")
	chooseTasks := fs.StringArray("choose-task", nil, "a task file the search chooses its schedule on (repeat for several); must differ from every --task, which reports")
	calib := fs.String("calib", "", "the calibration text for screening and for the baselines: a task file (WikiText's rolling file in the demo)")
	windows := fs.Int("calib-windows", 8, "calibration windows (the text's tokens, cut into windows)")
	length := fs.Int("calib-length", 128, "tokens per calibration window")
	beam := fs.Int("beam", 4, "candidates each search round keeps, by each ranking (KL, NLL)")
	finalists := fs.Int("finalists", 3, "candidates per budget and ranking (KL, NLL) scored on the choosing tasks")
	polish := fs.Int("polish", 2, "rounds of same-cost rearrangement of each budget's best (0: none)")
	refine := fs.Int("refine", 2, "rounds of refinement on the choosing tasks: each scores the best neighbours of each budget's best so far (0: pick among the finalists)")
	chooseBy := fs.String("choose-by", search.ChoosePooled, "the score that picks on the choosing tasks: pooled (points above chance summed over the tasks, over the full model's) or median (the report's median of normalized scores)")
	halves := fs.Bool("halves", true, "let the search run a block's attention or MLP half alone, where the layout allows")
	seed := fs.Uint64("seed", 0, "seed of the random baseline")
	perGraph := fs.Int("screen-per-graph", 0, "candidates screened together in one ONNX Runtime graph (0: package screen's default, 16)")
	out := fs.String("out", "", "the search directory (required): stores, search.md, the figure and the chosen models")
	shardFlag := fs.String("shard", "", "score only shard i of n of the confirming sweeps (docs/sweep.md); screening runs whole in every shard")
	hfName := fs.String("hf-name", "", "the model's name or path for the mergekit export (default: the model's folder name)")
	dtype := fs.String("mergekit-dtype", "bfloat16", "the dtype the mergekit export asks for")
	latencyTokens := fs.Int("latency-tokens", 128, "tokens of the forward pass whose ONNX Runtime latency is measured, the fastest of 9 (0: do not measure)")
	boundaries := fs.StringSlice("boundaries", nil, "name the residual-stream tensors by hand: t0,t1,...,tT (a fused pair as a+r)")
	noModels := fs.Bool("no-models", false, "write no compiled model per budget (the schedules and exports still are)")
	quiet := fs.BoolP("quiet", "q", false, "no progress")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: painterc search MODEL --budget F --choose-task FILE --task FILE --calib FILE --out DIR [flags]\n\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		return fail(exitUsage, err)
	}
	switch {
	case fs.NArg() != 1:
		return failf(exitUsage, "want exactly one model, got %d arguments; usage: painterc search MODEL --budget F --choose-task FILE --task FILE --calib FILE --out DIR", fs.NArg())
	case len(*budgets) == 0:
		return failf(exitUsage, "no budget: add --budget F, a fraction of the full model's block compute such as 0.75")
	case len(*chooseTasks) == 0:
		return failf(exitUsage, "no choosing task: add --choose-task FILE; the search picks among its finalists there, and reports on --task, which must be other tasks")
	case *calib == "":
		return failf(exitUsage, "no calibration text: add --calib FILE (a task file; WikiText's is the usual choice)")
	case *out == "":
		return failf(exitUsage, "no search directory: add --out DIR")
	case *windows < 1 || *length < 2:
		return failf(exitUsage, "--calib-windows %d --calib-length %d: want at least 1 window of at least 2 tokens", *windows, *length)
	case *latencyTokens < 0 || *latencyTokens == 1:
		return failf(exitUsage, "--latency-tokens %d: want 0 (off) or at least 2", *latencyTokens)
	case !slices.Contains(search.ChooseScores, *chooseBy):
		return failf(exitUsage, "--choose-by %s: want one of %s (docs/search.md says how they differ)", *chooseBy, strings.Join(search.ChooseScores, ", "))
	}
	for _, f := range *budgets {
		if !(f > 0 && f < 1) {
			return failf(exitUsage, "--budget %g: want a fraction between 0 and 1 of the full model's block compute, e.g. 0.75", f)
		}
	}
	for _, c := range *chooseTasks {
		for _, r := range sf.tasks {
			if sameFile(c, r) {
				return failf(exitUsage, "--choose-task %s is also a --task: the tasks that choose must differ from the tasks that report, or the report flatters the search", c)
			}
		}
	}
	var shard sweep.Shard
	if *shardFlag != "" {
		var err error
		if shard, err = sweep.ParseShard(*shardFlag); err != nil {
			return fail(exitUsage, err)
		}
	}
	path := fs.Arg(0)
	start := time.Now()
	ss, err := sf.setup(path, true)
	if err != nil {
		return err
	}
	calibTask, err := eval.LoadTask(*calib)
	if err != nil {
		return fail(exitUsage, fmt.Errorf("--calib: %w", err))
	}
	for _, c := range *chooseTasks {
		if _, err := eval.LoadTask(c); err != nil {
			return fail(exitUsage, fmt.Errorf("--choose-task: %w", err))
		}
	}
	texts, _, err := corpus([]*eval.Task{calibTask}, "", 0)
	if err != nil {
		return err
	}
	wins, err := calibrationWindows(ss, texts, *windows, *length)
	if err != nil {
		return fail(exitUsage, fmt.Errorf("--calib %s: %w", *calib, err))
	}
	if err := safeio.OutDir("--out", *out); err != nil {
		return fail(exitOutput, err)
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	det, err := compile.Run(ctx, compile.Input{Model: m}, compile.Options{Until: "detect", Boundaries: *boundaries})
	if err != nil {
		return compileError(nil, err)
	}
	b := det.Blocks
	cost := search.CountCost(m, b)
	useHalves := *halves && cost.Half != nil
	if *halves && !useHalves {
		fmt.Fprintln(stderr, "painterc: this layout has no stream between a block's attention and its MLP: the search runs whole blocks only")
	}
	modelHash, err := sweep.HashModel(path, m)
	if err != nil {
		return fail(exitModel, err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail(exitOutput, err)
	}
	if err := runtime.Init(runtime.Options{LibPath: sf.rt.lib}); err != nil {
		return fail(exitRuntime, err)
	}
	so := runtime.SessionOptions{Device: sf.rt.device, IntraOpThreads: sf.rt.threads, OptLevel: sf.rt.optLevel}

	// The baselines' statistics: one similarity pass over the windows.
	t0 := time.Now()
	probe, err := similarity.NewProbe(m, b, path, so)
	if err != nil {
		return probeError(err)
	}
	analysis, err := probe.Analyze(wins)
	probe.Close()
	if err != nil {
		return probeError(err)
	}
	analysisTime := time.Since(t0)

	// Screening sessions run once each, so they load at screen's own
	// default level (basic) unless --opt-level says otherwise.
	screenOpt := ""
	if fs.Changed("opt-level") {
		screenOpt = sf.rt.optLevel
	}
	sc, err := screen.New(m, b, wins, screen.Options{Threads: sf.rt.threads, MaxPerGraph: *perGraph, OptLevel: screenOpt})
	if err != nil {
		return fail(exitRuntime, err)
	}
	prog := newPhaseProgress(stderr, *quiet)
	cfg := search.Config{
		T: b.T, Cost: cost, Screener: screenAdapter{sc}, Analysis: analysis, AnalysisTime: analysisTime,
		Dir: *out, Salt: screenSalt(modelHash, hashWindows(wins), screenOpt), Seed: *seed,
		Options: search.Options{Budgets: *budgets, Beam: *beam, Finalists: *finalists, Polish: *polish, Halves: useHalves, Progress: prog.screened},
	}
	res, err := search.Run(ctx, cfg)
	prog.done()
	if err != nil {
		return sweepError(err)
	}
	defer res.Close()
	fmt.Fprintf(stderr, "painterc: screened %d candidates (%d from the store) in %s\n", res.Screened, res.Cached, time.Since(start).Round(time.Second))

	scorer := &sweep.ORTScorer{
		Model: m, Tokenizer: ss.tok, Limit: sf.limit, Boundaries: *boundaries,
		Open: func(lowered *onnx.Model) (sweep.ScoringModel, error) { return sf.model(lowered, ss.maxLength) },
	}
	cc := search.ConfirmConfig{
		ModelPath: path, Model: m, Boundaries: *boundaries, ChooseTasks: *chooseTasks, ReportTasks: sf.tasks,
		Settings: sweep.ORTSettings(ss.maxLength, sf.limit, tokHash), Dir: *out, Shard: shard,
	}
	if !*quiet {
		cc.Progress = func(p sweep.Progress) {
			what := "scored"
			if !p.Scored {
				what = "already done"
			}
			fmt.Fprintf(stderr, "painterc: search: scoring [%d/%d] %s (%s): %s, %s elapsed\n", p.Done, p.Total, p.Variant.Label(), p.Variant.Schedule, what, p.Elapsed.Round(time.Second))
		}
	}
	cc.Scorer = scorer
	cc.Refine = *refine
	cc.ChooseBy = *chooseBy
	if !*quiet {
		cc.Refined = func(round int, f float64, from *search.Candidate, next []*search.Candidate) {
			prog.done()
			fmt.Fprintf(stderr, "painterc: search: refinement round %d at %.2f: %d neighbours of %s to score on the choosing tasks\n", round, f, len(next), from.Schedule)
		}
	}
	entries, chance, err := search.Confirm(ctx, res, cc)
	var wait *search.AwaitingMerge
	if errors.As(err, &wait) {
		fmt.Fprintln(stdout, wait.Error())
		return nil
	}
	if err != nil {
		return sweepError(err)
	}
	if shard.Count > 0 {
		fmt.Fprintf(stdout, "shard %s: both sweeps are merged; rerun without --shard for search.md\n", shard)
		return nil
	}

	sum := &search.Summary{
		Model: filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path), Command: "painterc search " + strings.Join(args, " "),
		Cost: cost, Calibration: fmt.Sprintf("%d windows of %d tokens from %s", len(wins), *length, filepath.Base(*calib)),
		ChooseTasks: taskNames(*chooseTasks), ChooseBy: *chooseBy, ReportTasks: taskNames(sf.tasks), AtChance: chance, Entries: entries,
		Screened: res.Screened, Cached: res.Cached, Halves: useHalves, Beam: *beam, Exports: map[float64][]string{},
	}
	if *latencyTokens > 0 {
		scheds := []string{""}
		for _, e := range sum.Entries {
			scheds = append(scheds, e.Schedule)
		}
		ts, err := latencies(ctx, &sf, ss, m, *boundaries, scheds, wins, *latencyTokens)
		if err != nil {
			return err
		}
		sum.FullLatency = ts[0]
		for i := range sum.Entries {
			sum.Entries[i].Latency = ts[i+1]
		}
	}

	// Everything that can fail before writing is done; the files go
	// through a staging folder, into --out together.
	stage, err := safeio.NewStage(*out)
	if err != nil {
		return fail(exitOutput, err)
	}
	var files safeio.Files
	modelInputs(&files, path, m)
	ss.scoringInputs(&files, path, append(slices.Clone(sf.tasks), *chooseTasks...))
	files.Input("the --calib file", *calib)
	name := *hfName
	if name == "" {
		name = filepath.Base(filepath.Dir(path))
	}
	for _, e := range entries {
		if e.Method != "search" {
			continue
		}
		tag := strconv.FormatFloat(e.Budget, 'f', -1, 64)
		sched, err := schedule.Parse(e.Schedule)
		if err != nil {
			stage.Abort()
			return fail(exitInternal, err)
		}
		lines := []string{fmt.Sprintf("`schedule-%s.txt`: `%s`", tag, e.Schedule)}
		if err := os.WriteFile(stage.Path("schedule-"+tag+".txt"), []byte(e.Schedule+"\n"), 0o644); err != nil {
			stage.Abort()
			return fail(exitOutput, err)
		}
		// An export this schedule cannot have removes an earlier run's
		// file of that name, which would describe another schedule.
		if y, err := search.Mergekit(sched, name, *dtype); err == nil {
			if err := os.WriteFile(stage.Path("mergekit-"+tag+".yml"), []byte(y), 0o644); err != nil {
				stage.Abort()
				return fail(exitOutput, err)
			}
			lines = append(lines, fmt.Sprintf("`mergekit-%s.yml`: mergekit passthrough slices (0-based, end-exclusive layer_range)", tag))
		} else {
			stage.Supersede("mergekit-" + tag + ".yml")
			lines = append(lines, "no mergekit export: "+err.Error())
		}
		if p, err := search.PruneLayers(sched, b.T); err == nil {
			if err := os.WriteFile(stage.Path("prune-layers-"+tag+".txt"), []byte(p+"\n"), 0o644); err != nil {
				stage.Abort()
				return fail(exitOutput, err)
			}
			lines = append(lines, fmt.Sprintf("`prune-layers-%s.txt`: `llama-quantize --prune-layers %s` (0-based block indices)", tag, p))
		} else {
			stage.Supersede("prune-layers-" + tag + ".txt")
			lines = append(lines, "no llama.cpp --prune-layers list: "+err.Error())
		}
		if *noModels {
			stage.Supersede("model-" + tag + ".onnx")
		} else {
			r, err := compile.Run(ctx, compile.Input{Model: m}, compile.Options{Schedule: e.Schedule, Boundaries: *boundaries, Output: stage.Path("model-" + tag + ".onnx")})
			if err != nil {
				stage.Abort()
				return compileError(nil, err)
			}
			r.Close()
			lines = append(lines, fmt.Sprintf("`model-%s.onnx`: the compiled model", tag))
		}
		sum.Exports[e.Budget] = lines
	}
	sum.Wall = time.Since(start)
	if err := sum.Figure(stage.Folder()); err != nil {
		stage.Abort()
		return fail(exitOutput, err)
	}
	if err := os.WriteFile(stage.Path(search.MarkdownFile), []byte(sum.Markdown()), 0o644); err != nil {
		stage.Abort()
		return fail(exitOutput, err)
	}
	js, _ := json.MarshalIndent(entriesJSON(entries, *chooseBy, sum.FullLatency), "", "  ")
	if err := os.WriteFile(stage.Path(search.JSONFile), append(js, '\n'), 0o644); err != nil {
		stage.Abort()
		return fail(exitOutput, err)
	}
	if err := stage.Commit(&files); err != nil {
		return fail(exitOutput, err)
	}
	for _, f := range res.Budgets {
		win, margin := sum.Wins(f)
		verdict := "does not beat"
		if win {
			verdict = "beats"
		}
		for _, e := range entries {
			if e.Method == "search" && e.Budget == f {
				fmt.Fprintf(stdout, "budget %.2f: %s (compute %.3f, median normalized %.3f): the search %s every baseline (margin %+.3f)\n", f, e.Schedule, e.Fraction, e.Report, verdict, margin)
			}
		}
	}
	fmt.Fprintf(stdout, "wrote %s in %s\n", filepath.Join(*out, search.MarkdownFile), sum.Wall.Round(time.Second))
	return nil
}

// screenSalt is what a stored screen depends on besides its schedule: the
// model, the calibration windows, and ONNX Runtime's optimization level
// when it is not screening's default. The level changes the float
// rounding of the KL a screen stores, so screens made at another level
// are not reused; at the default the salt is what it was before the
// level counted, so the stores of earlier runs stay valid.
func screenSalt(modelHash, windowsHash, optLevel string) string {
	salt := modelHash + "\x00" + windowsHash
	if optLevel != "" && optLevel != screen.DefaultOptLevel {
		salt += "\x00opt-level=" + optLevel
	}
	return salt
}

// screenAdapter is package screen's Screener as package search sees it.
type screenAdapter struct{ s *screen.Screener }

func (a screenAdapter) Screen(ctx context.Context, cands []schedule.Schedule) ([]search.Screen, error) {
	rs, err := a.s.Screen(ctx, cands)
	if err != nil {
		return nil, err
	}
	out := make([]search.Screen, len(rs))
	for i, r := range rs {
		out[i] = search.Screen{KL: r.KL, Top1: r.Top1, NLL: r.NLL, Tokens: r.Tokens}
	}
	return out, nil
}

// calibrationWindows tokenizes the texts (with the tokenizer's special
// tokens, as lm-eval's rolling loglikelihood does since 0.4.9.2), joins
// them and cuts the stream into n windows of length tokens.
func calibrationWindows(ss *scoreSetup, texts []string, n, length int) ([][]int, error) {
	var stream []int
	for _, t := range texts {
		if strings.TrimSpace(t) == "" {
			continue
		}
		ids, err := ss.tok.Encode(t, true)
		if err != nil {
			return nil, err
		}
		stream = append(stream, ids...)
		if len(stream) >= n*length {
			break
		}
	}
	if len(stream) < n*length {
		return nil, fmt.Errorf("the text holds %d tokens, fewer than %d windows of %d: lower --calib-windows or --calib-length", len(stream), n, length)
	}
	wins := make([][]int, n)
	for i := range wins {
		wins[i] = stream[i*length : (i+1)*length]
	}
	return wins, nil
}

func hashWindows(wins [][]int) string {
	h := sha256.New()
	for _, w := range wins {
		binary.Write(h, binary.LittleEndian, int64(len(w)))
		for _, id := range w {
			binary.Write(h, binary.LittleEndian, int64(id))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// latencies times one forward pass over the first tokens of the first
// calibration window for each schedule ("" is the full model), through
// the same ONNX Runtime path that scores, and returns each one's fastest
// of nine. The passes go round-robin over the schedules, all sessions
// open at once, so that whatever else the machine does falls on every
// schedule alike: timed one schedule after another, a schedule's median
// moved by a third between reruns on this two-core machine, and a pruned
// model measured slower than the full one.
func latencies(ctx context.Context, sf *scoreFlags, ss *scoreSetup, m *onnx.Model, boundaries []string, scheds []string, wins [][]int, tokens int) ([]time.Duration, error) {
	ids := wins[0]
	for len(ids) < tokens {
		ids = append(slices.Clone(ids), wins[0]...)
	}
	ids = ids[:tokens]
	req := []eval.LLRequest{{Context: ids[:1], Continuation: ids[1:]}}
	type open struct {
		r  *compile.Result
		om interface {
			LogLikelihood(context.Context, []eval.LLRequest, eval.Progress) ([]eval.LLResult, error)
			Close() error
		}
	}
	var models []open
	defer func() {
		for _, o := range models {
			o.om.Close()
			o.r.Close()
		}
	}()
	for _, sched := range scheds {
		o := compile.Options{Schedule: sched, Boundaries: boundaries}
		if sched == "" {
			o = compile.Options{Pass: "identity", Boundaries: boundaries}
		}
		r, err := compile.Run(ctx, compile.Input{Model: m}, o)
		if err != nil {
			return nil, compileError(nil, err)
		}
		om, err := sf.model(r.Model, ss.maxLength)
		if err != nil {
			r.Close()
			return nil, err
		}
		models = append(models, open{r, om})
	}
	best := make([]time.Duration, len(models))
	for round := range 10 {
		for k, o := range models {
			t0 := time.Now()
			if _, err := o.om.LogLikelihood(ctx, req, nil); err != nil {
				return nil, fail(exitRuntime, err)
			}
			// Round 0 warms every session up and is not counted.
			if d := time.Since(t0); round > 0 && (best[k] == 0 || d < best[k]) {
				best[k] = d
			}
		}
	}
	return best, nil
}

func taskNames(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)))
	}
	return out
}

type entryJSON struct {
	Method    string             `json:"method"`
	Budget    float64            `json:"budget"`
	Schedule  string             `json:"schedule"`
	Fraction  float64            `json:"compute_fraction"`
	Median    *float64           `json:"median_normalized"`
	Tasks     map[string]float64 `json:"tasks_normalized"`
	Stderr    map[string]float64 `json:"tasks_normalized_stderr"`
	KL        *float64           `json:"kl,omitempty"`
	Top1      *float64           `json:"top1,omitempty"`
	LatencyMS float64            `json:"latency_ms"`
	ChooseS   float64            `json:"time_to_choose_s"`
	// The search's own entries: how its pick became a finalist, its score
	// on the choosing tasks (by choose_by) and how many candidates those
	// scored.
	Origin      string   `json:"origin,omitempty"`
	ChooseBy    string   `json:"choose_by,omitempty"`
	ChooseScore *float64 `json:"choose_score,omitempty"`
	Scored      int      `json:"choose_scored,omitempty"`
	// Paired is the search's margin over the best baseline, bootstrapped
	// over the reporting documents (search.Paired).
	Paired *pairedJSON `json:"paired_margin,omitempty"`
}

type pairedJSON struct {
	Versus    string  `json:"versus"`
	Low       float64 `json:"low_2_5"`
	High      float64 `json:"high_97_5"`
	Ahead     float64 `json:"search_ahead_share"`
	Resamples int     `json:"resamples"`
}

func entriesJSON(es []search.Entry, chooseBy string, full time.Duration) map[string]any {
	var out []entryJSON
	for _, e := range es {
		j := entryJSON{Method: e.Method, Budget: e.Budget, Schedule: e.Schedule, Fraction: e.Fraction, Tasks: e.Tasks, Stderr: e.Stderr,
			LatencyMS: float64(e.Latency) / 1e6, ChooseS: e.Time.Seconds()}
		if v := e.Report; !math.IsNaN(v) {
			j.Median = &v
		}
		if e.Screen.Tokens > 0 {
			kl, t := e.Screen.KL, e.Screen.Top1
			j.KL, j.Top1 = &kl, &t
		}
		if e.Method == "search" {
			j.Origin, j.Scored, j.ChooseBy = e.Origin, e.Scored, chooseBy
			if p := e.Paired; p != nil {
				j.Paired = &pairedJSON{p.Versus, p.Low, p.High, p.Ahead, p.Resamples}
			}
			if v := e.Choose; !math.IsNaN(v) {
				j.ChooseScore = &v
			}
		}
		out = append(out, j)
	}
	return map[string]any{"full_latency_ms": float64(full) / 1e6, "entries": out}
}

// phaseProgress shows screening progress: a bar per phase on a terminal,
// a line per finished phase otherwise.
type phaseProgress struct {
	w     io.Writer
	quiet bool
	tty   bool
	phase string
	bar   *progressbar.ProgressBar
	last  search.Event
	sum   int // candidates screened in this phase's finished calls
}

func newPhaseProgress(w io.Writer, quiet bool) *phaseProgress {
	p := &phaseProgress{w: w, quiet: quiet}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

func (p *phaseProgress) screened(e search.Event) {
	if p.quiet {
		return
	}
	if e.Phase != p.phase {
		p.done()
		p.phase = e.Phase
		if p.tty {
			p.bar = progressbar.NewOptions(e.Total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription("screening: "+e.Phase),
				progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
		}
	} else if p.last.Done == p.last.Total {
		// A new screening call within the phase (SLEB makes one per block
		// it drops): the last call's candidates are all done.
		p.sum += p.last.Total
		if p.bar != nil {
			p.bar.ChangeMax(p.sum + e.Total)
		}
	}
	p.last = e
	if p.bar != nil {
		p.bar.Set(p.sum + e.Done)
	}
}

func (p *phaseProgress) done() {
	if p.phase == "" {
		return
	}
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
	fmt.Fprintf(p.w, "painterc: search: %s: screened %d candidates (%d distinct so far)\n", p.phase, p.sum+p.last.Total, p.last.Screened)
	p.phase, p.sum, p.last = "", 0, search.Event{}
}
