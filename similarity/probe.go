package similarity

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/painterc/painterc/internal/genaicfg"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/runtime"
)

// The inputs a probe knows how to fill, as optimum, onnxruntime-genai and
// Hugging Face exports name them.
const (
	inputIDs      = "input_ids"
	attentionMask = "attention_mask"
	positionIDs   = "position_ids"
	tokenTypeIDs  = "token_type_ids"
)

// pastRE matches cache inputs (past_key_values.3.key, past.3.value).
var pastRE = regexp.MustCompile(`^past[A-Za-z_]*\.\d+\.(key|value)$`)

// stateName is the graph output a probe adds for a fused pair's sum.
func stateName(i int) string { return "painterc.similarity.x" + strconv.Itoa(i) }

// WithStates returns a copy of m whose graph also outputs the T+1
// residual-stream tensors of b, and the output names, x0 first. A boundary
// that is one tensor is output as it is; a fused pair (a, r) gets an Add
// node computing a+r, the stream, which is output instead (a triple
// (a, r, bias), a Sum). m is not
// modified: the copy shares m's nodes, tensors and weights, and has its own
// node and output lists.
func WithStates(m *onnx.Model, b *rewrite.Blocks) (*onnx.Model, []string, error) {
	if b == nil || len(b.Boundary) != b.T+1 || b.T < 1 {
		return nil, nil, fmt.Errorf("similarity: the blocks do not describe a residual stream (want T >= 1 and T+1 boundaries)")
	}
	if b.Merged != nil {
		return nil, nil, fmt.Errorf("similarity: the blocks live inside an If node (optimum's decoder_model_merged.onnx), whose hidden states cannot be graph outputs; analyse decoder_model.onnx, the same decoder without the If")
	}
	return WithStreams(m, b.Boundary)
}

// WithStreams is WithStates for any list of at least two stream tensors
// (for a rewritten model, rewrite.Lower returns them).
func WithStreams(m *onnx.Model, streams []rewrite.Stream) (*onnx.Model, []string, error) {
	if m == nil || m.Graph == nil {
		return nil, nil, fmt.Errorf("similarity: no model")
	}
	if len(streams) < 2 {
		return nil, nil, fmt.Errorf("similarity: %d states: want at least the input and the output of one block", len(streams))
	}
	g := *m.Graph
	g.Node = slices.Clone(m.Graph.Node)
	g.Output = slices.Clone(m.Graph.Output)
	outputs := map[string]bool{}
	for _, v := range g.Output {
		outputs[v.Name] = true
	}
	names := make([]string, len(streams))
	for i, s := range streams {
		switch len(s) {
		case 1:
			names[i] = s[0]
		case 2:
			names[i] = stateName(i)
			g.Node = append(g.Node, &onnx.Node{
				Name:   "/painter/similarity/x" + strconv.Itoa(i) + "/Add",
				OpType: "Add",
				Input:  []string{s[0], s[1]},
				Output: []string{names[i]},
			})
		case 3:
			// a fused pair and the bias its reader adds (see rewrite.Stream)
			names[i] = stateName(i)
			g.Node = append(g.Node, &onnx.Node{
				Name:   "/painter/similarity/x" + strconv.Itoa(i) + "/Sum",
				OpType: "Sum",
				Input:  []string{s[0], s[1], s[2]},
				Output: []string{names[i]},
			})
		default:
			return nil, nil, fmt.Errorf("similarity: boundary %d is %q: want one tensor, a pair a+r or a triple a+r+bias", i, s.String())
		}
		if !outputs[names[i]] {
			outputs[names[i]] = true
			// No type: ONNX Runtime infers it from the producing node, so
			// this works whatever the model's dtype.
			g.Output = append(g.Output, &onnx.ValueInfo{Name: names[i]})
		}
	}
	c := *m
	c.Graph = &g
	// Checked like every other graph edit: a state name that collides
	// with one of the model's own would otherwise reach ONNX Runtime.
	if err := rewrite.Verify("the similarity probe", &c); err != nil {
		return nil, nil, fmt.Errorf("similarity: %w", err)
	}
	return &c, names, nil
}

// Probe is a model loaded into ONNX Runtime with its residual stream as
// outputs. It runs one document at a time (batch 1, so no padding).
type Probe struct {
	sess   *runtime.Session
	states []string
	inputs []runtime.IOInfo
	T      int
	// headDim is the cache's head size when the inputs leave it symbolic
	// (onnxruntime-genai's builder writes [batch, kv_heads, past, kv_cache_dim]):
	// genai_config.json's model.decoder.head_size beside the model, or 0.
	headDim int64
}

// NewProbe loads the copy of m that WithStates makes into one ONNX Runtime
// session: from memory when m holds its weights in-file, else through a
// temporary file in m's directory (see open). runtime.Init must have
// succeeded. It
// refuses, naming each, inputs it cannot fill: it feeds input_ids,
// attention_mask (ones), position_ids (0..n-1), token_type_ids (zeros) and
// empty cache inputs past*.{i}.key/.value [1, kv_heads, 0, head_dim].
func NewProbe(m *onnx.Model, b *rewrite.Blocks, name string, so runtime.SessionOptions) (*Probe, error) {
	c, names, err := WithStates(m, b)
	if err != nil {
		return nil, err
	}
	return newProbe(c, names, name, so)
}

// NewProbeStreams is NewProbe for the states named by streams, such as a
// rewritten model's stages (the streams rewrite.Lower returns): its
// Analysis has len(streams)-1 "blocks", one per stage.
func NewProbeStreams(m *onnx.Model, streams []rewrite.Stream, name string, so runtime.SessionOptions) (*Probe, error) {
	c, names, err := WithStreams(m, streams)
	if err != nil {
		return nil, err
	}
	return newProbe(c, names, name, so)
}

func newProbe(c *onnx.Model, names []string, name string, so runtime.SessionOptions) (*Probe, error) {
	sess, err := open(c, name, so)
	if err != nil {
		return nil, err
	}
	p := &Probe{sess: sess, states: names, inputs: sess.Inputs(), T: len(names) - 1, headDim: genaicfg.HeadSize(c.Dir)}
	if err := p.checkInputs(); err != nil {
		sess.Close()
		return nil, err
	}
	return p, nil
}

// open creates the session. A model whose weights are all in-file goes to
// ONNX Runtime from memory. One with external data cannot (ORT would look
// for the data beside the process's working directory), so it is saved
// for the moment as a hidden file in its own directory, where its data
// locations resolve and no weight is copied, loaded from there, and
// removed.
func open(c *onnx.Model, name string, so runtime.SessionOptions) (*runtime.Session, error) {
	if !hasExternal(c.Graph) || c.Dir == "" {
		data, err := onnx.Encode(c)
		if err != nil {
			return nil, fmt.Errorf("similarity: encoding the model with its states as outputs: %w", err)
		}
		return runtime.NewSessionFromBytes(data, name, so)
	}
	tmp := filepath.Join(c.Dir, fmt.Sprintf(".painterc-similarity-%d.onnx", os.Getpid()))
	defer os.Remove(tmp)
	defer os.Remove(tmp + ".data")
	if err := onnx.Save(tmp, c, onnx.SaveOptions{NoSync: true}); err != nil {
		return nil, fmt.Errorf("similarity: the model keeps its weights in external data, so its copy with the states as outputs must sit in its directory for a moment, and saving it there failed: %w (make %s writable, or copy the model and its data somewhere writable)", err, c.Dir)
	}
	sess, err := runtime.NewSession(tmp, so)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return sess, nil
}

// hasExternal reports whether any initializer of g is external data.
func hasExternal(g *onnx.Graph) bool {
	for _, t := range g.Initializer {
		if t.IsExternal() {
			return true
		}
	}
	return false
}

// Close releases the session.
func (p *Probe) Close() error { return p.sess.Close() }

// checkInputs says, in one error, every input the probe cannot fill.
func (p *Probe) checkInputs() error {
	var problems []string
	hasIDs := false
	for _, in := range p.inputs {
		switch {
		case in.Name == inputIDs || in.Name == attentionMask || in.Name == positionIDs || in.Name == tokenTypeIDs:
			if in.Kind != "tensor" || (in.DType != onnx.Int64 && in.DType != onnx.Int32) || len(in.Shape) != 2 {
				problems = append(problems, fmt.Sprintf("  %s: want int64 or int32 [batch, sequence]", in))
			}
			if in.Name == inputIDs {
				hasIDs = true
			}
		case pastRE.MatchString(in.Name):
			if in.Kind != "tensor" || len(in.Shape) != 4 || in.Shape[1] <= 0 || (in.Shape[3] <= 0 && p.headDim <= 0) {
				problems = append(problems, fmt.Sprintf("  %s: want a cache input [batch, kv_heads, past_sequence_length, head_dim] with static kv_heads and head_dim (or a genai_config.json beside the model giving model.decoder.head_size)", in))
			}
		default:
			problems = append(problems, fmt.Sprintf("  %s: not an input similarity can fill", in))
		}
	}
	if !hasIDs {
		problems = append(problems, "  input_ids: missing; want an int64 or int32 [batch, sequence] input of token ids")
	}
	if len(problems) > 0 {
		return fmt.Errorf("similarity: cannot run model %s: it feeds input_ids, attention_mask (ones), position_ids (0..n-1), token_type_ids (zeros) and empty past_key_values.{i}.key/.value:\n%s", p.sess.Model(), strings.Join(problems, "\n"))
	}
	return nil
}

// feeds builds the inputs for one document.
func (p *Probe) feeds(ids []int) map[string]*runtime.Tensor {
	n := int64(len(ids))
	ints := func(dt onnx.DataType, f func(i int) int64) *runtime.Tensor {
		if dt == onnx.Int32 {
			v := make([]int32, n)
			for i := range v {
				v[i] = int32(f(i))
			}
			return runtime.NewInt32([]int64{1, n}, v)
		}
		v := make([]int64, n)
		for i := range v {
			v[i] = f(i)
		}
		return runtime.NewInt64([]int64{1, n}, v)
	}
	f := map[string]*runtime.Tensor{}
	for _, in := range p.inputs {
		switch in.Name {
		case inputIDs:
			f[in.Name] = ints(in.DType, func(i int) int64 { return int64(ids[i]) })
		case attentionMask:
			f[in.Name] = ints(in.DType, func(int) int64 { return 1 })
		case positionIDs:
			f[in.Name] = ints(in.DType, func(i int) int64 { return int64(i) })
		case tokenTypeIDs:
			f[in.Name] = ints(in.DType, func(int) int64 { return 0 })
		default: // a cache input, checked by checkInputs
			head := in.Shape[3]
			if head <= 0 {
				head = p.headDim
			}
			f[in.Name] = &runtime.Tensor{DType: in.DType, Shape: []int64{1, in.Shape[1], 0, head}, Data: []byte{}}
		}
	}
	return f
}

// States runs one document and returns its T+1 states, each [tokens ×
// hidden] row-major, and the hidden size.
func (p *Probe) States(ids []int) ([][]float32, int, error) {
	if len(ids) == 0 {
		return nil, 0, fmt.Errorf("similarity: an empty document has no states")
	}
	out, err := p.sess.Run(p.feeds(ids), p.states...)
	if err != nil {
		return nil, 0, err
	}
	states := make([][]float32, len(p.states))
	hidden := 0
	for i, name := range p.states {
		t := out[name]
		if len(t.Shape) != 3 || t.Shape[0] != 1 || t.Shape[1] != int64(len(ids)) || t.Shape[2] <= 0 {
			return nil, 0, fmt.Errorf("similarity: state x%d (%s) has shape %s, want [1, %d, hidden]", i, name, runtime.FormatShape(t.Shape), len(ids))
		}
		if i == 0 {
			hidden = int(t.Shape[2])
		} else if int(t.Shape[2]) != hidden {
			return nil, 0, fmt.Errorf("similarity: state x%d (%s) has hidden size %d, x0 has %d", i, name, t.Shape[2], hidden)
		}
		if states[i], err = t.Float32s(); err != nil {
			return nil, 0, fmt.Errorf("similarity: state x%d (%s): %w", i, name, err)
		}
	}
	return states, hidden, nil
}

// Analyze runs every document through p and accumulates the three
// measures. Documents are token id sequences; an empty one is an error.
func (p *Probe) Analyze(docs [][]int) (*Analysis, error) {
	acc := NewAccumulator(p.T)
	for d, ids := range docs {
		states, hidden, err := p.States(ids)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", d, err)
		}
		if err := acc.Add(states, hidden); err != nil {
			return nil, fmt.Errorf("document %d: %w", d, err)
		}
	}
	return acc.Analysis()
}

// Analyze is NewProbe, Probe.Analyze and Close in one call.
func Analyze(m *onnx.Model, b *rewrite.Blocks, docs [][]int, name string, so runtime.SessionOptions) (*Analysis, error) {
	p, err := NewProbe(m, b, name, so)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return p.Analyze(docs)
}
