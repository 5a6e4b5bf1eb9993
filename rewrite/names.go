package rewrite

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/painterc/painterc/onnx"
)

// layerScopes are the module names whose ".{i}" is a layer index in the
// scopes of torch.onnx, optimum and genai exports: /model/layers.3/...,
// /transformer/h.3/..., /bert/encoder/layer.3/...
var layerScopes = []string{"layers", "layer", "h", "blocks", "block", "decoder_layers"}

// layerHint is the layer index name carries, or -1: the last
// "{scope}.{digits}" whose scope starts the name or follows a '/' or '.',
// and whose digits end the name or are followed by a '/' or '.'. Matches do
// not share a delimiter, as a regexp's non-overlapping matches would not
// (names_test.go checks it against the equivalent regexp). Hand-written
// because detection calls it for every node and output of large graphs,
// where a regexp was a fifth of the compile time.
func layerHint(name string) int {
	last, lastEnd := "", 0
	for i := 0; i < len(name); i++ {
		if i > 0 && (i-1 < lastEnd || (name[i-1] != '/' && name[i-1] != '.')) {
			continue
		}
		if i == 0 && lastEnd > 0 {
			continue
		}
		for _, sc := range layerScopes {
			j := i + len(sc)
			if !strings.HasPrefix(name[i:], sc) || j >= len(name) || name[j] != '.' {
				continue
			}
			k := j + 1
			for k < len(name) && name[k] >= '0' && name[k] <= '9' {
				k++
			}
			if k == j+1 || (k < len(name) && name[k] != '/' && name[k] != '.') {
				continue
			}
			last, lastEnd = name[j+1:k], min(k+1, len(name))
			i = k - 1 // the loop's i++ moves past the digits
			break
		}
	}
	if last == "" {
		return -1
	}
	n, err := strconv.Atoi(last)
	if err != nil {
		return -1
	}
	return n
}

// finalNorm matches the final norm that onnxruntime-genai scopes as a
// phantom layer T (/model/layers.{T}/final_norm_layernorm/...).
var finalNorm = regexp.MustCompile(`final_norm|final_layernorm|final_layer_norm`)

// layerHints gives each node the layer index its name carries, or -1. When
// the highest layer holds nothing but a final norm, it is the epilogue, not
// a block.
func (ix *index) layerHints() []int {
	if ix.hints == nil {
		ix.hints = scopeHints(ix, ix.nameScope)
	}
	return ix.hints
}

// nameScope is the name that carries n's module scope: its own name; or,
// when that has no layer index, the first weight (initializer) n reads,
// when that one has one; or else the first of its outputs' names that has
// one. ORT's optimizers name a fused node after the fusion ("FastGelu",
// "SkipLayerNorm_AddBias_3", "FullyConnect_MatMul_4") and may rename its
// outputs, but keep torch's parameter names. The first weight decides
// because a fused node can read two layers' weights: the transformers
// optimizer folds block i's last bias into block i+1's first norm
// (SkipLayerNormalization's bias input) or into the final norm (ln_f,
// whose weight carries no layer index), and either node starts what comes
// after block i. The C++ optimizer keeps the name of the pattern's last
// output (/transformer/h.0/mlp/act/Mul_3_output_0).
func (ix *index) nameScope(n *onnx.Node) string {
	if layerHint(n.Name) >= 0 {
		return n.Name
	}
	for _, in := range n.Input {
		if ix.isInit[in] {
			if layerHint(in) >= 0 {
				return in
			}
			break
		}
	}
	for _, o := range n.Output {
		if layerHint(o) >= 0 {
			return o
		}
	}
	return n.Name
}

// scopeHints gives each node the layer index its scope carries, or -1,
// where scope reads a node's module scope (its name, or for the dynamo
// exporter its metadata). A node without one that sits inside one layer
// (see [inferHints]) takes that layer's.
func scopeHints(ix *index, scope func(*onnx.Node) string) []int {
	g := ix.g
	hint := make([]int, len(g.Node))
	scopes := make([]string, len(g.Node))
	top := -1
	for i, n := range g.Node {
		scopes[i] = scope(n)
		hint[i] = layerHint(scopes[i])
		top = max(top, hint[i])
	}
	if top < 0 {
		return hint
	}
	phantom := true
	for i := range g.Node {
		if hint[i] == top && !finalNorm.MatchString(scopes[i]) {
			phantom = false
			break
		}
	}
	if phantom {
		for i := range hint {
			if hint[i] == top {
				hint[i] = -1
			}
		}
	}
	inferHints(ix, hint)
	return hint
}

// inferHints gives a node without a layer hint the hint i when it sits
// inside layer i: it reads at least one tensor, and every tensor it reads
// that is not constant is written by a node of layer i, and every node
// reading its outputs (at least one) is of layer i. Graph optimizers add
// such nodes without a scope: onnxscript's, behind torch's dynamo
// exporter, merges a layer's Slices into one Split that carries no
// metadata. Repeated until nothing changes, for chains of them.
func inferHints(ix *index, hint []int) {
	constant := constantTensors(ix)
	for changed := true; changed; {
		changed = false
		for v, n := range ix.g.Node {
			if hint[v] >= 0 {
				continue
			}
			h := -1
			ok := true
			for _, in := range ix.inputs[v] {
				if in == "" || constant[in] {
					continue
				}
				p, produced := ix.producer[in]
				if !produced || hint[p] < 0 || (h >= 0 && hint[p] != h) {
					ok = false
					break
				}
				h = hint[p]
			}
			if !ok || h < 0 {
				continue
			}
			readers := 0
			for _, o := range n.Output {
				if ix.isOutput[o] {
					ok = false
				}
				for _, c := range ix.consumers[o] {
					readers++
					ok = ok && hint[c] == h
				}
			}
			if ok && readers > 0 {
				hint[v] = h
				changed = true
			}
		}
	}
}

// boundariesByName finds the residual stream from module scopes: the tensor
// block i-1 hands to block i is the one that a node scoped to layer i-1
// writes and only nodes of layer i (and i-1) read.
func boundariesByName(ix *index) ([]Stream, error) {
	g := ix.g
	hint := ix.layerHints()
	T := 0
	for _, h := range hint {
		T = max(T, h+1)
	}
	if T == 0 {
		return nil, fmt.Errorf("no node name carries a layer index (like /model/layers.3/ or /transformer/h.3/)")
	}
	present := make([]bool, T)
	for _, h := range hint {
		if h >= 0 {
			present[h] = true
		}
	}
	for i, p := range present {
		if !p {
			return nil, fmt.Errorf("node names mention layers up to %d but none mentions layer %d", T-1, i)
		}
	}
	if T < 2 {
		return nil, fmt.Errorf("node names mention only one layer")
	}
	constant := constantTensors(ix)
	// readers are the layer hints of t's readers: -1 for unscoped, -2 for a
	// graph output. Shape and Size read only t's metadata, not the stream:
	// transformers >= 4.5x sizes the attention mask from the embedding
	// output (inputs_embeds.shape), so unscoped Shape nodes read x_0.
	readers := func(t string) map[int]bool {
		r := map[int]bool{}
		for _, c := range ix.consumers[t] {
			if isShapeOnly(g.Node[c].OpType) {
				continue
			}
			r[hint[c]] = true
		}
		if ix.isOutput[t] {
			r[-2] = true
		}
		return r
	}
	bounds := make([]Stream, T+1)
	for b := 1; b <= T; b++ {
		var cands []string
		for i, n := range g.Node {
			if hint[i] != b-1 {
				continue
			}
			for _, o := range n.Output {
				if o == "" || isKVName(o) || constant[o] {
					continue
				}
				r := readers(o)
				delete(r, b-1)
				if b < T && len(r) == 1 && r[b] {
					cands = append(cands, o)
				}
				if b == T && len(r) > 0 && !r[b-1] {
					ok := true
					for h := range r {
						if h >= 0 {
							ok = false
						}
					}
					if ok {
						cands = append(cands, o)
					}
				}
			}
		}
		what := fmt.Sprintf("the tensor layer %d hands to layer %d", b-1, b)
		if b == T {
			what = fmt.Sprintf("the output of the last layer (%d)", T-1)
		}
		if err := pick(ix, &bounds[b], cands, what); err != nil {
			return nil, err
		}
	}
	// Block 0's input: read by layer 0 only, computed outside the layers.
	// A tensor layer 0 reads only to re-export (the rotary tables the
	// exporter unsqueezes once, under layer 0's scope, for every layer) is a
	// side input, not the stream: skip candidates whose direct readers write
	// anything a later layer reads besides x_1.
	var cands []string
	seen := map[string]bool{}
	for i := range g.Node {
		if hint[i] != 0 {
			continue
		}
		for _, in := range ix.inputs[i] {
			if in == "" || seen[in] || ix.isInit[in] || constant[in] || isKVName(in) {
				continue
			}
			seen[in] = true
			if p, ok := ix.producer[in]; ok && hint[p] >= 0 {
				continue
			}
			if r := readers(in); len(r) != 1 || !r[0] {
				continue
			}
			if cacheOnly(ix, in) {
				continue // a copy of layer 0's past (TorchScript's one-input Concat)
			}
			if !feedsLaterLayers(ix, hint, in, bounds[1]) {
				cands = append(cands, in)
			}
		}
	}
	if err := pick(ix, &bounds[0], cands, "the input of layer 0"); err != nil {
		return nil, err
	}
	return bounds, nil
}

// feedsLaterLayers reports whether a node reading t writes a tensor, other
// than next, that a node scoped to layer 1 or later reads.
func feedsLaterLayers(ix *index, hint []int, t string, next Stream) bool {
	for _, c := range ix.consumers[t] {
		for _, o := range ix.g.Node[c].Output {
			if next.has(o) {
				continue
			}
			for _, r := range ix.consumers[o] {
				if hint[r] >= 1 {
					return true
				}
			}
		}
	}
	return false
}

// pick accepts one candidate, or two that one node reads together (a
// fused residual pair, in that node's input order).
func pick(ix *index, dst *Stream, cands []string, what string) error {
	switch len(cands) {
	case 1:
		*dst = Stream{cands[0]}
		return nil
	case 0:
		return fmt.Errorf("found no candidate for %s", what)
	case 2:
		for _, c := range ix.consumers[cands[0]] {
			var pair Stream
			n := ix.g.Node[c]
			for _, in := range n.Input {
				if (in == cands[0] || in == cands[1]) && !pair.has(in) {
					pair = append(pair, in)
				}
			}
			if len(pair) == 2 {
				// ORT's transformers optimizer folds the writing block's
				// last bias into the fused norm that reads the pair (its
				// bias input): the bias goes with the pair.
				if bias := skipNormBias(n); bias != "" && n.Input[0] == pair[0] && n.Input[1] == pair[1] && ix.isInit[bias] {
					pair = append(pair, bias)
				}
				*dst = pair
				return nil
			}
		}
	}
	return fmt.Errorf("found %d candidates for %s: %s", len(cands), what, quoteList(cands, 5))
}

func quoteList(xs []string, most int) string {
	var b strings.Builder
	for i, x := range xs {
		if i == most {
			fmt.Fprintf(&b, ", ... (%d more)", len(xs)-most)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(x))
	}
	return b.String()
}

// hintDisagreements lists nodes whose scope names one layer while dataflow
// put them elsewhere (typically the exporter's cross-layer merging).
func hintDisagreements(ix *index, b *Blocks) []string {
	var notes []string
	moved := 0
	where := b.groupOf(len(ix.g.Node))
	hints := ix.layerHints()
	for i, n := range ix.g.Node {
		h := hints[i]
		if h < 0 || where[i] == h {
			continue
		}
		if moved < 5 {
			dest := "the prologue (shared by all blocks)"
			if w := where[i]; w >= 0 && w < b.T {
				dest = fmt.Sprintf("block %d", w)
			} else if w == b.T {
				dest = "the epilogue"
			}
			notes = append(notes, fmt.Sprintf("node %q is scoped to layer %d but dataflow puts it in %s", n.Name, h, dest))
		}
		moved++
	}
	if moved > 5 {
		notes = append(notes, fmt.Sprintf("... %d more nodes whose scope and dataflow disagree", moved-5))
	}
	return notes
}

// cacheOnly reports whether t is computed from KV-cache inputs and
// constants alone: it depends on some past_key_values input and on no
// other graph input.
func cacheOnly(ix *index, t string) bool {
	seen := map[string]bool{}
	kv := false
	stack := []string{t}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[x] {
			continue
		}
		seen[x] = true
		if ix.isInput[x] && !ix.isInit[x] {
			if !isKVName(x) {
				return false
			}
			kv = true
			continue
		}
		if p, ok := ix.producer[x]; ok {
			for _, in := range ix.inputs[p] {
				if in != "" {
					stack = append(stack, in)
				}
			}
		}
	}
	return kv
}

// skipNormBias is the bias input of ORT's fused residual Add and norm, or
// "": SkipLayerNormalization(input, skip, gamma, beta, bias) and
// SkipSimplifiedLayerNormalization(input, skip, gamma, bias) write
// input+skip+bias as output 3 and normalize it.
func skipNormBias(n *onnx.Node) string {
	if n.Domain != "com.microsoft" {
		return ""
	}
	at := map[string]int{"SkipLayerNormalization": 4, "SkipSimplifiedLayerNormalization": 3}[n.OpType]
	if at == 0 || len(n.Input) <= at {
		return ""
	}
	return n.Input[at]
}
