package rewrite

import (
	"fmt"
	"strings"

	"github.com/painterc/painterc/onnx"
)

// Blocks is a transformer graph cut into its shared prologue, its T decoder
// blocks and its epilogue, along the residual stream.
//
// Block i reads Boundary[i] and writes Boundary[i+1]; Boundary[0] is the
// embedding output, Boundary[T] what the final norm or head reads. Every node
// of the graph is in exactly one of Prologue, Block[i] or Epilogue (as indices
// into Graph.Node, ascending). Nodes of a block read only the block's own
// tensors, its boundary input, its own KV-cache inputs, initializers and side
// inputs (tensors the prologue or the graph inputs provide to every block:
// masks, rotary tables, position ids).
type Blocks struct {
	T        int
	Boundary []Stream
	Prologue []int
	Block    [][]int
	Epilogue []int

	// SideInputs are the non-initializer tensors from outside the blocks that
	// the blocks read (besides the boundaries and KV inputs), sorted.
	SideInputs []string
	// KV holds each block's cache inputs and outputs; nil when the model has
	// no KV cache.
	KV []KVSlot
	// KVNames is how cache tensors are named, for renumbering.
	KVNames KVNaming

	// Method says how the boundaries were found: "names", "structure" or
	// "manual".
	Method string

	// Merged is set when the blocks live in the branches of an If node, as
	// in optimum's decoder_model_merged.onnx (one branch with the cache, one
	// without). The fields above then describe the first branch.
	Merged *MergedIf
	// Notes are facts detection decided that a user may want to know, such
	// as nodes whose name says one block while dataflow says another.
	Notes []string
}

// Stream is the residual stream at one boundary: one tensor, or a pair
// (a, r) whose sum is the stream. Pairs appear where an exporter or
// optimizer fused the residual Add into the next block's normalization
// (onnxruntime-genai's and ORT's SkipLayerNormalization): block i then
// reads the previous block's last sublayer output and residual, and adds
// them itself.
type Stream []string

func (s Stream) String() string { return strings.Join(s, "+") }

// has reports whether t is one of the stream's tensors.
func (s Stream) has(t string) bool {
	for _, x := range s {
		if x == t {
			return true
		}
	}
	return false
}

// Has reports whether the model has a KV cache.
func (b *Blocks) HasKV() bool { return b.KV != nil }

// DetectOptions steer block detection.
type DetectOptions struct {
	// Boundaries, when set, names the T+1 residual-stream tensors by hand and
	// skips both name- and structure-based discovery. A pair is written
	// "a+r".
	Boundaries []string

	// outerInits are the enclosing graph's initializers, which a subgraph
	// (a merged decoder's branch) reads as its weights.
	outerInits []*onnx.Tensor
}

// DetectError explains why the blocks could not be found and what to try.
type DetectError struct {
	Reasons []string
}

func (e *DetectError) Error() string {
	return "cannot find the transformer blocks:\n  " + strings.Join(e.Reasons, "\n  ") +
		"\n  name the residual-stream tensors by hand with --boundaries t0,t1,...,tT (the embedding output, then each block's output; see `painterc inspect`)"
}

// Detect finds the blocks of g. Node scopes give the grouping when present;
// graph structure (the chain of tensors every path from the token input to
// the output passes through) is used when names carry no layer index. Either
// way nodes are assigned by dataflow, and the result is checked so that each
// block can run on its own.
func Detect(g *onnx.Graph, o DetectOptions) (*Blocks, error) {
	if g == nil {
		return nil, &DetectError{Reasons: []string{"the model has no graph"}}
	}
	ix := newIndex(g)
	for _, t := range o.outerInits {
		ix.isInit[t.Name] = true
	}
	kv, naming, err := findKV(g)
	if err != nil {
		return nil, err
	}
	var bounds []Stream
	method := ""
	var reasons []string
	if len(o.Boundaries) > 0 {
		for _, spec := range o.Boundaries {
			st := Stream(strings.Split(spec, "+"))
			if len(st) > 2 {
				return nil, &DetectError{Reasons: []string{fmt.Sprintf("--boundaries %q: a boundary is one tensor or a pair a+r, not %d tensors", spec, len(st))}}
			}
			for _, t := range st {
				if _, ok := ix.producer[t]; !ok && !ix.isInput[t] {
					return nil, &DetectError{Reasons: []string{fmt.Sprintf("--boundaries names %q, which no node or graph input defines", t)}}
				}
			}
			bounds = append(bounds, st)
		}
		if len(o.Boundaries) < 2 {
			return nil, &DetectError{Reasons: []string{"--boundaries needs at least two tensors (the input of block 0 and the output of the last block)"}}
		}
		method = "manual"
	} else {
		bounds, err = boundariesByName(ix)
		if err == nil {
			method = "names"
		} else {
			reasons = append(reasons, "by node names: "+err.Error())
			bounds, err = boundariesByStructure(ix, kv)
			if err != nil {
				reasons = append(reasons, "by graph structure: "+err.Error())
				if mb, merr := detectMerged(g, o); mb != nil {
					return mb, nil
				} else if merr != nil {
					reasons = append(reasons, "inside If branches: "+merr.Error())
				}
				return nil, &DetectError{Reasons: reasons}
			}
			method = "structure"
		}
	}
	b, err := assign(ix, bounds, kv)
	if err != nil {
		return nil, &DetectError{Reasons: append(reasons, err.Error())}
	}
	b.Method = method
	b.KVNames = naming
	if kv != nil {
		if len(kv) != b.T {
			return nil, &DetectError{Reasons: []string{fmt.Sprintf("the graph has KV-cache inputs for %d layers but %d blocks were found", len(kv), b.T)}}
		}
		b.KV = kv
		if err := checkKVOwners(ix, b); err != nil {
			return nil, &DetectError{Reasons: []string{err.Error()}}
		}
	}
	if method == "names" {
		b.Notes = append(b.Notes, hintDisagreements(ix, b)...)
	}
	return b, nil
}
