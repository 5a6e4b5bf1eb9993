package rewrite

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
)

// The fork graph scores K candidate schedules against the full model in one
// ONNX Runtime run. It computes the identity schedule and every candidate on
// the same input as a trie over their stage lists: a prefix of stages that
// several schedules share (the prologue, blocks 0-9 for "0-9,11-29" and
// "0-9,12-29") is computed once and its stream feeds every branch that
// continues from it. Each distinct leaf gets its own copy of the epilogue
// (final norm, lm_head) and the graph reduces its logits, in the graph, to
// three per-token numbers, so that nothing vocabulary-wide leaves ONNX
// Runtime:
//
//	painterc.fork.kl.{j}    float32 [batch, seq]  KL(p_full || p_j) over the vocabulary
//	painterc.fork.top1.{j}  float32 [batch, seq]  1 where argmax p_j = argmax p_full (first on ties)
//	painterc.fork.nll.{j}   float32 [batch, seq]  -log p_j(targets[b, s])
//	painterc.fork.nll.full  float32 [batch, seq]  -log p_full(targets[b, s])
//
// j indexes the candidates as given. targets is a new int64 [batch, seq]
// input, painterc.fork.targets: the token each position should predict
// (input_ids shifted left by one; the last position's entry is whatever the
// caller likes, and its NLL is meaningless).
const (
	ForkTargets = "painterc.fork.targets"
	ForkNLLFull = "painterc.fork.nll.full"
)

// ForkKL, ForkTop1 and ForkNLL name candidate j's outputs of the fork graph.
func ForkKL(j int) string   { return "painterc.fork.kl." + strconv.Itoa(j) }
func ForkTop1(j int) string { return "painterc.fork.top1." + strconv.Itoa(j) }
func ForkNLL(j int) string  { return "painterc.fork.nll." + strconv.Itoa(j) }

// forkRoot prefixes every name the fork graph invents: block instances
// /painter/fork/{k}/..., parallel means, per-leaf heads and scoring.
const forkRoot = "/painter/fork"

// forkMinOpset is the oldest default-domain opset the scoring nodes can be
// written in (GatherElements).
const forkMinOpset = 11

// LogitsOutput names m's logits: the one graph output that is not a cache
// present and that the epilogue computes. It is what the fork graph's
// heads copy and what a lowered model's scorer reads.
func LogitsOutput(m *onnx.Model, b *Blocks) (string, error) {
	if m == nil || m.Graph == nil {
		return "", fmt.Errorf("rewrite: no model")
	}
	inEpilogue := map[string]bool{}
	for _, i := range b.Epilogue {
		for _, o := range m.Graph.Node[i].Output {
			inEpilogue[o] = true
		}
	}
	var found []string
	for _, v := range m.Graph.Output {
		if !isKVName(v.Name) && inEpilogue[v.Name] {
			found = append(found, v.Name)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case slices.Contains(found, "logits"):
		return "logits", nil
	case len(found) == 0:
		return "", fmt.Errorf("rewrite: model %q has no output that its epilogue computes besides the cache; nothing to score", m.Graph.Name)
	}
	return "", fmt.Errorf("rewrite: model %q has several epilogue outputs (%s) and none is named logits; cannot tell which to score", m.Graph.Name, strings.Join(found, ", "))
}

// forkTrie is one stage of the trie of schedules: the children continue
// from this stage's output stream. leaf is the index of the distinct
// schedule that ends here, or -1.
type forkTrie struct {
	blocks   []int
	part     schedule.Part // a sub-block stage: one block's attention or MLP half
	children []*forkTrie
	leaf     int
}

func (t *forkTrie) child(blocks []int, part schedule.Part) *forkTrie {
	for _, c := range t.children {
		if slices.Equal(c.blocks, blocks) && c.part == part {
			return c
		}
	}
	c := &forkTrie{blocks: blocks, part: part, leaf: -1}
	t.children = append(t.children, c)
	return c
}

// LowerFork builds the fork graph described above for m's blocks b: the
// identity schedule and cands, sharing initializers (the same *onnx.Tensor)
// and their common leading stages. Block instances, parallel groups (the
// Mean of their members) and fused (a, r) streams are emitted as Lower
// emits them. A KV-cache model keeps its cache inputs, which screening
// feeds empty: every instance of block i reads block i's own past input,
// and the presents are dropped (no graph output). m is not modified.
//
// Requires: b was detected on m.Graph, not on a merged decoder; every
// candidate is valid for b.T; the model imports default-domain opset >= 11.
// Ensures: the result passes Verify; its outputs are exactly the fork
// outputs for j in 0..len(cands)-1 and ForkNLLFull, none vocabulary-wide;
// its inputs are m's plus ForkTargets.
func LowerFork(m *onnx.Model, b *Blocks, cands []schedule.Schedule) (*onnx.Model, error) {
	if b.Merged != nil {
		return nil, fmt.Errorf("rewrite: the fork graph needs the blocks in the main graph; a merged decoder keeps them inside an If (use decoder_model.onnx)")
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("rewrite: the fork graph needs at least one candidate schedule")
	}
	opset := int64(0)
	for _, o := range m.OpsetImport {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			opset = o.Version
		}
	}
	if opset < forkMinOpset {
		return nil, fmt.Errorf("rewrite: model %q imports opset %d of the default domain; the fork graph's scoring needs %d or later", m.Graph.Name, opset, forkMinOpset)
	}
	logits, err := LogitsOutput(m, b)
	if err != nil {
		return nil, err
	}
	g := m.Graph
	if slices.ContainsFunc(g.Input, func(v *onnx.ValueInfo) bool { return v.Name == ForkTargets }) {
		return nil, fmt.Errorf("rewrite: model %q already has an input named %q", g.Name, ForkTargets)
	}
	logitsType := onnx.Float
	for _, v := range g.Output {
		if v.Name == logits && v.Type != nil && v.Type.TensorType != nil {
			logitsType = v.Type.TensorType.ElemType
		}
	}

	// The trie over the stage lists: the identity schedule is leaf 0, each
	// distinct candidate the next leaf; leafOf maps candidates to leaves.
	root := &forkTrie{leaf: -1}
	var leaves []string
	leafOf := make([]int, len(cands))
	ident := make([]int, b.T)
	for i := range ident {
		ident[i] = i
	}
	all := append([]schedule.Schedule{schedule.Sequential(ident...)}, cands...)
	for j, s := range all {
		if err := s.Validate(b.T); err != nil {
			if j == 0 {
				return nil, fmt.Errorf("rewrite: the full model's schedule (%d blocks): %w", b.T, err)
			}
			return nil, fmt.Errorf("rewrite: candidate %d (%s): %w", j-1, s, err)
		}
		if err := b.checkParts(s); err != nil {
			return nil, fmt.Errorf("rewrite: candidate %d (%s): %w", j-1, s, err)
		}
		t := root
		for _, st := range s.Stages() {
			t = t.child(st.Blocks, st.Part)
		}
		if t.leaf < 0 {
			t.leaf = len(leaves)
			leaves = append(leaves, s.String())
		}
		if j > 0 {
			leafOf[j-1] = t.leaf
		}
	}

	l := &lowering{g: g, b: b, root: forkRoot, vinfo: map[string]*onnx.ValueInfo{}}
	for _, v := range g.ValueInfo {
		l.vinfo[v.Name] = v
	}
	// The prologue, as lowerGraph emits it: its reads of a block's cache go
	// to slot 0's input, which keeps its name here.
	prologue := append(append([]int(nil), b.Prologue...), b.PrologueCopies...)
	slices.Sort(prologue)
	for _, i := range prologue {
		l.nodes = append(l.nodes, l.retargetKV(g.Node[i]))
	}

	// Depth-first over the trie: a stage is emitted once, after its
	// parent, so the node list stays topologically sorted. k numbers block
	// instances and si stages across the whole graph, which keeps every
	// invented name unique.
	final := make([]Stream, len(leaves))
	k, si, mlps := 0, 0, 0
	var walk func(t *forkTrie, cur Stream)
	walk = func(t *forkTrie, cur Stream) {
		for _, c := range t.children {
			out := cur
			switch {
			case c.part == schedule.Attn:
				start := len(l.nodes)
				out = l.attnHalf(k, c.blocks[0], cur)
				l.ownCache(start, k, c.blocks[0])
				k++
			case c.part == schedule.MLP:
				out = l.mlpHalf(mlps, c.blocks[0], cur) // no cache
				mlps++
			case len(c.blocks) == 1:
				blk := c.blocks[0]
				out = l.instanceStream(k, b.Boundary[blk+1])
				start := len(l.nodes)
				l.instance(k, blk, cur, out)
				l.ownCache(start, k, blk)
				k++
			default:
				start := len(l.nodes)
				first := k
				out, k = l.parallel(si, k, c.blocks, cur, false)
				// parallel numbers its members first, first+1, ...; each
				// reads its own block's cache.
				for mi, blk := range c.blocks {
					l.ownCache(start, first+mi, blk)
				}
			}
			si++
			if c.leaf >= 0 {
				final[c.leaf] = out
			}
			walk(c, out)
		}
	}
	walk(root, b.Boundary[0])

	// One epilogue per leaf, each followed at once by its scoring, so that
	// ONNX Runtime holds the vocabulary-wide tensors of the full model and
	// of one candidate at a time, not of every leaf at once (with 16
	// candidates of SmolLM2 that is 100 MB against 3 GB per batch of 4×128
	// tokens, and the first run spent seconds faulting in the arena).
	sc := &forkScorer{l: l, opset: opset}
	targets := sc.axes(forkRoot+"/score/", "Unsqueeze", ForkTargets, "targets")
	head := func(leaf int) (logprobs, argmax, nll string) {
		x := l.forkEpilogue(leaf, final[leaf], logits)
		p := fmt.Sprintf("%s/score.%d/", forkRoot, leaf)
		if logitsType != onnx.Float {
			x = sc.node(p, "Cast", x, "logits_f32", intAttribute("to", int64(onnx.Float)))
		}
		logprobs = sc.node(p, "LogSoftmax", x, "logprobs", intAttribute("axis", -1))
		argmax = sc.node(p, "ArgMax", x, "argmax", intAttribute("axis", -1), intAttribute("keepdims", 0))
		picked := sc.node(p, "GatherElements", logprobs, "picked", intAttribute("axis", -1))
		sc.last().Input = append(sc.last().Input, targets)
		nll = sc.node(p, "Neg", sc.axes(p, "Squeeze", picked, "picked_sq"), "nll")
		return logprobs, argmax, nll
	}
	lpFull, argFull, nllFull := head(0)
	pFull := sc.node(forkRoot+"/score.0/", "Exp", lpFull, "probs")
	// score writes leaf's KL and top-1 against the full model.
	score := func(leaf int, logprobs, argmax, nll string) [3]string {
		p := fmt.Sprintf("%s/score.%d/", forkRoot, leaf)
		diff := sc.node(p, "Sub", lpFull, "diff")
		sc.last().Input = append(sc.last().Input, logprobs)
		terms := sc.node(p, "Mul", pFull, "kl_terms")
		sc.last().Input = append(sc.last().Input, diff)
		kl := sc.reduceSum(p, terms, "kl")
		eq := sc.node(p, "Equal", argFull, "agree")
		sc.last().Input = append(sc.last().Input, argmax)
		top1 := sc.node(p, "Cast", eq, "top1", intAttribute("to", int64(onnx.Float)))
		return [3]string{kl, top1, nll}
	}
	scored := make([][3]string, len(leaves))
	for leaf := 1; leaf < len(leaves); leaf++ {
		lp, am, nll := head(leaf)
		scored[leaf] = score(leaf, lp, am, nll)
	}
	if slices.Contains(leafOf, 0) {
		// A candidate that is the identity: its KL is exactly 0.
		scored[0] = score(0, lpFull, argFull, nllFull)
	}
	var outs []*onnx.ValueInfo
	output := func(name, from string) {
		l.nodes = append(l.nodes, &onnx.Node{Name: forkRoot + "/out/" + name, OpType: "Identity", Input: []string{from}, Output: []string{name}})
		outs = append(outs, forkOutputInfo(name))
	}
	for j, leaf := range leafOf {
		output(ForkKL(j), scored[leaf][0])
		output(ForkTop1(j), scored[leaf][1])
		output(ForkNLL(j), scored[leaf][2])
	}
	output(ForkNLLFull, nllFull)

	nodes, consts := shareConstants(l.nodes)
	ng := &onnx.Graph{
		Wire:                   g.Wire,
		Node:                   nodes,
		Name:                   g.Name,
		DocString:              g.DocString,
		QuantizationAnnotation: g.QuantizationAnnotation,
		MetadataProps:          g.MetadataProps,
		Initializer:            g.Initializer,
		SparseInitializer:      g.SparseInitializer,
		Output:                 outs,
	}
	ng.Input = append(slices.Clone(g.Input), forkTargetsInfo())
	defined := Defined(ng)
	for _, v := range g.ValueInfo {
		if defined[v.Name] {
			ng.ValueInfo = append(ng.ValueInfo, v)
		}
	}
	ng.ValueInfo = append(ng.ValueInfo, l.clonedInfo...)
	pruneInitializers(ng, g)
	ng.Initializer = append(append(ng.Initializer, consts...), sc.inits...)

	out := m.Derive()
	out.Wire = m.Wire
	out.IRVersion, out.OpsetImport = m.IRVersion, m.OpsetImport
	out.ProducerName, out.ProducerVersion = m.ProducerName, m.ProducerVersion
	out.Domain, out.ModelVersion, out.DocString = m.Domain, m.ModelVersion, m.DocString
	out.Graph, out.TrainingInfo, out.Functions = ng, m.TrainingInfo, m.Functions
	out.MetadataProps = withMetadata(m.MetadataProps, map[string]string{
		MetaPass: "fork " + strings.Join(leaves, " | "),
	})
	// Unlike Lower's callers, nobody verifies the fork graph after this:
	// a wrong name would otherwise surface as an ONNX Runtime load error.
	if err := Verify("the fork graph", out); err != nil {
		return nil, fmt.Errorf("rewrite: this is a bug in painterc: %w", err)
	}
	return out, nil
}

// ownCache points the reads of instance k's cache slot, in the nodes from
// start on, back at block blk's own past input. instance renames the cache
// to slot k (past_key_values.{k}), which a fork graph does not have: it
// keeps m's inputs, one per block, which screening feeds empty, and for an
// empty past every instance of a block reads the same thing. The presents
// keep their slot-k names (unique per instance) and go unread.
func (l *lowering) ownCache(start, k, blk int) {
	b := l.b
	if !b.HasKV() {
		return
	}
	back := map[string]string{}
	slot := b.KV[blk]
	if slot.PastKey != "" {
		back[fmt.Sprintf(b.KVNames.PastKey, k)] = slot.PastKey
	}
	if slot.PastValue != "" {
		back[fmt.Sprintf(b.KVNames.PastValue, k)] = slot.PastValue
	}
	same := func(s string) string { return s }
	for i := start; i < len(l.nodes); i++ {
		n := l.nodes[i]
		if slices.ContainsFunc(nodeReads(n), func(s string) bool { _, ok := back[s]; return ok }) {
			l.nodes[i] = cloneNode(n, back, same)
		}
	}
}

// forkEpilogue appends leaf's copy of the epilogue, reading the stream st,
// and returns its copy of the logits. Every tensor the epilogue writes gets
// the prefix /painter/fork/head.{leaf}/; the reads of Boundary[T] (a weight
// member too, as Lower's biasRename does) are renamed to st brought to
// Boundary[T]'s width.
func (l *lowering) forkEpilogue(leaf int, st Stream, logits string) string {
	b := l.b
	p := fmt.Sprintf("%s/head.%d", forkRoot, leaf)
	in := l.adapt(p+"/adapt/", st, b.Boundary[b.T], true)
	rename := map[string]string{}
	for i, t := range b.Boundary[b.T] {
		rename[t] = in[i]
	}
	prefix := func(t string) string {
		if strings.HasPrefix(t, "/") {
			return p + t
		}
		return p + "/" + t
	}
	for _, i := range b.Epilogue {
		for _, o := range l.g.Node[i].Output {
			if o != "" {
				rename[o] = prefix(o)
			}
		}
	}
	for _, i := range b.Epilogue {
		l.nodes = append(l.nodes, cloneNode(l.retargetKV(l.g.Node[i]), rename, prefix))
	}
	return rename[logits]
}

// forkScorer writes the scoring nodes, in the model's opset.
type forkScorer struct {
	l     *lowering
	opset int64
	axis  string // the int64 [1] initializer {-1}, once made
	inits []*onnx.Tensor
}

// node appends op reading in (callers append further inputs through last)
// and returns its output, named prefix+out.
func (s *forkScorer) node(prefix, op, in, out string, attrs ...*onnx.Attribute) string {
	s.l.nodes = append(s.l.nodes, &onnx.Node{Name: prefix + op + "_" + out, OpType: op, Input: []string{in}, Output: []string{prefix + out}, Attribute: attrs})
	return prefix + out
}

func (s *forkScorer) last() *onnx.Node { return s.l.nodes[len(s.l.nodes)-1] }

// minusOne is the axes input {-1} that Unsqueeze, Squeeze (opset 13) and
// ReduceSum (opset 13) take.
func (s *forkScorer) minusOne() string {
	if s.axis == "" {
		s.axis = forkRoot + "/score/axes_minus_one"
		s.inits = append(s.inits, &onnx.Tensor{Name: s.axis, Dims: []int64{1}, DataType: onnx.Int64, RawData: binary.LittleEndian.AppendUint64(nil, ^uint64(0))})
	}
	return s.axis
}

// axes appends Unsqueeze or Squeeze on the last axis.
func (s *forkScorer) axes(prefix, op, in, out string) string {
	if s.opset >= 13 {
		r := s.node(prefix, op, in, out)
		s.last().Input = append(s.last().Input, s.minusOne())
		return r
	}
	return s.node(prefix, op, in, out, &onnx.Attribute{Name: "axes", Type: onnx.AttrInts, Ints: []int64{-1}})
}

// reduceSum sums the last axis away.
func (s *forkScorer) reduceSum(prefix, in, out string) string {
	if s.opset >= 13 {
		r := s.node(prefix, "ReduceSum", in, out, intAttribute("keepdims", 0))
		s.last().Input = append(s.last().Input, s.minusOne())
		return r
	}
	return s.node(prefix, "ReduceSum", in, out, &onnx.Attribute{Name: "axes", Type: onnx.AttrInts, Ints: []int64{-1}}, intAttribute("keepdims", 0))
}

func intAttribute(name string, v int64) *onnx.Attribute {
	a := &onnx.Attribute{Name: name, Type: onnx.AttrInt, I: v}
	a.SetHas(3) // written even when 0
	return a
}

func forkDims(elem onnx.DataType) *onnx.Type {
	b, s := &onnx.Dimension{}, &onnx.Dimension{}
	b.SetDimParam("batch")
	s.SetDimParam("sequence_length")
	return &onnx.Type{TensorType: &onnx.TensorType{ElemType: elem, Shape: &onnx.TensorShape{Dim: []*onnx.Dimension{b, s}}}}
}

func forkOutputInfo(name string) *onnx.ValueInfo {
	return &onnx.ValueInfo{Name: name, Type: forkDims(onnx.Float)}
}

func forkTargetsInfo() *onnx.ValueInfo {
	return &onnx.ValueInfo{Name: ForkTargets, Type: forkDims(onnx.Int64)}
}

// shareConstants replaces the Constant nodes that hold a tensor by
// initializers, one per distinct tensor: every instance of a block copies
// the block's Constant nodes (cloneNode shares their attribute), so a fork
// graph of SmolLM2's TorchScript export with 8 candidates holds some 10000
// of them, a third of its nodes, for about 2600 values. ONNX Runtime would
// turn each into an initializer of its own as it loads the graph and then
// deduplicate them; here the readers of every copy read one initializer,
// which holds the same value.
func shareConstants(nodes []*onnx.Node) ([]*onnx.Node, []*onnx.Tensor) {
	shared := map[*onnx.Tensor]string{}
	rename := map[string]string{}
	var inits []*onnx.Tensor
	out := make([]*onnx.Node, 0, len(nodes))
	for _, n := range nodes {
		if n.OpType == "Constant" && n.Domain == "" && len(n.Output) == 1 && len(n.Attribute) == 1 &&
			n.Attribute[0].Name == "value" && n.Attribute[0].T != nil && !n.Attribute[0].T.IsExternal() {
			t := n.Attribute[0].T
			name, ok := shared[t]
			if !ok {
				name = fmt.Sprintf("%s/const.%d", forkRoot, len(inits))
				c := *t
				c.Name = name
				inits = append(inits, &c)
				shared[t] = name
			}
			rename[n.Output[0]] = name
			continue
		}
		out = append(out, n)
	}
	same := func(s string) string { return s }
	for i, n := range out {
		if slices.ContainsFunc(nodeReads(n), func(s string) bool { _, ok := rename[s]; return ok }) {
			out[i] = cloneNode(n, rename, same)
		}
	}
	return out, inits
}
