package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/eval/ortmodel"
	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/tokenizer"
)

// scoreFlags are the flags of every command that scores a model (score,
// sweep, similarity): which tokenizer, how long the inputs, how many
// documents, and how ONNX Runtime runs.
type scoreFlags struct {
	rt        runtimeFlags
	tokenizer string
	maxLength int
	batchSize int
	limit     int
	tasks     []string
}

func (s *scoreFlags) register(fs *pflag.FlagSet) {
	s.rt.register(fs)
	fs.StringArrayVar(&s.tasks, "task", nil, "a task file (JSONL, see docs/tasks.md); repeat for several")
	fs.StringVar(&s.tokenizer, "tokenizer", "", "Hugging Face tokenizer.json (default: tokenizer.json beside the model)")
	fs.IntVar(&s.maxLength, "max-length", 0, "the longest input in tokens (default, as lm-eval 0.4.13: n_positions, max_position_embeddings or n_ctx from config.json beside the model, else tokenizer_config.json's model_max_length, else 2048)")
	fs.IntVar(&s.batchSize, "batch-size", 0, "sequences per ONNX Runtime run (0: chosen per batch from a 1 GiB activation budget)")
	fs.IntVar(&s.limit, "limit", 0, "score only each task's first N documents, as lm-eval's --limit (0: all)")
}

// scoreSetup is what scoring a model needs besides the model: its
// tokenizer, its tasks and its length limit, all checked before any work.
type scoreSetup struct {
	tok           *tokenizer.Tokenizer
	tokenizerPath string
	tasks         []*eval.Task
	maxLength     int
}

// setup loads the tokenizer and the tasks for the model at path.
func (s *scoreFlags) setup(path string, needTasks bool) (*scoreSetup, error) {
	if needTasks && len(s.tasks) == 0 {
		return nil, failf(exitUsage, "no task: add --task FILE.jsonl (see docs/tasks.md)")
	}
	if s.maxLength < 0 || s.batchSize < 0 || s.limit < 0 {
		return nil, failf(exitUsage, "--max-length, --batch-size and --limit must not be negative")
	}
	ss := &scoreSetup{tokenizerPath: s.tokenizer, maxLength: s.maxLength}
	if ss.tokenizerPath == "" {
		ss.tokenizerPath = filepath.Join(filepath.Dir(path), "tokenizer.json")
		if _, err := os.Stat(ss.tokenizerPath); err != nil {
			return nil, failf(exitUsage, "no tokenizer: %s does not exist; give the model's tokenizer.json with --tokenizer PATH", ss.tokenizerPath)
		}
	}
	tok, err := tokenizer.Load(ss.tokenizerPath)
	if err != nil {
		return nil, fail(exitUsage, err)
	}
	ss.tok = tok
	if ss.maxLength == 0 {
		if ss.maxLength, err = configMaxLength(path); err != nil {
			return nil, fail(exitUsage, err)
		}
	}
	for _, t := range s.tasks {
		task, err := eval.LoadTask(t)
		if err != nil {
			return nil, fail(exitUsage, err)
		}
		ss.tasks = append(ss.tasks, task)
	}
	return ss, nil
}

// configMaxLength is lm-eval 0.4.13's max_length for the Hugging Face
// files beside the model (eval.ResolveMaxLength: n_positions,
// max_position_embeddings, n_ctx, then the tokenizer's model_max_length,
// then 2048). A file that is missing counts as saying nothing; one that is
// not JSON is an error, since guessing would change every score.
func configMaxLength(model string) (int, error) {
	read := func(name string) ([]byte, error) {
		b, err := safeio.ReadFile(filepath.Join(filepath.Dir(model), name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return b, err
	}
	cfg, err := read("config.json")
	if err != nil {
		return 0, err
	}
	tc, err := read("tokenizer_config.json")
	if err != nil {
		return 0, err
	}
	n, _, err := eval.ResolveMaxLength(cfg, tc)
	if err != nil {
		return 0, fmt.Errorf("%s: %v; give --max-length to set the length yourself", filepath.Dir(model), err)
	}
	return n, nil
}

// model puts m on ONNX Runtime for scoring.
func (s *scoreFlags) model(m *onnx.Model, maxLength int) (*ortmodel.Model, error) {
	if err := runtime.Init(runtime.Options{LibPath: s.rt.lib}); err != nil {
		return nil, fail(exitRuntime, err)
	}
	om, err := ortmodel.New(m, ortmodel.Options{MaxLength: maxLength, BatchSize: s.batchSize, Device: s.rt.device, Threads: s.rt.threads, OptLevel: s.rt.optLevel})
	if err != nil {
		return nil, fail(exitRuntime, err)
	}
	return om, nil
}

// evaluate scores the tasks, with a progress bar on stderr when it is a
// terminal and nothing otherwise.
func (ss *scoreSetup) evaluate(ctx context.Context, m eval.Model, opts eval.Options, stderr io.Writer) (*eval.Results, error) {
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var bar *progressbar.ProgressBar
		current := ""
		opts.Progress = func(task string, done, total int) {
			if task != current || bar == nil {
				if bar != nil {
					bar.Finish()
				}
				current = task
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription(task),
					progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("req"),
					progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
			}
			bar.Set(done)
		}
		defer func() {
			if bar != nil {
				bar.Finish()
			}
		}()
	}
	r, err := eval.Run(ctx, m, ss.tok, ss.tasks, opts)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, fail(exitInternal, err)
		}
		return nil, failByKind(err)
	}
	return r, nil
}

// checkWritable fails now, before any scoring, when path cannot be written.
func checkWritable(flag, path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return failf(exitOutput, "%s %s is a directory: give a file name", flag, path)
	}
	f, err := os.CreateTemp(dir, ".painterc-probe-*")
	if err != nil {
		return failf(exitOutput, "%s %s: cannot create files in %s: %v; choose a directory you can write to", flag, path, dir, unwrapPath(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// checkWritableDir creates the folder path if needed and fails now, before
// any scoring, when files cannot be created in it.
func checkWritableDir(flag, path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return failf(exitOutput, "%s %s is a file: give a folder", flag, path)
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return failf(exitOutput, "%s %s: cannot create the folder: %v; choose a folder you can write to", flag, path, unwrapPath(err))
	}
	f, err := os.CreateTemp(path, ".painterc-probe-*")
	if err != nil {
		return failf(exitOutput, "%s %s: cannot create files there: %v; choose a folder you can write to", flag, path, unwrapPath(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writeAtomic writes what write produces to path, atomically.
func writeAtomic(path string, write func(io.Writer) error) error {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	return onnx.WriteFileAtomic(path, b.Bytes(), true)
}
