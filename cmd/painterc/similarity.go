package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/passes"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/similarity"
	"github.com/painterc/painterc/tokenizer"
)

// cmdSimilarity measures how the residual stream changes block by block
// over a corpus (package similarity) and writes the matrix, the Block
// Influence, the angular distances and the heatmap into --out.
func cmdSimilarity(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("painterc similarity", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf scoreFlags
	sf.register(fs)
	var pf planFlags
	pf.register(fs)
	text := fs.String("text", "", "plain-text file whose paragraphs (separated by blank lines) are documents of the corpus")
	out := fs.String("out", "", "directory for similarity.csv, block_influence.csv, angular_distance.csv and similarity.png/.svg (created if missing)")
	suggest := fs.Int("suggest", 0, "print the span of N blocks whose removal changes the last token least (Gromov et al.) and the command that skips it")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: painterc similarity MODEL --task FILE|--text FILE --out DIR [--suggest N] [--pass=NAME | --schedule=S] [flags]\n\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		return fail(exitUsage, err)
	}
	switch {
	case fs.NArg() != 1:
		return failf(exitUsage, "want exactly one model, got %d arguments; usage: painterc similarity MODEL --task FILE|--text FILE --out DIR", fs.NArg())
	case len(sf.tasks) == 0 && *text == "":
		return failf(exitUsage, "no corpus: give --task FILE (a task file; repeat for several) or --text FILE (plain text)")
	case *out == "":
		return failf(exitUsage, "--out DIR is required: the directory the similarity files go to")
	case fs.Changed("batch-size"):
		return failf(exitUsage, "--batch-size: similarity runs one document at a time (no padding to leave out); drop the flag")
	case *suggest < 0:
		return failf(exitUsage, "--suggest %d: want a number of blocks, 1 or more", *suggest)
	}
	if err := safeio.OutDir("--out", *out); err != nil {
		return fail(exitOutput, err)
	}
	model := fs.Arg(0)
	variant := pf.pass != "" || pf.schedule != ""
	o := compile.Options{Boundaries: pf.boundaries, Until: "detect"}
	if variant {
		if *suggest > 0 {
			return failf(exitUsage, "--suggest picks blocks of the model itself; drop --pass/--schedule to use it")
		}
		var err error
		if o, err = pf.options(fs); err != nil {
			return err
		}
	} else {
		for _, pm := range passes.Params {
			if fs.Changed(pm.Name) {
				return failf(exitUsage, "--%s applies to --pass; give --pass=NAME to probe a variant, or drop --%s", pm.Name, pm.Name)
			}
		}
	}
	ss, err := sf.setup(model, false)
	if err != nil {
		return err
	}
	texts, source, err := corpus(ss.tasks, *text, sf.limit)
	if err != nil {
		return err
	}
	docs, err := tokenize(ss.tok, texts, ss.maxLength)
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		return failf(exitUsage, "%s: no non-empty document to analyse", source)
	}

	r, err := compile.Run(context.Background(), compile.Input{Path: model}, o)
	if err != nil {
		return compileError(&pf, err)
	}
	defer r.Close()
	// The files go into --out at the end: check now that none lands on an
	// input or goes through a link.
	var files safeio.Files
	modelInputs(&files, model, r.Input)
	ss.scoringInputs(&files, model, sf.tasks)
	files.Input("the --text file", *text)
	if err := files.OutputIn(*out, similarity.Files()...); err != nil {
		return fail(exitOutput, err)
	}
	if err := runtime.Init(runtime.Options{LibPath: sf.rt.lib}); err != nil {
		return fail(exitRuntime, err)
	}
	so := runtime.SessionOptions{Device: sf.rt.device, IntraOpThreads: sf.rt.threads, OptLevel: sf.rt.optLevel}
	var p *similarity.Probe
	title := "cosine similarity of residual-stream states: " + filepath.Base(model)
	if variant {
		streams := r.Streams
		if streams == nil {
			return failf(exitBlocks, "%s: the blocks live inside an If node (a merged decoder), whose hidden states cannot be graph outputs; analyse decoder_model.onnx instead", model)
		}
		p, err = similarity.NewProbeStreams(r.Model, streams, model, so)
		title = fmt.Sprintf("stage states of %s, %s", filepath.Base(model), r.Schedule)
	} else {
		p, err = similarity.NewProbe(r.Input, r.Blocks, model, so)
	}
	if err != nil {
		return probeError(err)
	}
	defer p.Close()
	a, err := p.Analyze(docs)
	if err != nil {
		return probeError(err)
	}
	// Everything that can fail is done before the files are written, and
	// they appear in --out together or not at all.
	var sug similarity.Suggestion
	if *suggest > 0 {
		if sug, err = a.Suggest(*suggest, model, ""); err != nil {
			return fail(exitUsage, fmt.Errorf("--suggest: %w", err))
		}
	}
	stage, err := safeio.NewStage(*out)
	if err != nil {
		return fail(exitOutput, fmt.Errorf("--out %s: %w", *out, err))
	}
	if err := a.Write(stage.Folder(), title); err != nil {
		stage.Abort()
		return fail(exitOutput, fmt.Errorf("--out %s: %w", *out, err))
	}
	if err := stage.Commit(&files); err != nil {
		return fail(exitOutput, err)
	}
	what := fmt.Sprintf("%d blocks", a.T)
	if variant {
		what = fmt.Sprintf("the %d stages of %s", a.T, r.Schedule)
	}
	fmt.Fprintf(stderr, "painterc: %d documents (%d tokens) from %s through %s; wrote %s, %s, %s and %s.png/.svg to %s\n",
		a.Docs, a.Tokens, source, what, similarity.SimilarityCSV, similarity.InfluenceCSV, similarity.AngularCSV, similarity.HeatmapBase, *out)
	if *suggest > 0 {
		fmt.Fprintf(stdout, "blocks %d-%d: angular distance %.4f\n%s\n", sug.Start, sug.End, sug.Distance, sug.Command)
	}
	return nil
}

// probeError gives a probe's error its exit code: an input the probe
// cannot fill, a missing device or a failed run are ONNX Runtime's side
// (exit 7), not a bug.
func probeError(err error) error { return fail(exitRuntime, err) }

// corpus gathers the documents' texts: each task's (the rolling kind's
// text, a classification's text and pair, the other kinds' context), then
// the plain-text file's paragraphs; limit, when positive, keeps each
// source's first limit documents. It returns them and a name for messages.
func corpus(tasks []*eval.Task, text string, limit int) ([]string, string, error) {
	var out, names []string
	keep := func(docs []string) []string {
		if limit > 0 && len(docs) > limit {
			return docs[:limit]
		}
		return docs
	}
	for _, t := range tasks {
		var docs []string
		for _, d := range t.Docs {
			s := d.Context
			if d.Text != "" {
				s = d.Text
				if d.HasPair {
					s += " " + d.Pair
				}
			}
			docs = append(docs, s)
		}
		out = append(out, keep(docs)...)
		names = append(names, "task "+t.Name)
	}
	if text != "" {
		b, err := safeio.ReadFile(text)
		if err != nil {
			return nil, "", fail(exitUsage, fmt.Errorf("--text: %w", err))
		}
		var docs []string
		for _, p := range paragraphs.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), -1) {
			if strings.TrimSpace(p) != "" {
				docs = append(docs, p)
			}
		}
		out = append(out, keep(docs)...)
		names = append(names, text)
	}
	return out, strings.Join(names, ", "), nil
}

// paragraphs separates paragraphs: a line break, blank lines (spaces
// allowed), and another line break.
var paragraphs = regexp.MustCompile(`\n[ \t]*\n\s*`)

// tokenize encodes each text with the tokenizer's special tokens (a
// leading BOS where it adds one), keeping the first maxLen ids; empty
// documents are dropped.
func tokenize(tk *tokenizer.Tokenizer, texts []string, maxLen int) ([][]int, error) {
	var docs [][]int
	for i, s := range texts {
		if strings.TrimSpace(s) == "" {
			continue
		}
		ids, err := tk.Encode(s, true)
		if err != nil {
			return nil, fail(exitUsage, fmt.Errorf("document %d: %w", i+1, err))
		}
		if len(ids) > maxLen {
			ids = ids[:maxLen]
		}
		if len(ids) > 0 {
			docs = append(docs, ids)
		}
	}
	return docs, nil
}
