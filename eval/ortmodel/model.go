package ortmodel

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/internal/genaicfg"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
)

// Options configures New.
type Options struct {
	// MaxLength is the longest input the model takes, in tokens (lm-eval's
	// max_length); default 2048.
	MaxLength int
	// BatchSize is the number of sequences per run. 0 picks it per batch
	// from MemoryBudget and the batch's padded length (at most 64).
	BatchSize int
	// MemoryBudget bounds the activations of one run when BatchSize is 0;
	// default 1 GiB.
	MemoryBudget int64
	// Device is "cpu" (or empty) or "cuda".
	Device string
	// Threads is ONNX Runtime's intra-op thread count; 0 keeps its default.
	Threads int
	// OptLevel is ONNX Runtime's graph optimization level ("disable",
	// "basic", "extended", "all"; empty means "all").
	OptLevel string

	// Tests and benchmarks compare the epilogue's forms, and its Gather
	// after the lm_head with the default before it.
	epilogue epilogueForm
	keepHead bool
}

const (
	defaultMaxLength = 2048
	defaultBudget    = 1 << 30
	maxAutoBatch     = 64
)

// Model is an eval.Model on one ONNX Runtime session. Its methods may be
// called from several goroutines.
type Model struct {
	sess   *runtime.Session
	opts   Options
	io     *iface
	vocab  int
	hidden int // embedding width, for batch sizing (0 when unknown)

	// Test and benchmark switches for the paths a cached model can avoid.
	noShare bool // score shared contexts request by request
	noCache bool // generate by full recomputation
	// Both are also set for GroupQueryAttention models (see New).
	gqa bool

	headMoved bool // the epilogue projects only the scored positions

	closeOnce sync.Once
	closeErr  error
}

var _ eval.Model = (*Model)(nil)

// New prepares m for scoring and opens its session; runtime.Init must have
// succeeded. m is not modified and may be closed once New returns. Weights
// stored as external data stay in their files, of any size: see
// openSession.
func New(m *onnx.Model, opts Options) (*Model, error) {
	if m == nil || m.Graph == nil {
		return nil, errors.New("ortmodel: nil model")
	}
	if opts.MaxLength == 0 {
		opts.MaxLength = defaultMaxLength
	}
	if opts.MemoryBudget == 0 {
		opts.MemoryBudget = defaultBudget
	}
	if opts.MaxLength < 1 || opts.BatchSize < 0 || opts.MemoryBudget < 0 || opts.Threads < 0 {
		return nil, fmt.Errorf("ortmodel: options must not be negative (and MaxLength at least 1): %+v", opts)
	}
	f, err := findIO(m.Graph, genaicfg.HeadSize(m.Dir))
	if err != nil {
		return nil, err
	}
	run := m
	headMoved := false
	if f.causal {
		if run, err = withEpilogue(m, f, opts.epilogue, opts.keepHead); err != nil {
			return nil, err
		}
		headMoved = !opts.keepHead && headMatMul(m.Graph, f.logits.Name) >= 0
	}
	sess, err := openSession(run, runtime.SessionOptions{
		Device: opts.Device, IntraOpThreads: opts.Threads, OptLevel: opts.OptLevel,
	})
	if err != nil {
		return nil, err
	}
	om := &Model{sess: sess, opts: opts, io: f, headMoved: headMoved}
	om.vocab, om.hidden = vocabAndHidden(m, f)
	if usesGQA(m.Graph) {
		// com.microsoft GroupQueryAttention (onnxruntime-genai's layout)
		// takes several new tokens after a past only for batch 1, and
		// places a row's new keys after seqlens_k = sum(mask) - 1 - new,
		// which a right-padded continuation after a right-padded context
		// does not fit. Generation feeds no cache back (every run is a
		// first prompt, which it handles in padded batches); scoring
		// shares a context's prefill at batch 1, unpadded, where that
		// saves enough tokens to pay for the lost batching
		// (gqaWorthSharing).
		om.noCache, om.gqa = true, true
	}
	f.logits = nil // keep nothing of m
	return om, nil
}

// vocabAndHidden reads the vocabulary from a causal LM's logits' last
// static dimension, else (and for a classifier) from the embedding table
// input_ids indexes, whose second dimension is the hidden size.
func vocabAndHidden(m *onnx.Model, f *iface) (vocab, hidden int) {
	if n := len(f.logitsDims); f.causal && f.logitsDims[n-1] > 0 {
		vocab = int(f.logitsDims[n-1])
	}
	inits := map[string]*onnx.Tensor{}
	for _, t := range m.Graph.Initializer {
		inits[t.Name] = t
	}
	for _, n := range m.Graph.Node {
		if n.OpType == "Gather" && len(n.Input) == 2 && n.Input[1] == f.ids {
			if t := inits[n.Input[0]]; t != nil && len(t.Dims) == 2 {
				if vocab == 0 {
					vocab = int(t.Dims[0])
				}
				hidden = int(t.Dims[1])
				break
			}
		}
	}
	return vocab, hidden
}

// MaxLength is Options.MaxLength.
func (m *Model) MaxLength() int { return m.opts.MaxLength }

// VocabSize is the logits' last dimension for a causal LM, else the rows of
// the token embedding table (0 when the model says neither).
func (m *Model) VocabSize() int { return m.vocab }

// HasCache reports whether the model has KV-cache inputs and outputs that
// ortmodel feeds back on every path (shared contexts in batches and
// incremental decoding): not for GroupQueryAttention models, whose cache
// it feeds back only for a shared context at batch 1 (gqaWorthSharing).
func (m *Model) HasCache() bool { return m.io.cached && !m.gqa }

// Close releases the session. It is safe to call more than once.
func (m *Model) Close() error {
	m.closeOnce.Do(func() { m.closeErr = m.sess.Close() })
	return m.closeErr
}

// rowsFor is the number of sequences of padded length n (past included),
// k positions of each scored, to run at once.
func (m *Model) rowsFor(n, k int) int {
	if m.opts.BatchSize > 0 {
		return m.opts.BatchSize
	}
	// Per row: a few dozen hidden-wide activations and a row of attention
	// scores per token, and the vocabulary-wide logits, their log-softmax
	// and a float32 cast of them, for the scored positions when the
	// epilogue gathers them before the lm_head, else for every position.
	hidden := int64(m.hidden)
	if hidden == 0 {
		hidden = 4096
	}
	if !m.headMoved {
		k = n
	}
	vocab := int64(m.vocab)
	if !m.io.causal {
		vocab = 0 // a classifier's head is [batch, labels]
	}
	perRow := 4*int64(n)*(32*hidden+4*int64(n)) + 12*vocab*int64(max(k, 1))
	rows := m.opts.MemoryBudget / perRow
	return int(min(max(rows, 1), maxAutoBatch))
}

func (m *Model) needCausal(what string) error {
	if !m.io.causal {
		return fmt.Errorf("ortmodel: %s needs a causal LM (logits [batch, sequence, vocab]); this model's logits are [batch, labels]", what)
	}
	return nil
}

func checkCtx(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

// usesGQA reports whether g (or a subgraph) runs GroupQueryAttention.
func usesGQA(g *onnx.Graph) bool {
	for _, n := range g.Node {
		if n.OpType == "GroupQueryAttention" && n.Domain == "com.microsoft" {
			return true
		}
		for _, a := range n.Attribute {
			if a.G != nil && usesGQA(a.G) {
				return true
			}
			for _, sg := range a.Graphs {
				if usesGQA(sg) {
					return true
				}
			}
		}
	}
	return false
}
