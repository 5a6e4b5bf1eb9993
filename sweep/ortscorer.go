package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/eval/ortmodel"
	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/onnx"
)

// ScoringModel is an eval.Model that holds resources (an ONNX Runtime
// session) until closed.
type ScoringModel interface {
	eval.Model
	Close() error
}

// ORTScorer scores variants on ONNX Runtime: for each variant it compiles
// the decoded model in memory (compile.Run with the variant's pass), opens
// the lowered model (ortmodel.New), runs the tasks (eval.Run) and closes
// the session. runtime.Init must have succeeded.
type ORTScorer struct {
	// Model is the decoded input, decoded once for the whole sweep.
	Model     *onnx.Model
	Tokenizer eval.Tokenizer
	// Limit scores each task's first Limit documents (0: all).
	Limit int
	// Boundaries name the residual stream by hand, as --boundaries does.
	Boundaries []string
	// ORT are the options of ortmodel.New when Open is nil.
	ORT ortmodel.Options
	// Open, when set, puts a lowered model on a runtime instead of
	// ortmodel.New(m, ORT) (the CLI passes its own, shared with score).
	Open func(m *onnx.Model) (ScoringModel, error)
}

// Score implements Scorer.
func (s *ORTScorer) Score(ctx context.Context, v Variant, tasks []*eval.Task) (*eval.Results, error) {
	o := compile.Options{Pass: v.Pass, PassOptions: v.Options, Boundaries: s.Boundaries}
	if v.Given {
		o = compile.Options{Schedule: v.Schedule, Boundaries: s.Boundaries}
	}
	r, err := compile.Run(ctx, compile.Input{Model: s.Model}, o)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if got := r.Schedule.String(); got != v.Schedule {
		return nil, fmt.Errorf("internal error: %s compiled to schedule %s, but the plan says %s", v.Label(), got, v.Schedule)
	}
	var m ScoringModel
	if s.Open != nil {
		m, err = s.Open(r.Model)
	} else {
		m, err = ortmodel.New(r.Model, s.ORT)
	}
	if err != nil {
		return nil, err
	}
	res, err := eval.Run(ctx, m, s.Tokenizer, tasks, eval.Options{Limit: s.Limit})
	if cerr := m.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return res, err
}

// ORTSettings are the settings of an ORTScorer sweep that change its
// scores, for Config.Settings: the scorer, the maximum length, the limit
// and the tokenizer's hash. Batch size, threads and device stay out: they
// change how fast a score comes, not (beyond float rounding) what it is.
func ORTSettings(maxLength, limit int, tokenizerHash string) map[string]string {
	return map[string]string{
		"scorer":     "ortmodel",
		"max_length": strconv.Itoa(maxLength),
		"limit":      strconv.Itoa(limit),
		"tokenizer":  tokenizerHash,
	}
}

// HashTokenizer hashes a tokenizer.json together with the
// tokenizer_config.json beside it, when there is one (tokenizer.Load reads
// both).
func HashTokenizer(path string) (string, error) {
	h := sha256.New()
	for _, p := range []string{path, filepath.Join(filepath.Dir(path), "tokenizer_config.json")} {
		data, err := safeio.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) && p != path {
			continue
		}
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(h, "%s %s\n", filepath.Base(p), hex.EncodeToString(sum[:]))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
