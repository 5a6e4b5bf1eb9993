package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/internal/safeio"
)

// gitHash is the commit painterc was built from, short as `git describe
// --always` gives it (lm-eval's git_hash); empty when the build has no
// record of it (go test, or a build outside a repository).
func gitHash() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 7 {
			return s.Value[:7]
		}
	}
	return ""
}

// cmdScore scores a model, or a variant of it compiled in memory, on task
// files the way lm-evaluation-harness does.
func cmdScore(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("painterc score", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf scoreFlags
	sf.register(fs)
	var pf planFlags
	pf.register(fs)
	output := fs.String("output", "", "write the results as lm-eval's results JSON to this file")
	samples := fs.String("log-samples", "", "write one JSON line per document (its requests' log-likelihoods, the generation, ...) to this file")
	lmSamples := fs.String("lm-eval-samples", "", "also write lm-eval's own samples files into this folder: samples_{task}_{date}.jsonl, a line per document and filter, as lm-eval --log_samples writes them")
	asJSON := fs.Bool("json", false, "print the results JSON on stdout instead of the table")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: painterc score MODEL --task FILE [--task FILE ...] [--pass=NAME | --schedule=S] [flags]\n\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		return fail(exitUsage, err)
	}
	if fs.NArg() != 1 {
		return failf(exitUsage, "want exactly one model, got %d arguments; usage: painterc score MODEL --task FILE", fs.NArg())
	}
	path := fs.Arg(0)
	if err := checkWritable("--output", *output); err != nil {
		return err
	}
	if err := checkWritable("--log-samples", *samples); err != nil {
		return err
	}
	if err := checkWritableDir("--lm-eval-samples", *lmSamples); err != nil {
		return err
	}
	ss, err := sf.setup(path, true)
	if err != nil {
		return err
	}
	// With a pass or a schedule, compile the variant in memory; without,
	// score the model as it is (decoded and verified, not rewritten).
	o := compile.Options{Until: "decode"}
	if pf.pass != "" || pf.schedule != "" {
		if o, err = pf.options(fs); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	r, err := compile.Run(ctx, compile.Input{Path: path}, o)
	if err != nil {
		return compileError(&pf, err)
	}
	defer r.Close()
	// The outputs are written after scoring: make sure now that neither
	// lands on an input or on the other.
	var files safeio.Files
	modelInputs(&files, path, r.Input)
	ss.scoringInputs(&files, path, sf.tasks)
	if err := files.Output("--output", *output); err != nil {
		return fail(exitOutput, err)
	}
	if err := files.Output("--log-samples", *samples); err != nil {
		return fail(exitOutput, err)
	}
	m, schedule, pass := r.Input, "", ""
	if r.Model != nil {
		m, schedule, pass = r.Model, r.Schedule.String(), r.Provenance.Pass
		for _, n := range r.Notes {
			fmt.Fprintln(stderr, "painterc:", n)
		}
	}
	om, err := sf.model(m, ss.maxLength)
	if err != nil {
		return err
	}
	defer om.Close()
	config := map[string]any{
		"model": path, "tokenizer": ss.tokenizerPath, "schedule": schedule, "pass": pass,
		"max_length": ss.maxLength, "batch_size": sf.batchSize, "device": sf.rt.device, "limit": sf.limit,
	}
	res, err := ss.evaluate(ctx, om, eval.Options{Limit: sf.limit, Config: config, ModelName: path, GitHash: gitHash()}, stderr)
	if err != nil {
		return err
	}
	for _, t := range res.Tasks {
		for _, n := range t.Notes {
			fmt.Fprintf(stderr, "painterc: %s: %s\n", t.Name, n)
		}
	}
	if *output != "" {
		if err := writeAtomic(*output, res.WriteJSON); err != nil {
			return fail(exitOutput, explainSave(err))
		}
	}
	if *samples != "" {
		if err := writeAtomic(*samples, res.WriteSamples); err != nil {
			return fail(exitOutput, explainSave(err))
		}
	}
	if *lmSamples != "" {
		// lm-eval names the files after the time its results are saved,
		// an ISO time with ':' as '-'.
		date := time.Now().Format("2006-01-02T15-04-05.000000")
		for _, t := range res.Tasks {
			p := filepath.Join(*lmSamples, eval.LMEvalSamplesName(t.Name, date))
			if err := writeAtomic(p, t.WriteLMEvalSamples); err != nil {
				return fail(exitOutput, explainSave(err))
			}
		}
	}
	if *asJSON {
		return res.WriteJSON(stdout)
	}
	return res.WriteTable(stdout)
}
