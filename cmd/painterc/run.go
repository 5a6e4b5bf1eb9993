package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/runtime/npy"
)

// runtimeFlags select and configure ONNX Runtime; every command that runs a
// model shares them.
type runtimeFlags struct {
	lib      string
	device   string
	threads  int
	optLevel string
}

func (r *runtimeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&r.lib, "ort-lib", "", "ONNX Runtime 1.24 library (default: $"+runtime.LibraryEnv+", then "+runtime.DefaultLibrary+" from `make ort`)")
	fs.StringVar(&r.device, "device", "cpu", "execution device: cpu or cuda")
	fs.IntVar(&r.threads, "threads", 0, "intra-op threads (0: ONNX Runtime's default)")
	fs.StringVar(&r.optLevel, "opt-level", "all", "graph optimization: disable, basic, extended or all")
}

// open initializes ONNX Runtime and loads a model into a session.
func (r *runtimeFlags) open(model string) (*runtime.Session, error) {
	if err := runtime.Init(runtime.Options{LibPath: r.lib}); err != nil {
		return nil, fail(exitRuntime, err)
	}
	s, err := runtime.NewSession(model, runtime.SessionOptions{Device: r.device, IntraOpThreads: r.threads, OptLevel: r.optLevel})
	if err != nil {
		if errors.Is(err, runtime.ErrDevice) {
			return nil, fail(exitRuntime, err)
		}
		return nil, fail(exitRuntime, fmt.Errorf("%s: %w", model, err))
	}
	return s, nil
}

// cmdRun runs a model on ONNX Runtime with inputs from .npy files and
// writes every output as .npy (or prints a summary without --out).
func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("painterc run", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var rf runtimeFlags
	rf.register(fs)
	inputs := fs.StringArrayP("input", "i", nil, "NAME=FILE.npy, once per model input")
	outDir := fs.String("out", "", "directory to write OUTPUT.npy files into (created if missing)")
	compare := fs.String("compare", "", "directory of OUTPUT.npy files (from an earlier --out) to compare each output with")
	if err := fs.Parse(args); err != nil {
		return fail(exitUsage, err)
	}
	if fs.NArg() != 1 {
		return failf(exitUsage, "usage: painterc run MODEL --input NAME=FILE.npy ... [--out DIR]")
	}
	feeds := map[string]*runtime.Tensor{}
	for _, spec := range *inputs {
		name, file, ok := strings.Cut(spec, "=")
		if !ok || name == "" || file == "" {
			return failf(exitUsage, "--input %q: want NAME=FILE.npy", spec)
		}
		t, err := npy.ReadFile(file)
		if err != nil {
			return fail(exitUsage, fmt.Errorf("--input %s: %w", name, err))
		}
		feeds[name] = t
	}
	sess, err := rf.open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer sess.Close()
	outs, err := sess.Run(feeds)
	if err != nil {
		if errors.Is(err, runtime.ErrBadInput) {
			return fail(exitUsage, err)
		}
		return fail(exitRuntime, err)
	}
	names := make([]string, 0, len(outs))
	for n := range outs {
		names = append(names, n)
	}
	sort.Strings(names)
	if *outDir != "" {
		// No output file may replace an input (a .npy fed with --input, a
		// file --compare reads) or go through a link.
		if err := safeio.OutDir("--out", *outDir); err != nil {
			return fail(exitOutput, err)
		}
		var files safeio.Files
		files.Input("the model", fs.Arg(0))
		for _, spec := range *inputs {
			_, file, _ := strings.Cut(spec, "=")
			files.Input("an --input file", file)
		}
		for _, n := range names {
			if *compare != "" {
				files.Input("a --compare file", filepath.Join(*compare, fileName(n)+".npy"))
			}
		}
		for _, n := range names {
			if err := files.Output("", filepath.Join(*outDir, fileName(n)+".npy")); err != nil {
				return fail(exitOutput, err)
			}
		}
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return fail(exitOutput, err)
		}
	}
	for _, n := range names {
		t := outs[n]
		if *compare != "" {
			line, err := compareOutput(*compare, n, t)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s %s %s\n", n, t, line)
		}
		if *outDir == "" {
			if *compare == "" {
				fmt.Fprintf(stdout, "%s %s\n", n, t)
			}
			continue
		}
		p := filepath.Join(*outDir, fileName(n)+".npy")
		if err := npy.WriteFile(p, t); err != nil {
			return fail(exitOutput, err)
		}
		fmt.Fprintf(stdout, "%s %s -> %s\n", n, t, p)
	}
	return nil
}

// fileName makes a tensor name safe as a file name.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == 0 {
			return '_'
		}
		return r
	}, strings.TrimLeft(s, "/"))
}

// compareOutput reads DIR/NAME.npy and says how far t is from it.
func compareOutput(dir, name string, t *runtime.Tensor) (string, error) {
	want, err := npy.ReadFile(filepath.Join(dir, fileName(name)+".npy"))
	if err != nil {
		return "", fail(exitUsage, fmt.Errorf("--compare: %w", err))
	}
	if fmt.Sprint(want.Shape) != fmt.Sprint(t.Shape) {
		return fmt.Sprintf("shape differs from %v", want.Shape), nil
	}
	a, err1 := t.Float64s()
	b, err2 := want.Float64s()
	if err1 != nil || err2 != nil {
		return "not comparable (non-numeric)", nil
	}
	var maxAbs, sumAbs float64
	for i := range a {
		d := math.Abs(a[i] - b[i])
		maxAbs = max(maxAbs, d)
		sumAbs += d
	}
	mean := 0.0
	if len(a) > 0 {
		mean = sumAbs / float64(len(a))
	}
	return fmt.Sprintf("max|diff| %.3g mean|diff| %.3g", maxAbs, mean), nil
}
