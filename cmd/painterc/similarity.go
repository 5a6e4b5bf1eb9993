package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/passes"
	"github.com/painterc/painterc/rewrite"
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
	var rf runtimeFlags
	rf.register(fs)
	var pf planFlags
	pf.register(fs)
	task := fs.String("task", "", "task file whose documents are the corpus (a rolling task's text, other kinds' context)")
	text := fs.String("text", "", "plain-text file whose paragraphs (separated by blank lines) are the corpus")
	out := fs.String("out", "", "directory for similarity.csv, block_influence.csv, angular_distance.csv and similarity.png/.svg (created if missing)")
	tok := fs.String("tokenizer", "", "Hugging Face tokenizer.json (default: tokenizer.json beside MODEL)")
	maxLen := fs.Int("max-length", 512, "tokens per document: longer ones keep their first N")
	limit := fs.Int("limit", 0, "use only the first N documents (0: all)")
	suggest := fs.Int("suggest", 0, "print the span of N blocks whose removal changes the last token least (Gromov et al.) and the command that skips it")
	if err := fs.Parse(args); err != nil {
		return fail(exitUsage, err)
	}
	switch {
	case fs.NArg() != 1:
		return failf(exitUsage, "usage: painterc similarity MODEL --task FILE|--text FILE --out DIR [--tokenizer PATH] [--pass=NAME|--schedule=STR]")
	case (*task == "") == (*text == ""):
		return failf(exitUsage, "give the corpus with exactly one of --task FILE (a task file) and --text FILE (plain text)")
	case *out == "":
		return failf(exitUsage, "--out DIR is required: the directory the similarity files go to")
	case *maxLen < 1:
		return failf(exitUsage, "--max-length %d: want at least 1 token", *maxLen)
	case *limit < 0:
		return failf(exitUsage, "--limit %d: want 0 (all documents) or more", *limit)
	case *suggest < 0:
		return failf(exitUsage, "--suggest %d: want a number of blocks, 1 or more", *suggest)
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

	texts, source, err := corpus(*task, *text)
	if err != nil {
		return err
	}
	if *limit > 0 && len(texts) > *limit {
		texts = texts[:*limit]
	}
	tokPath := *tok
	if tokPath == "" {
		tokPath = filepath.Join(filepath.Dir(model), "tokenizer.json")
	}
	docs, err := tokenize(tokPath, *tok == "", texts, *maxLen)
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
	if err := runtime.Init(runtime.Options{LibPath: rf.lib}); err != nil {
		return fail(exitRuntime, err)
	}
	so := runtime.SessionOptions{Device: rf.device, IntraOpThreads: rf.threads, OptLevel: rf.optLevel}
	var p *similarity.Probe
	title := "cosine similarity of residual-stream states: " + filepath.Base(model)
	if variant {
		streams := rewrite.StageStreams(r.Blocks, r.Schedule)
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
	if err := a.Write(*out, title); err != nil {
		return fail(exitOutput, err)
	}
	what := fmt.Sprintf("%d blocks", a.T)
	if variant {
		what = fmt.Sprintf("the %d stages of %s", a.T, r.Schedule)
	}
	fmt.Fprintf(stderr, "painterc: %d documents (%d tokens) from %s through %s; wrote %s, %s, %s and %s.png/.svg to %s\n",
		a.Docs, a.Tokens, source, what, similarity.SimilarityCSV, similarity.InfluenceCSV, similarity.AngularCSV, similarity.HeatmapBase, *out)
	if *suggest > 0 {
		s, err := a.Suggest(*suggest, model, "")
		if err != nil {
			return fail(exitUsage, fmt.Errorf("--suggest: %w", err))
		}
		fmt.Fprintf(stdout, "blocks %d-%d: angular distance %.4f\n%s\n", s.Start, s.End, s.Distance, s.Command)
	}
	return nil
}

// probeError gives a probe's error its exit code: an input the probe
// cannot fill, a missing device or a failed run are ONNX Runtime's side
// (exit 7), not a bug.
func probeError(err error) error { return fail(exitRuntime, err) }

// corpus reads the documents' texts: a task file's (the rolling kind's
// text, the others' context, a classification's text), or a plain-text
// file's paragraphs. It returns them and a name for messages.
func corpus(task, text string) ([]string, string, error) {
	if task != "" {
		t, err := eval.LoadTask(task)
		if err != nil {
			return nil, "", fail(exitUsage, fmt.Errorf("--task: %w", err))
		}
		var out []string
		for _, d := range t.Docs {
			s := d.Context
			if d.Text != "" {
				s = d.Text
				if d.HasPair {
					s += " " + d.Pair
				}
			}
			out = append(out, s)
		}
		return out, "task " + t.Name, nil
	}
	b, err := os.ReadFile(text)
	if err != nil {
		return nil, "", fail(exitUsage, fmt.Errorf("--text: %w", err))
	}
	var out []string
	for _, p := range paragraphs.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), -1) {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out, text, nil
}

// paragraphs separates paragraphs: a line break, blank lines (spaces
// allowed), and another line break.
var paragraphs = regexp.MustCompile(`\n[ \t]*\n\s*`)

// tokenize encodes each text with the tokenizer's special tokens (a
// leading BOS where it adds one), keeping the first maxLen ids; empty
// documents are dropped.
func tokenize(path string, defaulted bool, texts []string, maxLen int) ([][]int, error) {
	tk, err := tokenizer.Load(path)
	if err != nil {
		if defaulted && errors.Is(err, fs.ErrNotExist) {
			return nil, failf(exitUsage, "no tokenizer: %s does not exist; give --tokenizer PATH (a Hugging Face tokenizer.json)", path)
		}
		return nil, fail(exitUsage, fmt.Errorf("--tokenizer: %w", err))
	}
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
