package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/internal/fault"
	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/runtime"
)

// compileOptions are the rewrite's flags, shared by cmdCompile and --help.
type compileOptions struct {
	fs                               *pflag.FlagSet
	plan                             planFlags
	out, dump                        *string
	external, noSync, quiet, verbose *bool
	timings                          *bool
	ortOptimize, ortLib              *string
}

func compileFlags() *compileOptions {
	c := &compileOptions{fs: pflag.NewFlagSet("painterc", pflag.ContinueOnError)}
	fs := c.fs
	c.plan.register(fs)
	c.out = fs.StringP("output", "o", "", "where to write the rewritten model (required unless --dump is given)")
	c.external = fs.Bool("external-data", false, "store weights in a data file beside the output (automatic past 2 GiB)")
	c.noSync = fs.Bool("no-fsync", false, "skip the fsync before the output is renamed into place: faster for throwaway variants, but an OS crash may leave it truncated")
	c.dump = fs.String("dump", "", "print the graph after a phase: "+orList(compile.Dumps()))
	c.quiet = fs.BoolP("quiet", "q", false, "do not print what painterc decided")
	c.timings = fs.Bool("timings", false, "print each phase's wall time (its check included) to stderr")
	c.verbose = fs.BoolP("verbose", "v", false, "also print what block detection noticed (nodes whose scope and dataflow disagree)")
	c.ortOptimize = fs.String("ort-optimize", "", "write the rewrite as ONNX Runtime's optimizer leaves it, at level extended or all: faster to load, but tied to ONNX Runtime (its fused contrib ops; onnx.checker rejects it)")
	c.ortLib = fs.String("ort-lib", "", "ONNX Runtime library for --ort-optimize (default: $"+runtime.LibraryEnv+", then "+runtime.DefaultLibrary+")")
	return c
}

// cmdCompile is painterc's main job: the compile pipeline (package
// compile) from the input file to the output file.
func cmdCompile(args []string, stdout, stderr io.Writer) error {
	cf := compileFlags()
	fs, pf := cf.fs, &cf.plan
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: painterc --pass=NAME [flags] MODEL -o OUT\n\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return fail(exitUsage, err)
	}
	if fs.NArg() != 1 {
		return failf(exitUsage, "want exactly one input model, got %d arguments; usage: painterc --pass=NAME MODEL -o OUT", fs.NArg())
	}
	if *cf.dump != "" && !slices.Contains(compile.Dumps(), *cf.dump) {
		return failf(exitUsage, "--dump=%s: want %s", *cf.dump, orList(compile.Dumps()))
	}
	in, out := fs.Arg(0), *cf.out
	if out == "" && *cf.dump == "" {
		return failf(exitUsage, "no output: add -o OUT.onnx")
	}
	if out != "" {
		if err := checkOutputPath(in, out); err != nil {
			return err
		}
	}
	switch *cf.ortOptimize {
	case "", "extended", "all":
	default:
		return failf(exitUsage, "--ort-optimize=%s: want extended or all", *cf.ortOptimize)
	}
	if *cf.ortOptimize != "" && out == "" {
		return failf(exitUsage, "--ort-optimize rewrites the output: add -o OUT.onnx")
	}
	o, err := pf.options(fs)
	if err != nil {
		return err
	}
	note := func(format string, a ...any) {
		if !*cf.quiet {
			fmt.Fprintf(stderr, "painterc: "+format+"\n", a...)
		}
	}
	// Read genai_config.json before writing anything, so that a bad one
	// leaves no output behind. Its layer count is known only after
	// planning, so it is checked here and written after the save.
	var genai *genAIConfig
	if out != "" {
		if genai, err = readGenAIConfig(in, out); err != nil {
			return fail(exitOutput, err)
		}
	}
	o.Output, o.Save = out, onnx.SaveOptions{ExternalData: *cf.external, NoSync: *cf.noSync}
	o.Dump, o.DumpTo = *cf.dump, stdout
	r, err := compile.Run(context.Background(), compile.Input{Path: in}, o)
	if err != nil {
		return compileError(pf, err)
	}
	defer r.Close()
	if *cf.verbose {
		for _, n := range r.DetectNotes {
			note("%s", n)
		}
	}
	if *cf.timings {
		printTimings(stderr, r.Timings)
	}
	for _, n := range r.Notes {
		note("%s", n)
	}
	slots := len(r.Schedule.Instances())
	note("%d blocks (found by %s); schedule %s", r.Blocks.T, r.Blocks.Method, r.Schedule)
	if out == "" {
		return nil
	}
	if *cf.ortOptimize != "" {
		// ORT keeps external weights where they are (the output's data
		// file, or the input's), so only the .onnx file is replaced.
		if err := ortOptimize(out, *cf.ortOptimize, *cf.ortLib, !*cf.noSync); err != nil {
			os.Remove(out)
			return err
		}
		note("ONNX Runtime optimized %s at level %s: it now runs on ONNX Runtime only", out, *cf.ortOptimize)
	}
	switch {
	case genai == nil:
	case genai.data == nil:
		note("%s was left as it is (painterc never edits its input's files), so it still describes the original model; write the output to another directory to get a copy with num_hidden_layers = %d", genai.path, slots)
	default:
		data, err := genai.withSlots(r.Schedule.Instances(), out)
		if err == nil {
			err = onnx.WriteFileAtomic(genai.path, data, !*cf.noSync)
		}
		if err != nil {
			return fail(exitOutput, explainSave(fmt.Errorf("%s was written, but not %s: %w", out, genai.path, err)))
		}
	}
	note("wrote %s (%d block instances)", out, slots)
	return nil
}

// compileError gives a pipeline error its exit code, from its kind, and
// the hint for the user, from its kind and type.
func compileError(pf *planFlags, err error) error {
	var ce *compile.Error
	if !errors.As(err, &ce) {
		return failByKind(err)
	}
	switch fault.KindOf(ce) {
	case fault.Model:
		var ve *rewrite.VerifyError
		if errors.As(ce.Err, &ve) {
			return fail(exitModel, invalidGraph(ce.Path, ve))
		}
		return fail(exitModel, explainLoad(ce.Err))
	case fault.Blocks:
		return fail(exitBlocks, ce)
	case fault.Schedule:
		if pf == nil {
			return fail(exitSchedule, ce.Err)
		}
		return pf.planError(ce.Err)
	case fault.Output:
		return fail(exitOutput, explainSave(ce.Err))
	}
	return fail(exitInternal, fmt.Errorf("%w\nthis is a bug in painterc: please report it with the command line and the output of `painterc inspect %s`", ce, ce.Path))
}

// printTimings writes one line per phase, for --timings.
func printTimings(w io.Writer, ts []compile.Timing) {
	var total time.Duration
	for _, t := range ts {
		fmt.Fprintf(w, "painterc: phase %-7s %9.3f ms\n", t.Phase, float64(t.Time.Microseconds())/1000)
		total += t.Time
	}
	fmt.Fprintf(w, "painterc: total         %9.3f ms\n", float64(total.Microseconds())/1000)
}

func orList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// checkOutputPath refuses to write over the input (or through a link) or
// into a directory that does not exist, before any work is done. (Save
// itself refuses the input's external data files, which are known once
// the model is decoded.)
func checkOutputPath(in, out string) error {
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return failf(exitOutput, "-o %s is a directory: give a file name such as %s", out, filepath.Join(out, "model.onnx"))
	}
	var files safeio.Files
	files.Input("the input model", in)
	files.Input("the input's genai_config.json", filepath.Join(filepath.Dir(in), "genai_config.json"))
	if err := files.Output("-o", out); err != nil {
		return fail(exitOutput, err)
	}
	dir := filepath.Dir(out)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return failf(exitOutput, "cannot write %s: directory %s does not exist", out, dir)
	}
	// Fail now, not after the work, when the directory takes no new files.
	// Save writes a temporary file there and renames it, so try exactly that.
	f, err := os.CreateTemp(dir, ".painterc-probe-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return failf(exitOutput, "cannot write %s: cannot create files in directory %s: %v; choose an output directory you can write to", out, dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// genAIConfig is onnxruntime-genai's genai_config.json beside the input,
// and where its copy for the output goes. data is nil when the output
// shares the input's directory: painterc never edits files next to its
// input, so the caller says the config was left alone.
type genAIConfig struct {
	path string
	data map[string]any
	// sliding marks the layers model.decoder.sliding_window.layers lists,
	// nil when it lists none.
	sliding map[int]bool
}

// readGenAIConfig reads the config beside in, if there is one, and checks
// that painterc can update it.
func readGenAIConfig(in, out string) (*genAIConfig, error) {
	src := filepath.Join(filepath.Dir(in), "genai_config.json")
	data, err := safeio.ReadFile(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w; move it away from the model, or make it a file (painterc updates its layer count for the output)", err)
	}
	// The same directory by identity, not by spelling: through a link or
	// "./", the output's config would replace the input's.
	outDir, _ := filepath.Abs(filepath.Dir(out))
	ia, err1 := os.Stat(filepath.Dir(in))
	oa, err2 := os.Stat(outDir)
	if err1 != nil || err2 != nil || os.SameFile(ia, oa) {
		return &genAIConfig{path: src}, nil
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %v; fix it or move it away from the model (painterc updates its layer count for the output)", src, err)
	}
	model, _ := cfg["model"].(map[string]any)
	decoder, _ := model["decoder"].(map[string]any)
	if decoder == nil {
		return nil, fmt.Errorf("%s has no model.decoder section; cannot record the output's layer count", src)
	}
	c := &genAIConfig{path: filepath.Join(outDir, "genai_config.json"), data: cfg}
	if sw, ok := decoder["sliding_window"].(map[string]any); ok {
		if layers, ok := sw["layers"]; ok {
			list, isList := layers.([]any)
			if !isList {
				return nil, fmt.Errorf("%s: model.decoder.sliding_window.layers is %v, not a list of layer indices; fix it or move it away from the model", src, layers)
			}
			c.sliding = map[int]bool{}
			for _, x := range list {
				f, ok := x.(float64)
				if !ok || f != float64(int(f)) || f < 0 {
					return nil, fmt.Errorf("%s: model.decoder.sliding_window.layers holds %v, not a layer index; fix it or move it away from the model", src, x)
				}
				c.sliding[int(f)] = true
			}
		}
	}
	return c, nil
}

// withSlots returns the config for an output whose cache slot k belongs
// to block slots[k]: num_hidden_layers is the number of slots, and
// sliding_window.layers (the builder lists the sliding-window layers of
// Gemma-style models there, and onnxruntime-genai gives exactly those a
// bounded cache) lists the slots whose block slides.
func (c *genAIConfig) withSlots(slots []int, out string) ([]byte, error) {
	decoder := c.data["model"].(map[string]any)["decoder"].(map[string]any)
	decoder["num_hidden_layers"] = len(slots)
	if _, ok := decoder["filename"]; ok {
		decoder["filename"] = filepath.Base(out)
	}
	if c.sliding != nil {
		renumbered := []any{}
		for k, blk := range slots {
			if c.sliding[blk] {
				renumbered = append(renumbered, k)
			}
		}
		decoder["sliding_window"].(map[string]any)["layers"] = renumbered
	}
	enc, err := json.MarshalIndent(c.data, "", "    ")
	if err != nil {
		return nil, err
	}
	return append(enc, '\n'), nil
}

// verifyOptimized decodes the model ONNX Runtime's optimizer wrote and
// runs rewrite.Verify on it. Its external data, if any, is not read:
// Verify checks the graph, not the weights.
func verifyOptimized(data []byte) error {
	m, err := onnx.Decode(data)
	if err != nil {
		return fmt.Errorf("ONNX Runtime wrote a model painterc cannot decode: %w", err)
	}
	return rewrite.Verify("ONNX Runtime's optimizer", m)
}

// ortOptimize replaces the model at path with what ONNX Runtime's graph
// optimizer makes of it at level (a session with
// SetOptimizedModelFilePath), written atomically like every output.
func ortOptimize(path, level, lib string, sync bool) error {
	if err := runtime.Init(runtime.Options{LibPath: lib}); err != nil {
		return fail(exitRuntime, fmt.Errorf("--ort-optimize: %w", err))
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".painterc-ort-*.onnx")
	if err != nil {
		return fail(exitOutput, explainSave(err))
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	s, err := runtime.NewSession(path, runtime.SessionOptions{OptLevel: level, OptimizedModelPath: tmp.Name()})
	if err != nil {
		return fail(exitRuntime, fmt.Errorf("--ort-optimize: ONNX Runtime cannot load the rewrite %s: %w", path, err))
	}
	s.Close()
	data, err := os.ReadFile(tmp.Name())
	if err == nil && len(data) == 0 {
		err = fmt.Errorf("ONNX Runtime wrote an empty optimized model")
	}
	if err == nil {
		// ORT's edits are checked like painterc's own phases' before they
		// replace the output.
		if verr := verifyOptimized(data); verr != nil {
			return fail(exitRuntime, fmt.Errorf("--ort-optimize: %w", verr))
		}
	}
	if err == nil {
		err = onnx.WriteFileAtomic(path, data, sync)
	}
	if err != nil {
		return fail(exitOutput, explainSave(fmt.Errorf("--ort-optimize: %w", err)))
	}
	return nil
}
