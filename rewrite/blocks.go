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

	// PrologueCopies are block nodes (ascending) that compute from the
	// block's KV-cache input alone, never from the stream, and that the
	// prologue or epilogue also reads: the TorchScript exporter copies
	// past_key_values.0.key once (a one-input Concat outside every scope)
	// and sizes the mask from that copy while layer 0 concatenates onto it.
	// Each block instance runs its own copy on its own slot; lowering emits
	// these nodes once more, in place in the prologue, on slot 0, whose
	// shape every slot shares.
	PrologueCopies []int

	// Mid[i] is block i's residual stream between its attention and MLP
	// sublayers, in the representation of a boundary (one tensor, or a
	// fused (a, r) pair, or (a, r, bias)): what i.attn writes and i.mlp
	// reads. Mid[i] is nil when the halves could not be separated;
	// MidReason[i] then says why. See [Blocks.Half] for the nodes of each
	// half.
	Mid       []Stream
	MidReason []string
	// halves[i] are the attention-half and MLP-half nodes of Block[i];
	// mlpShared[i] the attention-half nodes that compute from no stream
	// and that the MLP half reads too, which an MLP-only instance also runs.
	halves    [][2][]int
	mlpShared [][]int

	// SideInputs are the non-initializer tensors from outside the blocks that
	// the blocks read (besides the boundaries and KV inputs), sorted.
	SideInputs []string
	// KV holds each block's cache inputs and outputs; nil when the model has
	// no KV cache.
	KV []KVSlot
	// KVNames is how cache tensors are named, for renumbering.
	KVNames KVNaming

	// Method names the detector that found the boundaries ("names",
	// "dynamo", "structure", "merged"), or "manual" for --boundaries.
	Method string

	// Exporter names the exporter whose layout this is (the Exporter*
	// constants), "" when the graph does not tell.
	Exporter string

	// Merged is set when the blocks live in the branches of an If node, as
	// in optimum's decoder_model_merged.onnx (one branch with the cache, one
	// without). The fields above then describe the first branch.
	Merged *MergedIf
	// Notes are facts detection decided that a user may want to know, such
	// as nodes whose name says one block while dataflow says another.
	Notes []string
}

// Stream is the residual stream at one boundary: one tensor, or a pair
// (a, r) whose sum is the stream, or a triple (a, r, c) whose sum is the
// stream and whose c is a weight (an initializer). Pairs appear where an
// exporter or optimizer fused the residual Add into the next block's
// normalization (onnxruntime-genai's and ORT's SkipLayerNormalization):
// block i then reads the previous block's last sublayer output and
// residual, and adds them itself. Triples appear where ORT's transformers
// optimizer also folded block i's last bias into that norm (its bias
// input, GPT-2's mlp.c_proj.bias): the bias belongs to the block that
// wrote a and r, so it travels with them to whichever block reads them.
type Stream []string

func (s Stream) String() string { return strings.Join(s, "+") }

// tensors are the stream's computed members: all but a weight.
func (s Stream) tensors() []string {
	if len(s) == 3 {
		return s[:2]
	}
	return s
}

// weight is a triple's weight member c, or "".
func (s Stream) weight() string {
	if len(s) == 3 {
		return s[2]
	}
	return ""
}

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

// A detector finds the residual stream of one exporter layout. It returns
// the T+1 boundaries, for [assign] to place the nodes along them, or the
// finished blocks when the layout needs its own assignment (a merged
// decoder's blocks live inside If branches). A new exporter layout is one
// detector in its own file, listed in [detectors], plus its fixture.
type detector struct {
	Name   string // recorded as Blocks.Method and in golden dumps
	Layout string // how it found the blocks, for painterc inspect
	By     string // how a failure is introduced: "by node names: ..."
	find   func(g *onnx.Graph, ix *index, kv []KVSlot, o DetectOptions) ([]Stream, *Blocks, error)
}

// detectors are tried in order; the first that succeeds wins, and when all
// fail the error lists each one's reason. A detector that returns neither
// boundaries, blocks nor an error does not apply and says nothing.
// --boundaries bypasses them all. (Set in init: the merged detector runs
// Detect on each branch.)
var detectors []detector

func init() {
	detectors = []detector{
		{Name: "names", By: "by node names", Layout: "module scopes in node names",
			find: func(_ *onnx.Graph, ix *index, _ []KVSlot, _ DetectOptions) ([]Stream, *Blocks, error) {
				b, err := boundariesByName(ix)
				return b, nil, err
			}},
		{Name: "dynamo", By: "by module scopes in node metadata", Layout: "module scopes in node metadata_props (pkg.torch.onnx.name_scopes)",
			find: func(_ *onnx.Graph, ix *index, _ []KVSlot, _ DetectOptions) ([]Stream, *Blocks, error) {
				b, err := boundariesByDynamoScope(ix)
				return b, nil, err
			}},
		{Name: "structure", By: "by graph structure", Layout: "graph structure (cut tensors and a repeating run of operators; names carry no layer index)",
			find: func(_ *onnx.Graph, ix *index, kv []KVSlot, _ DetectOptions) ([]Stream, *Blocks, error) {
				b, err := boundariesByStructure(ix, kv)
				return b, nil, err
			}},
		{Name: "merged", By: "inside If branches", Layout: "blocks inside the branches of an If on use_cache_branch",
			find: func(g *onnx.Graph, _ *index, _ []KVSlot, o DetectOptions) ([]Stream, *Blocks, error) {
				mb, err := detectMerged(g, o)
				return nil, mb, err
			}},
	}
}

// manualLayout is what inspect says for --boundaries.
const manualLayout = "named by hand (--boundaries)"

// Layout says in words which exporter's layout detection found and how
// it found the blocks, for inspect: "genai builder: module scopes in node
// names, fused (a, r) boundaries".
func (b *Blocks) Layout() string {
	how := b.Method
	if b.Method == "manual" {
		how = manualLayout
	}
	for _, d := range detectors {
		if d.Name == b.Method {
			how = d.Layout
		}
	}
	width := 0
	for _, st := range b.Boundary {
		width = max(width, len(st))
	}
	switch width {
	case 2:
		how += ", fused (a, r) boundaries"
	case 3:
		how += ", fused (a, r, bias) boundaries"
	}
	if b.Exporter == "" {
		return how
	}
	return b.Exporter + ": " + how
}

// The exporters [Blocks.Exporter] names.
const (
	ExporterGenAI  = "genai builder"
	ExporterDynamo = "torch dynamo"
	ExporterORT    = "ORT-optimized"
	ExporterTorch  = "TorchScript/optimum"
	ExporterMerged = "merged If"
)

// exporterOf tells which exporter wrote g, from what each leaves behind:
// genai's GroupQueryAttention or attn_mask_reformat scope; dynamo's scopes
// in node metadata; ORT's fused contrib operators (any com.microsoft op, or
// SimplifiedLayerNormalization, which ORT writes in the default domain);
// otherwise torch.onnx's (TorchScript, optimum) scoped names. "" when
// nothing tells.
func exporterOf(g *onnx.Graph) string {
	dynamo, ort, scoped := false, false, false
	for _, n := range g.Node {
		switch {
		case n.OpType == "GroupQueryAttention" && n.Domain == "com.microsoft",
			strings.HasPrefix(n.Name, "/model/attn_mask_reformat/"):
			return ExporterGenAI
		case n.Domain == "com.microsoft" || (n.OpType == "SimplifiedLayerNormalization" && n.Domain == ""):
			ort = true
		case dynamoScope(n) != "":
			dynamo = true
		}
		if strings.HasPrefix(n.Name, "/") {
			scoped = true
		}
	}
	switch {
	case dynamo:
		return ExporterDynamo
	case ort:
		return ExporterORT
	case scoped:
		return ExporterTorch
	}
	return ""
}

// Detect finds the blocks of g: with the boundaries named by hand, or with
// the first of [detectors] that recognizes the layout. Either way nodes are
// assigned by dataflow, and the result is checked so that each block can
// run on its own.
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
		if bounds, err = manualBoundaries(ix, o.Boundaries); err != nil {
			return nil, err
		}
		method = "manual"
	} else {
		for _, d := range detectors {
			bs, whole, err := d.find(g, ix, kv, o)
			if err != nil {
				reasons = append(reasons, d.By+": "+err.Error())
				continue
			}
			if whole == nil && bs == nil {
				continue
			}
			if whole != nil {
				whole.Method = d.Name
				if whole.Merged != nil {
					// The branches' own exporter, as the first branch's
					// detection found it, in parentheses.
					inner := whole.Exporter
					whole.Exporter = ExporterMerged
					if inner != "" {
						whole.Exporter += " (" + inner + ")"
					}
				}
				return whole, nil
			}
			bounds, method = bs, d.Name
			break
		}
		if method == "" {
			return nil, &DetectError{Reasons: reasons}
		}
	}
	b, err := assign(ix, bounds, kv)
	if err != nil {
		return nil, &DetectError{Reasons: append(reasons, err.Error())}
	}
	b.Method = method
	b.Exporter = exporterOf(g)
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
	if method == "names" || method == "dynamo" {
		b.Notes = append(b.Notes, hintDisagreements(ix, b)...)
	}
	findMids(ix, b)
	return b, nil
}

// manualBoundaries reads --boundaries: T+1 tensors, each one name or a
// pair a+r, each defined by a node or a graph input.
func manualBoundaries(ix *index, specs []string) ([]Stream, error) {
	var bounds []Stream
	for _, spec := range specs {
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
	if len(specs) < 2 {
		return nil, &DetectError{Reasons: []string{"--boundaries needs at least two tensors (the input of block 0 and the output of the last block)"}}
	}
	return bounds, nil
}
