package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/rewrite"
)

// compileOptions are the rewrite's flags, shared by cmdCompile and --help.
type compileOptions struct {
	fs                               *pflag.FlagSet
	plan                             planFlags
	out, dump                        *string
	external, noSync, quiet, verbose *bool
}

func compileFlags() *compileOptions {
	c := &compileOptions{fs: pflag.NewFlagSet("painterc", pflag.ContinueOnError)}
	fs := c.fs
	c.plan.register(fs)
	c.out = fs.StringP("output", "o", "", "where to write the rewritten model (required unless --dump is given)")
	c.external = fs.Bool("external-data", false, "store weights in a data file beside the output (automatic past 2 GiB)")
	c.noSync = fs.Bool("no-fsync", false, "skip the fsync before the output is renamed into place: faster for throwaway variants, but an OS crash may leave it truncated")
	c.dump = fs.String("dump", "", "print the graph at a phase: blocks, schedule or lowered")
	c.quiet = fs.BoolP("quiet", "q", false, "do not print what painterc decided")
	c.verbose = fs.BoolP("verbose", "v", false, "also print what block detection noticed (nodes whose scope and dataflow disagree)")
	return c
}

// cmdCompile is painterc's main job, one path for the data:
// decode → Verify → Detect → schedule → Lower → Verify → encode.
func cmdCompile(args []string, stdout, stderr io.Writer) error {
	cf := compileFlags()
	fs, pf := cf.fs, &cf.plan
	out, external, noSync, dump, quiet, verbose := cf.out, cf.external, cf.noSync, cf.dump, cf.quiet, cf.verbose
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
	switch *dump {
	case "", "blocks", "schedule", "lowered":
	default:
		return failf(exitUsage, "--dump=%s: want blocks, schedule or lowered", *dump)
	}
	in := fs.Arg(0)
	if *out == "" && *dump == "" {
		return failf(exitUsage, "no output: add -o OUT.onnx")
	}
	if *out != "" {
		if err := checkOutputPath(in, *out); err != nil {
			return err
		}
	}
	note := func(format string, a ...any) {
		if !*quiet {
			fmt.Fprintf(stderr, "painterc: "+format+"\n", a...)
		}
	}

	m, b, err := loadAndDetect(in, pf.boundaries)
	if err != nil {
		return err
	}
	defer m.Close()
	if *verbose {
		for _, n := range b.Notes {
			note("%s", n)
		}
	}
	if *dump == "blocks" {
		fmt.Fprint(stdout, rewrite.DumpBlocks(m.Graph, b))
	}
	s, prov, notes, err := pf.resolve(fs, b.T)
	if err != nil {
		return err
	}
	for _, n := range notes {
		note("%s", n)
	}
	note("%d blocks (found by %s); schedule %s", b.T, b.Method, s)
	if *dump == "schedule" {
		fmt.Fprintln(stdout, s)
	}
	lowered, err := rewrite.Lower(m, b, s, prov)
	if err != nil {
		return fail(exitInternal, fmt.Errorf("%s: lowering schedule %s: %w\nthis is a bug in painterc: please report it with the command line and the output of `painterc inspect %s`", in, s, err, in))
	}
	if *dump == "lowered" {
		fmt.Fprint(stdout, rewrite.Dump(lowered))
	}
	if *out == "" {
		return nil
	}
	// Read genai_config.json before writing anything, so that a bad one
	// leaves no output behind.
	cfgPath, cfg, err := genAIConfig(in, *out, len(s.Instances()))
	if err != nil {
		return fail(exitOutput, err)
	}
	var saveNotes []string
	if err := onnx.Save(*out, lowered, onnx.SaveOptions{ExternalData: *external, NoSync: *noSync, Notes: &saveNotes}); err != nil {
		return fail(exitOutput, explainSave(err))
	}
	for _, n := range saveNotes {
		note("%s", n)
	}
	if cfg == nil && cfgPath != "" {
		note("%s was left as it is (painterc never edits its input's files), so it still describes the original model; write the output to another directory to get a copy with num_hidden_layers = %d", cfgPath, len(s.Instances()))
	}
	if cfg != nil {
		if err := writeFileAtomic(cfgPath, cfg); err != nil {
			return fail(exitOutput, explainSave(fmt.Errorf("%s was written, but not %s: %w", *out, cfgPath, err)))
		}
	}
	note("wrote %s (%d block instances)", *out, len(s.Instances()))
	return nil
}

// loadAndDetect decodes a model, checks it, and finds its blocks.
func loadAndDetect(path string, boundaries []string) (*onnx.Model, *rewrite.Blocks, error) {
	m, err := loadModel(path)
	if err != nil {
		return nil, nil, err
	}
	if err := rewrite.Verify("decode", m); err != nil {
		m.Close()
		var ve *rewrite.VerifyError
		if errors.As(err, &ve) {
			return nil, nil, fail(exitModel, invalidGraph(path, ve))
		}
		return nil, nil, fail(exitModel, fmt.Errorf("%s: %w", path, err))
	}
	b, err := rewrite.Detect(m.Graph, rewrite.DetectOptions{Boundaries: boundaries})
	if err != nil {
		m.Close()
		return nil, nil, fail(exitBlocks, fmt.Errorf("%s: %w", path, err))
	}
	return m, b, nil
}

// checkOutputPath refuses to write over the input or into a directory that
// does not exist, before any work is done.
func checkOutputPath(in, out string) error {
	if st, err := os.Stat(out); err == nil {
		if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
			return failf(exitOutput, "-o %s is the input model: painterc never modifies its input; choose another output path", out)
		}
		if st.IsDir() {
			return failf(exitOutput, "-o %s is a directory: give a file name such as %s", out, filepath.Join(out, "model.onnx"))
		}
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

// genAIConfig returns onnxruntime-genai's config for the output, updated
// for the new number of cache slots, and where it goes, when the input has
// one beside it and the output goes to another directory (painterc never
// edits files next to its input). When the output shares the input's
// directory it returns the input's config path with a nil config, so the
// caller can say the config was left alone; with no config, nothing.
func genAIConfig(in, out string, slots int) (string, []byte, error) {
	src := filepath.Join(filepath.Dir(in), "genai_config.json")
	data, err := os.ReadFile(src)
	if err != nil {
		return "", nil, nil
	}
	inDir, _ := filepath.Abs(filepath.Dir(in))
	outDir, _ := filepath.Abs(filepath.Dir(out))
	if inDir == outDir {
		return src, nil, nil // left alone: the caller says so
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", nil, fmt.Errorf("%s: %v; fix it or move it away from the model (painterc updates its layer count for the output)", src, err)
	}
	model, _ := cfg["model"].(map[string]any)
	decoder, _ := model["decoder"].(map[string]any)
	if decoder == nil {
		return "", nil, fmt.Errorf("%s has no model.decoder section; cannot record the new layer count %d", src, slots)
	}
	decoder["num_hidden_layers"] = slots
	if _, ok := decoder["filename"]; ok {
		decoder["filename"] = filepath.Base(out)
	}
	enc, err := json.MarshalIndent(cfg, "", "    ")
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(outDir, "genai_config.json"), append(enc, '\n'), nil
}

func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".painterc-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
