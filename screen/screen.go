// Package screen owns label-free screening of candidate schedules: how far
// each candidate's next-token distribution strays from the full model's on
// calibration windows (mean KL(p_full || p_cand), top-1 agreement) and the
// candidate's own next-token NLL (for SLEB-style perplexity), with no
// labels but the windows themselves.
//
// Screen computes these for up to Options.MaxPerGraph candidates in one
// ONNX Runtime run per batch of windows, on the fork graph that
// rewrite.LowerFork builds: the full model and the candidates share their
// weights and their common leading stages, and ONNX Runtime hands back only
// per-token numbers, never logits. Separate scores each candidate as its own
// lowered model, with the logits read back and the measures computed here;
// it is the oracle the fork graph is tested against and the baseline of the
// benchmark.
package screen

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"github.com/painterc/painterc/internal/genaicfg"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/schedule"
)

// Result is one candidate's screening score: means over every scored token
// of every calibration window.
type Result struct {
	Schedule string  // the candidate, canonical
	KL       float64 // mean KL(p_full || p_cand) in nats, over Tokens positions
	Top1     float64 // fraction of Tokens positions whose argmax agrees with the full model's
	NLL      float64 // mean -log p_cand(next token), over the positions that have a next token
	Tokens   int     // positions scored for KL and Top1 (windows × window length)
}

// Options configure a Screener.
type Options struct {
	// Threads is ONNX Runtime's intra-op thread count; 0 keeps its default.
	Threads int
	// Batch is how many windows go through ONNX Runtime in one run;
	// default 1.
	Batch int
	// MaxPerGraph caps the candidates one fork graph carries; default 16.
	// Each graph computes the full model once more and costs a session
	// load, so larger groups amortize better (SmolLM2-135M, 16 single-block
	// skips at ONNX Runtime's "all" level: 1.8x to 1.9x Separate's speed in
	// one graph, 1.5x in two of 8; 2.0x at "basic"); but
	// each candidate adds its own blocks past the shared prefix, with ONNX
	// Runtime's packed copy of their weights, and its own lm_head, so the
	// session's memory grows with it.
	MaxPerGraph int
	// OptLevel is ONNX Runtime's graph optimization level; "" is
	// DefaultOptLevel, "basic", not ONNX Runtime's "all". A screening
	// session runs once, so its load counts as much as its run, and the
	// extended fusions cost more to find in a fork graph of 40,000 nodes
	// than they save in one run. On SmolLM2's TorchScript export
	// (BenchmarkScreen, 16 skips per graph, 3 iterations;
	// PAINTERC_BENCH_OPT_LEVEL=all for the other) the fork graph screened 0.750 candidates/s at basic against
	// 0.695 at all, while the separate models ran at 0.374 and 0.390.
	OptLevel string
}

// DefaultOptLevel is the optimization level screening sessions load at
// unless Options.OptLevel says otherwise.
const DefaultOptLevel = "basic"

// Screener scores candidate schedules of one model on fixed calibration
// windows. Its methods may not be called concurrently.
type Screener struct {
	m      *onnx.Model
	b      *rewrite.Blocks
	calib  [][]int
	o      Options
	logits string
	so     runtime.SessionOptions
	// headDim is the cache's head size when the model leaves it symbolic
	// (genai's builder), from genai_config.json beside the model, or 0.
	headDim int64

	full    []fullWindow // Separate's reference, computed on first use
	fullNLL float64      // the full model's mean NLL, from the last Screen
}

// New returns a Screener for m, whose blocks b were detected on m.Graph,
// scoring on the windows calib: token id sequences, all of the same length
// (at least 2, so that every window has a next token to predict).
// runtime.Init must have succeeded.
func New(m *onnx.Model, b *rewrite.Blocks, calib [][]int, o Options) (*Screener, error) {
	if m == nil || m.Graph == nil || b == nil {
		return nil, fmt.Errorf("screen: no model or no blocks")
	}
	if b.Merged != nil {
		return nil, fmt.Errorf("screen: the blocks live inside an If (a merged decoder); screen decoder_model.onnx, the same decoder without the If")
	}
	if len(calib) == 0 {
		return nil, fmt.Errorf("screen: no calibration windows")
	}
	n := len(calib[0])
	if n < 2 {
		return nil, fmt.Errorf("screen: calibration windows of %d tokens; want at least 2 (the NLL scores each token's successor)", n)
	}
	for i, w := range calib {
		if len(w) != n {
			return nil, fmt.Errorf("screen: calibration window %d has %d tokens, window 0 has %d; all must be the same length (they are batched)", i, len(w), n)
		}
		for _, id := range w {
			if id < 0 {
				return nil, fmt.Errorf("screen: calibration window %d has the negative token id %d", i, id)
			}
		}
	}
	if o.Batch <= 0 {
		o.Batch = 1
	}
	o.Batch = min(o.Batch, len(calib))
	if o.MaxPerGraph <= 0 {
		o.MaxPerGraph = 16
	}
	if o.OptLevel == "" {
		o.OptLevel = DefaultOptLevel
	}
	logits, err := rewrite.LogitsOutput(m, b)
	if err != nil {
		return nil, fmt.Errorf("screen: %w", err)
	}
	return &Screener{
		m: m, b: b, calib: calib, o: o, logits: logits,
		so:      runtime.SessionOptions{IntraOpThreads: o.Threads, OptLevel: o.OptLevel},
		headDim: genaicfg.HeadSize(m.Dir),
	}, nil
}

// FullNLL is the full model's mean next-token NLL on the windows, as the
// last Screen measured it (0 before any).
func (s *Screener) FullNLL() float64 { return s.fullNLL }

// sums accumulates one candidate's measures in float64.
type sums struct {
	kl, top1, nll float64
	tokens, next  int
}

func (a *sums) result(sched string) Result {
	return Result{Schedule: sched, KL: a.kl / float64(a.tokens), Top1: a.top1 / float64(a.tokens), NLL: a.nll / float64(a.next), Tokens: a.tokens}
}

// Screen scores cands against the full model on every calibration window
// and returns their results in cands' order. Candidates are sorted by their
// stage lists, so that those sharing leading stages land in the same fork
// graph, and cut into graphs of at most MaxPerGraph; each graph is built,
// loaded from memory and run over every window.
func (s *Screener) Screen(ctx context.Context, cands []schedule.Schedule) ([]Result, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	order := make([]int, len(cands))
	stages := make([][]schedule.Stage, len(cands))
	for i, c := range cands {
		if err := c.Validate(s.b.T); err != nil {
			return nil, fmt.Errorf("screen: candidate %d (%s): %w", i, c, err)
		}
		order[i] = i
		stages[i] = c.Stages()
	}
	slices.SortStableFunc(order, func(a, b int) int { return compareStages(stages[a], stages[b]) })

	results := make([]Result, len(cands))
	var full sums
	for lo := 0; lo < len(order); lo += s.o.MaxPerGraph {
		group := order[lo:min(lo+s.o.MaxPerGraph, len(order))]
		gc := make([]schedule.Schedule, len(group))
		for j, i := range group {
			gc[j] = cands[i]
		}
		acc, fullAcc, err := s.screenGroup(ctx, gc)
		if err != nil {
			return nil, err
		}
		for j, i := range group {
			results[i] = acc[j].result(cands[i].String())
		}
		full = fullAcc
	}
	s.fullNLL = full.nll / float64(full.next)
	return results, nil
}

// compareStages orders stage lists lexicographically, stage by stage.
func compareStages(a, b []schedule.Stage) int {
	for i := range min(len(a), len(b)) {
		if c := slices.Compare(a[i].Blocks, b[i].Blocks); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// screenGroup runs one fork graph over every window.
func (s *Screener) screenGroup(ctx context.Context, cands []schedule.Schedule) ([]sums, sums, error) {
	fm, err := rewrite.LowerFork(s.m, s.b, cands)
	if err != nil {
		return nil, sums{}, fmt.Errorf("screen: %w", err)
	}
	sess, err := s.open(fm, "fork graph")
	if err != nil {
		return nil, sums{}, err
	}
	defer sess.Close()
	names := []string{rewrite.ForkNLLFull}
	for j := range cands {
		names = append(names, rewrite.ForkKL(j), rewrite.ForkTop1(j), rewrite.ForkNLL(j))
	}
	acc := make([]sums, len(cands))
	var full sums
	for lo := 0; lo < len(s.calib); lo += s.o.Batch {
		if err := ctx.Err(); err != nil {
			return nil, sums{}, err
		}
		feeds, err := s.feeds(sess, s.batch(lo))
		if err != nil {
			return nil, sums{}, err
		}
		wins := s.calib[lo:min(lo+s.o.Batch, len(s.calib))]
		out, err := sess.Run(feeds, names...)
		if err != nil {
			return nil, sums{}, fmt.Errorf("screen: %w", err)
		}
		get := func(name string) ([]float32, error) {
			t := out[name]
			v, err := t.Float32s()
			if err == nil && (len(t.Shape) != 2 || int(t.Shape[0]) != s.o.Batch || int(t.Shape[1]) != len(wins[0])) {
				err = fmt.Errorf("shape %s, want [%d %d]", runtime.FormatShape(t.Shape), s.o.Batch, len(wins[0]))
			}
			if err != nil {
				return nil, fmt.Errorf("screen: fork output %s: %w", name, err)
			}
			return v, nil
		}
		n := len(wins[0])
		addNLL := func(a *sums, v []float32) {
			// The last position of a window has no next token.
			for w := range wins {
				for p := range n - 1 {
					a.nll += float64(v[w*n+p])
				}
				a.next += n - 1
			}
		}
		v, err := get(rewrite.ForkNLLFull)
		if err != nil {
			return nil, sums{}, err
		}
		addNLL(&full, v)
		for j := range cands {
			kl, err := get(rewrite.ForkKL(j))
			if err != nil {
				return nil, sums{}, err
			}
			top1, err := get(rewrite.ForkTop1(j))
			if err != nil {
				return nil, sums{}, err
			}
			nll, err := get(rewrite.ForkNLL(j))
			if err != nil {
				return nil, sums{}, err
			}
			// Rows past len(wins) are padding (see batch).
			for i := range len(wins) * n {
				acc[j].kl += float64(kl[i])
				acc[j].top1 += float64(top1[i])
			}
			acc[j].tokens += len(wins) * n
			addNLL(&acc[j], nll)
		}
	}
	return acc, full, nil
}

// batch returns the Batch windows from lo on. Every session is built for
// exactly Batch windows (see specialize), so a short last batch is padded
// with copies of window 0, whose outputs are not counted.
func (s *Screener) batch(lo int) [][]int {
	wins := slices.Clone(s.calib[lo:min(lo+s.o.Batch, len(s.calib))])
	for len(wins) < s.o.Batch {
		wins = append(wins, s.calib[0])
	}
	return wins
}

// specialize returns a copy of m whose inputs have the sizes screening
// feeds, fixed: [Batch, window] for the token-shaped inputs and the
// targets, [Batch, kv_heads, 0, head_dim] for the caches. m's own graph
// is not modified. ONNX Runtime then knows every shape in the graph and
// folds the exporter's shape arithmetic (Shape, Gather, Concat...) away.
// That matters for a large graph. With symbolic sizes, SmolLM2's 30
// blocks lowered four times over (28800 nodes) took 44 s to load with
// optimizations off, and ONNX Runtime's verbose log puts nearly all of it
// between creating the allocation planner and saving the initializers:
// load time grows with the square of the node count. Our reading (not
// profiled inside ONNX Runtime) is that each tensor whose shape inference
// leaves unknown dimensions gets dimension names of its own, so no freed
// buffer ever matches a new tensor and the planner's search of its free
// list grows with the graph. With fixed sizes the same graph loads in
// 11 s with all optimizations, folding leaving 5700 nodes. Both Screen
// and Separate load specialized models, so that they compare the same
// way.
func (s *Screener) specialize(m *onnx.Model) *onnx.Model {
	B, n := int64(s.o.Batch), int64(len(s.calib[0]))
	g := *m.Graph
	g.Input = make([]*onnx.ValueInfo, len(m.Graph.Input))
	for i, in := range m.Graph.Input {
		g.Input[i] = in
		if in.Type == nil || in.Type.TensorType == nil || in.Type.TensorType.Shape == nil {
			continue
		}
		dims := in.Type.TensorType.Shape.Dim
		var want []int64
		switch {
		case in.Name == "input_ids" || in.Name == "attention_mask" || in.Name == "position_ids" ||
			in.Name == "token_type_ids" || in.Name == rewrite.ForkTargets:
			if len(dims) == 2 {
				want = []int64{B, n}
			}
		case pastRE.MatchString(in.Name):
			if len(dims) == 4 {
				want = []int64{B, -1, 0, -1}
				if !dims[3].Has(1) && dims[3].DimValue <= 0 && s.headDim > 0 {
					want[3] = s.headDim
				}
			}
		}
		if want == nil {
			continue
		}
		shape := &onnx.TensorShape{Dim: make([]*onnx.Dimension, len(dims))}
		for d, dim := range dims {
			if want[d] < 0 {
				shape.Dim[d] = dim
				continue
			}
			shape.Dim[d] = &onnx.Dimension{}
			shape.Dim[d].SetDimValue(want[d])
		}
		tt := *in.Type.TensorType
		tt.Shape = shape
		typ := *in.Type
		typ.TensorType = &tt
		v := *in
		v.Type = &typ
		g.Input[i] = &v
	}
	c := *m
	c.Graph = &g
	return &c
}

// The inputs Screener fills, as optimum and Hugging Face exports name them.
var pastRE = regexp.MustCompile(`^past[A-Za-z_]*\.\d+\.(key|value)$`)

// feeds builds one run's inputs for windows wins: input_ids, attention_mask
// (ones), position_ids (0..n-1), token_type_ids (zeros), empty caches
// [batch, kv_heads, 0, head_dim] and, for a fork graph, the targets (each
// window shifted left by one, the last position predicting token 0, which
// is never counted).
func (s *Screener) feeds(sess *runtime.Session, wins [][]int) (map[string]*runtime.Tensor, error) {
	B, n := int64(len(wins)), int64(len(wins[0]))
	ints := func(dt onnx.DataType, f func(w, p int) int64) *runtime.Tensor {
		if dt == onnx.Int32 {
			v := make([]int32, 0, B*n)
			for w := range int(B) {
				for p := range int(n) {
					v = append(v, int32(f(w, p)))
				}
			}
			return runtime.NewInt32([]int64{B, n}, v)
		}
		v := make([]int64, 0, B*n)
		for w := range int(B) {
			for p := range int(n) {
				v = append(v, f(w, p))
			}
		}
		return runtime.NewInt64([]int64{B, n}, v)
	}
	f := map[string]*runtime.Tensor{}
	for _, in := range sess.Inputs() {
		switch {
		case in.Name == "input_ids":
			f[in.Name] = ints(in.DType, func(w, p int) int64 { return int64(wins[w][p]) })
		case in.Name == "attention_mask":
			f[in.Name] = ints(in.DType, func(int, int) int64 { return 1 })
		case in.Name == "position_ids":
			f[in.Name] = ints(in.DType, func(_, p int) int64 { return int64(p) })
		case in.Name == "token_type_ids":
			f[in.Name] = ints(in.DType, func(int, int) int64 { return 0 })
		case in.Name == rewrite.ForkTargets:
			f[in.Name] = ints(onnx.Int64, func(w, p int) int64 {
				if p+1 < int(n) {
					return int64(wins[w][p+1])
				}
				return 0
			})
		case pastRE.MatchString(in.Name):
			head := int64(-1)
			if len(in.Shape) == 4 {
				head = in.Shape[3]
			}
			if head <= 0 {
				head = s.headDim
			}
			if len(in.Shape) != 4 || in.Shape[1] <= 0 || head <= 0 {
				return nil, fmt.Errorf("screen: cache input %s: want [batch, kv_heads, past, head_dim] with static kv_heads and head_dim", in)
			}
			f[in.Name] = &runtime.Tensor{DType: in.DType, Shape: []int64{B, in.Shape[1], 0, head}, Data: []byte{}}
		default:
			return nil, fmt.Errorf("screen: model input %s: not one screening can fill (it feeds input_ids, attention_mask, position_ids, token_type_ids and empty caches)", in)
		}
	}
	return f, nil
}

// open loads m into ONNX Runtime: from memory when its weights are in-file;
// otherwise (ONNX Runtime would resolve external data against the working
// directory) through a hidden file in m's directory, where the data
// locations resolve, removed once loaded.
func (s *Screener) open(m *onnx.Model, name string) (*runtime.Session, error) {
	m = s.specialize(m)
	external := slices.ContainsFunc(m.Graph.Initializer, (*onnx.Tensor).IsExternal)
	if !external || s.m.Dir == "" {
		data, err := onnx.Encode(m)
		if err != nil {
			return nil, fmt.Errorf("screen: encoding the %s: %w", name, err)
		}
		sess, err := runtime.NewSessionFromBytes(data, name, s.so)
		if err != nil {
			return nil, fmt.Errorf("screen: %w", err)
		}
		return sess, nil
	}
	tmp := filepath.Join(s.m.Dir, ".painterc-screen-"+strconv.Itoa(os.Getpid())+".onnx")
	defer os.Remove(tmp)
	defer os.Remove(tmp + ".data")
	if err := onnx.Save(tmp, m, onnx.SaveOptions{NoSync: true}); err != nil {
		return nil, fmt.Errorf("screen: the model keeps its weights in external data, so the %s must be saved beside it for a moment, and that failed: %w", name, err)
	}
	sess, err := runtime.NewSession(tmp, s.so)
	if err != nil {
		return nil, fmt.Errorf("screen: %w", err)
	}
	return sess, nil
}
