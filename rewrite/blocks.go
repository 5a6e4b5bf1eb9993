package rewrite

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/painterc/painterc/rewrite/onnx"
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

// KVSlot names one block's cache tensors ("" when absent).
type KVSlot struct {
	PastKey, PastValue, PresentKey, PresentValue string
}

// KVNaming formats cache tensor names for a slot number; the patterns hold
// one %d (e.g. "past_key_values.%d.key").
type KVNaming struct {
	PastKey, PastValue, PresentKey, PresentValue string
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

var (
	// Layer indices in module scopes of torch.onnx, optimum and genai exports:
	// /model/layers.3/..., /transformer/h.3/..., /bert/encoder/layer.3/...
	layerScope = regexp.MustCompile(`(?:^|/|\.)(?:layers|layer|h|blocks|block|decoder_layers)\.(\d+)(?:/|$|\.)`)
	kvName     = regexp.MustCompile(`^(past[A-Za-z_]*|present[A-Za-z_]*)\.(\d+)\.(key|value)$`)
)

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

// groupOf maps each of a graph's n nodes to where detection put it: -1 for
// the prologue, i for block i, T for the epilogue.
func (b *Blocks) groupOf(n int) []int {
	group := make([]int, n)
	for _, i := range b.Prologue {
		group[i] = -1
	}
	for bi, nodes := range b.Block {
		for _, i := range nodes {
			group[i] = bi
		}
	}
	for _, i := range b.Epilogue {
		group[i] = b.T
	}
	return group
}

// checkKVOwners makes sure block i alone writes present.{i}.*: lowering
// renames the cache outputs of each instance of block i, so an output
// computed elsewhere (a side node in the prologue, another block) would
// either be written twice or never.
func checkKVOwners(ix *index, b *Blocks) error {
	group := b.groupOf(len(ix.g.Node))
	for i, s := range b.KV {
		for _, t := range []string{s.PresentKey, s.PresentValue} {
			if t == "" {
				continue
			}
			p, ok := ix.producer[t]
			if !ok {
				return fmt.Errorf("the cache output %q of block %d is not computed by any node", t, i)
			}
			if g := group[p]; g != i {
				where := fmt.Sprintf("block %d", g)
				switch {
				case g < 0:
					where = "the prologue (it does not depend on the block's input or cache)"
				case g == b.T:
					where = "the epilogue"
				}
				return fmt.Errorf("the cache output %q of block %d is computed by node %q in %s; each block must compute its own cache", t, i, ix.g.Node[p].Name, where)
			}
		}
	}
	return nil
}

func layerHint(name string) int {
	m := layerScope.FindAllStringSubmatch(name, -1)
	if m == nil {
		return -1
	}
	i, err := strconv.Atoi(m[len(m)-1][1])
	if err != nil {
		return -1
	}
	return i
}

// finalNorm matches the final norm that onnxruntime-genai scopes as a
// phantom layer T (/model/layers.{T}/final_norm_layernorm/...).
var finalNorm = regexp.MustCompile(`final_norm|final_layernorm|final_layer_norm`)

// layerHints gives each node the layer index its name carries, or -1. When
// the highest layer holds nothing but a final norm, it is the epilogue, not
// a block.
func layerHints(g *onnx.Graph) []int {
	hint := make([]int, len(g.Node))
	top := -1
	for i, n := range g.Node {
		hint[i] = layerHint(n.Name)
		top = max(top, hint[i])
	}
	if top < 0 {
		return hint
	}
	phantom := true
	for i, n := range g.Node {
		if hint[i] == top && !finalNorm.MatchString(n.Name) {
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
	return hint
}

// NodeGraph is the graph that b's node indices refer to: top itself, or
// for a merged decoder the first branch of its If node.
func (b *Blocks) NodeGraph(top *onnx.Graph) *onnx.Graph {
	if b.Merged == nil {
		return top
	}
	for _, a := range top.Node[b.Merged.Node].Attribute {
		if a.Name == b.Merged.Attrs[0] {
			return a.G
		}
	}
	return top
}

// MergedIf locates blocks inside the branches of one If node.
type MergedIf struct {
	Node     int       // index of the If node in the top-level graph
	Attrs    []string  // its branch attributes, in node order
	Branches []*Blocks // detection inside each branch
}

// detectMerged looks for an If node whose every branch is a transformer
// with the same number of blocks. It returns nil, nil when there is none.
func detectMerged(g *onnx.Graph, o DetectOptions) (*Blocks, error) {
	for i, n := range g.Node {
		if n.OpType != "If" || n.Domain != "" {
			continue
		}
		var m MergedIf
		var errs []string
		for _, a := range n.Attribute {
			if a.G == nil {
				continue
			}
			bo := o
			bo.outerInits = append(append([]*onnx.Tensor(nil), o.outerInits...), g.Initializer...)
			b, err := Detect(a.G, bo)
			if err != nil {
				errs = append(errs, fmt.Sprintf("If node %q, %s: %v", n.Name, a.Name, err))
				continue
			}
			m.Attrs = append(m.Attrs, a.Name)
			m.Branches = append(m.Branches, b)
		}
		if len(m.Branches) == 0 {
			continue
		}
		if len(errs) > 0 {
			return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
		}
		first := m.Branches[0]
		for j, b := range m.Branches[1:] {
			if b.T != first.T || b.HasKV() != first.HasKV() {
				return nil, fmt.Errorf("If node %q: %s has %d blocks but %s has %d", n.Name, m.Attrs[0], first.T, m.Attrs[j+1], b.T)
			}
		}
		m.Node = i
		out := *first
		out.Merged = &m
		out.Notes = append(append([]string(nil), first.Notes...), fmt.Sprintf("the blocks are inside If node %q (branches %s), as in a merged decoder; each branch is rewritten the same way", n.Name, strings.Join(m.Attrs, ", ")))
		return &out, nil
	}
	return nil, nil
}

// findKV maps past_key_values.{i}.key/value inputs and present.{i}.* outputs
// to layers.
func findKV(g *onnx.Graph) ([]KVSlot, KVNaming, error) {
	var slots []KVSlot
	var naming KVNaming
	var problems []string
	grow := func(i int) {
		for len(slots) <= i {
			slots = append(slots, KVSlot{})
		}
	}
	// Lowering renames slot k's tensors with the patterns, so each role
	// needs one pattern that reproduces every name, and one name per layer.
	set := func(name string, i int, slot, pat *string, pattern, role string) {
		switch {
		case *slot != "" && *slot != name:
			problems = append(problems, fmt.Sprintf("%q and %q are both the %s of layer %d", *slot, name, role, i))
		case *pat != "" && *pat != pattern:
			problems = append(problems, fmt.Sprintf("%q and %q name the %s two ways", fmt.Sprintf(*pat, i), name, role))
		case fmt.Sprintf(pattern, i) != name:
			problems = append(problems, fmt.Sprintf("%q writes layer %d unusually (want %q)", name, i, fmt.Sprintf(pattern, i)))
		}
		*slot, *pat = name, pattern
	}
	visit := func(name string, output bool) {
		m := kvName.FindStringSubmatch(name)
		if m == nil {
			return
		}
		i, err := strconv.Atoi(m[2])
		if err != nil || i > 1<<16 {
			return
		}
		grow(i)
		pattern := m[1] + ".%d." + m[3]
		switch {
		case !output && m[3] == "key":
			set(name, i, &slots[i].PastKey, &naming.PastKey, pattern, "past key")
		case !output && m[3] == "value":
			set(name, i, &slots[i].PastValue, &naming.PastValue, pattern, "past value")
		case output && m[3] == "key":
			set(name, i, &slots[i].PresentKey, &naming.PresentKey, pattern, "present key")
		default:
			set(name, i, &slots[i].PresentValue, &naming.PresentValue, pattern, "present value")
		}
	}
	inputs := map[string]bool{}
	for _, v := range g.Input {
		visit(v.Name, false)
		inputs[v.Name] = true
	}
	// A subgraph (a branch of a merged decoder) reads the cache from the
	// enclosing graph's inputs.
	for _, name := range captures(g) {
		visit(name, false)
	}
	for _, v := range g.Output {
		if inputs[v.Name] && kvName.MatchString(v.Name) {
			problems = append(problems, fmt.Sprintf("%q is both a graph input and a graph output", v.Name))
		}
		visit(v.Name, true)
	}
	if p := naming.PastKey; p != "" && (p == naming.PresentKey || p == naming.PresentValue) ||
		naming.PastValue != "" && (naming.PastValue == naming.PresentKey || naming.PastValue == naming.PresentValue) {
		problems = append(problems, "cache inputs and outputs are named alike: "+quoteList([]string{naming.PastKey, naming.PastValue, naming.PresentKey, naming.PresentValue}, 4))
	}
	if len(problems) > 0 {
		return nil, naming, &DetectError{Reasons: []string{"cannot renumber the KV cache: " + problems[0]}}
	}
	for i, s := range slots {
		if s == (KVSlot{}) {
			return nil, naming, &DetectError{Reasons: []string{fmt.Sprintf("the KV-cache inputs/outputs skip layer %d (found up to layer %d)", i, len(slots)-1)}}
		}
	}
	return slots, naming, nil
}

// boundariesByName finds the residual stream from module scopes: the tensor
// block i-1 hands to block i is the one that a node scoped to layer i-1
// writes and only nodes of layer i (and i-1) read.
func boundariesByName(ix *index) ([]Stream, error) {
	g := ix.g
	hint := layerHints(g)
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
	readers := func(t string) map[int]bool { // layer hints of t's readers; -1 for unscoped, -2 graph output
		r := map[int]bool{}
		for _, c := range ix.consumers[t] {
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
			for _, in := range ix.g.Node[c].Input {
				if (in == cands[0] || in == cands[1]) && !pair.has(in) {
					pair = append(pair, in)
				}
			}
			if len(pair) == 2 {
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

func isKVName(s string) bool { return kvName.MatchString(s) }

// constantTensors marks tensors that depend on no graph input: initializers,
// Constant outputs and whatever is computed only from those.
func constantTensors(ix *index) map[string]bool {
	c := map[string]bool{}
	for name := range ix.isInit {
		if !ix.isInput[name] {
			c[name] = true
		}
	}
	for i, n := range ix.g.Node {
		all := true
		for _, in := range ix.inputs[i] {
			if in != "" && !c[in] {
				all = false
				break
			}
		}
		if all {
			for _, o := range n.Output {
				c[o] = true
			}
		}
	}
	return c
}

// assign puts every node into the prologue, a block or the epilogue, given
// the boundaries, by dataflow:
//   - nodes x_0 depends on are prologue;
//   - a node that reads the residual stream (directly or through other such
//     nodes, but not through Shape/Size) belongs to the block of the latest
//     boundary it depends on, or to the epilogue past x_T; a block's own KV
//     inputs count as its stream;
//   - every other node is side computation: it belongs to block i when only
//     block i uses it (constants, shape arithmetic), else to the prologue,
//     where it runs once for every block.
//
// It then checks that no block reads another block's internal tensors.
func assign(ix *index, bounds []Stream, kv []KVSlot) (*Blocks, error) {
	g := ix.g
	T := len(bounds) - 1
	n := len(g.Node)
	const side = -1
	level := map[string]int{} // stream tensor -> latest boundary it depends on
	for i, st := range bounds {
		for _, t := range st {
			if prev, dup := level[t]; dup {
				return nil, fmt.Errorf("boundary %q appears twice (positions %d and %d)", t, prev, i)
			}
			level[t] = i
		}
	}
	for i, s := range kv {
		if i >= T {
			break
		}
		for _, t := range []string{s.PastKey, s.PastValue} {
			if t != "" {
				level[t] = i
			}
		}
	}
	// Position of each boundary's producer, to check the order.
	for i := 1; i <= T; i++ {
		for _, t := range bounds[i] {
			p, ok := ix.producer[t]
			if !ok {
				return nil, fmt.Errorf("boundary %d (%q) is a graph input, but only the first boundary may be", i, t)
			}
			for _, u := range bounds[i-1] {
				if q, ok := ix.producer[u]; ok && q >= p {
					return nil, fmt.Errorf("boundary %d (%q) is computed before boundary %d (%q)", i, t, i-1, u)
				}
			}
		}
	}

	group := make([]int, n) // -1 prologue, 0..T-1 block, T epilogue, -2 undecided side
	const undecided = -2
	// Ancestors of x_0 run first.
	anc := map[int]bool{}
	var stack []int
	for _, t := range bounds[0] {
		if p, ok := ix.producer[t]; ok {
			stack = append(stack, p)
		}
	}
	{
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if anc[v] {
				continue
			}
			anc[v] = true
			for _, in := range ix.inputs[v] {
				if q, ok := ix.producer[in]; ok {
					stack = append(stack, q)
				}
			}
		}
	}
	for i, nd := range g.Node {
		if anc[i] {
			group[i] = side
			continue
		}
		lv := side
		for _, in := range ix.inputs[i] {
			if l, ok := level[in]; ok && l > lv {
				lv = l
			}
		}
		if lv == side || isShapeOnly(nd.OpType) {
			// Shape/Size read only metadata: their output is side data, placed
			// below with the other side nodes by who reads it.
			group[i] = undecided
			continue
		}
		group[i] = lv
		for _, o := range nd.Output {
			if o == "" {
				continue
			}
			if _, isBound := level[o]; isBound && o != "" {
				continue
			}
			level[o] = lv
		}
	}
	// Check each boundary is written by the block before it.
	for i := 1; i <= T; i++ {
		for _, t := range bounds[i] {
			p := ix.producer[t]
			if group[p] != i-1 {
				return nil, fmt.Errorf("boundary %d (%q) is written by node %q, which depends on boundary %d, not %d: the boundaries are not a chain of residual-stream tensors", i, t, g.Node[p].Name, group[p], i-1)
			}
		}
	}
	// Side nodes: private to one block, or shared (prologue). Walk backwards
	// so a node's readers are placed before the node itself.
	for i := n - 1; i >= 0; i-- {
		if group[i] != undecided {
			continue
		}
		owner := undecided
		shared := false
		for _, o := range g.Node[i].Output {
			if o == "" {
				continue
			}
			if ix.isOutput[o] {
				shared = true
			}
			for _, c := range ix.consumers[o] {
				gc := group[c]
				if gc == side || gc == T || gc == undecided {
					shared = true
					continue
				}
				if owner == undecided {
					owner = gc
				} else if owner != gc {
					shared = true
				}
			}
		}
		if shared || owner == undecided {
			group[i] = side
		} else {
			group[i] = owner
		}
	}
	b := &Blocks{T: T, Boundary: bounds, Block: make([][]int, T)}
	for i := range g.Node {
		switch gi := group[i]; {
		case gi == side:
			b.Prologue = append(b.Prologue, i)
		case gi == T:
			b.Epilogue = append(b.Epilogue, i)
		default:
			b.Block[gi] = append(b.Block[gi], i)
		}
	}
	for i, nodes := range b.Block {
		if len(nodes) == 0 {
			return nil, fmt.Errorf("block %d has no nodes", i)
		}
	}
	// Every tensor a group reads must come from the group itself, from its
	// boundary input or KV input, or from the prologue / graph inputs /
	// initializers (side inputs).
	owner := make(map[string]int, n)
	for i, nd := range g.Node {
		for _, o := range nd.Output {
			owner[o] = group[i]
		}
	}
	sideIn := map[string]bool{}
	groupName := func(gi int) string {
		switch gi {
		case side:
			return "the prologue"
		case T:
			return "the epilogue"
		}
		return fmt.Sprintf("block %d", gi)
	}
	for i, nd := range g.Node {
		gi := group[i]
		for _, in := range ix.inputs[i] {
			if in == "" || ix.isInit[in] {
				continue
			}
			og, produced := owner[in]
			switch {
			case !produced:
				// a graph input: a KV input must be the block's own
				if l, ok := level[in]; ok && gi != side && gi != T && l != gi && !bounds[0].has(in) {
					return nil, fmt.Errorf("node %q (%s) reads %q, the KV cache of block %d", nd.Name, groupName(gi), in, l)
				}
				if gi >= 0 && gi < T && !bounds[0].has(in) {
					if _, isKV := level[in]; !isKV {
						sideIn[in] = true
					}
				}
			case og == gi:
			case og == side:
				if gi >= 0 && gi < T && !bounds[gi].has(in) {
					sideIn[in] = true
				}
			case gi >= 0 && gi <= T && bounds[gi].has(in):
			default:
				return nil, fmt.Errorf("node %q (%s) reads %q, which %s computes: blocks must communicate only through the residual stream", nd.Name, groupName(gi), in, groupName(og))
			}
		}
	}
	for _, v := range g.Output {
		if og, ok := owner[v.Name]; ok && og >= 0 && og < T && !isKVName(v.Name) && !bounds[T].has(v.Name) {
			return nil, fmt.Errorf("graph output %q is computed inside block %d; a rewritten model could not provide it", v.Name, og)
		}
	}
	for t := range sideIn {
		b.SideInputs = append(b.SideInputs, t)
	}
	sort.Strings(b.SideInputs)
	return b, nil
}

// hintDisagreements lists nodes whose scope names one layer while dataflow
// put them elsewhere (typically the exporter's cross-layer merging).
func hintDisagreements(ix *index, b *Blocks) []string {
	var notes []string
	moved := 0
	where := b.groupOf(len(ix.g.Node))
	for i, n := range ix.g.Node {
		h := layerHint(n.Name)
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
