package rewrite

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
)

// Metadata keys every rewritten model carries.
const (
	MetaSchedule = "painterc.schedule" // the canonical schedule
	MetaPass     = "painterc.pass"     // the pass and its parameters
	MetaKVSlots  = "painterc.kv_slots" // block of each KV slot, comma-separated
)

// Provenance records what produced a schedule, for the output's metadata.
type Provenance struct {
	Pass string // e.g. "looped-parallel n=7 loops=3", or "schedule" for --schedule
}

// Lower builds the model that runs m's blocks in the order s says, and
// returns with it the residual stream of each stage in its main graph:
// element 0 is the stream the first stage reads (b.Boundary[0]), element
// i+1 the output of stage i (a block instance, or a parallel group's
// mean), so the last is what the epilogue reads. Merged decoders have no
// main-graph stream: the streams are nil.
//
// Requires: b was detected on m.Graph; s is valid for b.T.
// Ensures: the result keeps m's graph inputs and outputs (cache I/O renumbered
// per instance), IR version and opsets; it is topologically sorted with
// unique names, and passes Verify.
//
// Every executed block instance k is a copy of the block's nodes whose names
// and internal tensors carry the prefix /painter/k/; initializers are shared
// (the same *onnx.Tensor), so repeating a block adds nodes, not weights.
// Blocks that never run drop their weights. A parallel group feeds each member
// the same stream tensor and takes the element-wise Mean of their outputs.
// Instance k reads and writes KV slot k. m is not modified.
func Lower(m *onnx.Model, b *Blocks, s schedule.Schedule, p Provenance) (*onnx.Model, []Stream, error) {
	if err := s.Validate(b.T); err != nil {
		return nil, nil, err
	}
	if err := b.checkParts(s); err != nil {
		return nil, nil, err
	}
	var ng *onnx.Graph
	var streams []Stream
	if b.Merged != nil {
		var err error
		if ng, err = lowerMerged(m.Graph, b, s); err != nil {
			return nil, nil, err
		}
	} else {
		ng, streams = lowerGraph(m.Graph, b, s, "/painter")
	}
	pruneInitializers(ng, m.Graph)

	// Derive keeps the link to m's file, so that saving streams the shared
	// weights from it kernel-side instead of through the mapping.
	out := m.Derive()
	out.Wire = m.Wire
	out.IRVersion, out.OpsetImport = m.IRVersion, m.OpsetImport
	out.ProducerName, out.ProducerVersion = m.ProducerName, m.ProducerVersion
	out.Domain, out.ModelVersion, out.DocString = m.Domain, m.ModelVersion, m.DocString
	out.Graph, out.TrainingInfo, out.Functions = ng, m.TrainingInfo, m.Functions
	out.MetadataProps = withMetadata(m.MetadataProps, map[string]string{
		MetaSchedule: s.String(),
		MetaPass:     p.Pass,
	})
	if b.HasKV() {
		slots := s.Instances()
		parts := make([]string, len(slots))
		for i, blk := range slots {
			parts[i] = strconv.Itoa(blk)
		}
		out.MetadataProps = withMetadata(out.MetadataProps, map[string]string{MetaKVSlots: strings.Join(parts, ",")})
	}
	// The caller verifies the result: the compile pipeline runs Verify
	// after every phase, so doing it here too would check each graph twice.
	return out, streams, nil
}

// lowerGraph builds g's replacement: prologue, the block instances the
// schedule runs, epilogue. Names it invents start with root. Initializers
// are left to the caller (pruneInitializers). It also returns the stream
// each stage reads and writes, as Lower documents.
func lowerGraph(g *onnx.Graph, b *Blocks, s schedule.Schedule, root string) (*onnx.Graph, []Stream) {
	l := &lowering{g: g, b: b, root: root, vinfo: map[string]*onnx.ValueInfo{}}
	for _, v := range g.ValueInfo {
		l.vinfo[v.Name] = v
	}
	// Prologue, with any read of a block's cache (the mask's past length)
	// pointed at slot 0, which every non-empty schedule has. The block nodes
	// it also reads (PrologueCopies) run here once more, in graph order,
	// under their own names; the instances' copies carry /painter/k/.
	prologue := append(append([]int(nil), b.Prologue...), b.PrologueCopies...)
	slices.Sort(prologue)
	for _, i := range prologue {
		l.nodes = append(l.nodes, l.retargetKV(g.Node[i]))
	}
	stages := s.Stages()
	cur := b.Boundary[0]
	streams := []Stream{cur}
	k := 0
	mlps := 0 // MLP-only instances so far, which own no KV slot
	for si, st := range stages {
		last := si == len(stages)-1
		switch {
		case st.Part == schedule.Attn:
			cur = l.attnHalf(k, st.Blocks[0], cur)
			k++
		case st.Part == schedule.MLP:
			cur = l.mlpHalf(mlps, st.Blocks[0], cur)
			mlps++
		case len(st.Blocks) == 1:
			blk := st.Blocks[0]
			out := l.instanceStream(k, b.Boundary[blk+1])
			if last {
				out = l.finalStream(out)
			}
			l.instance(k, blk, cur, out)
			cur, k = out, k+1
		default:
			cur, k = l.parallel(si, k, st.Blocks, cur, last)
		}
		streams = append(streams, cur)
	}
	// The epilogue reads Boundary[T]: rename the last stream into it, adding
	// or splitting a fused pair when the widths differ. A weight member is
	// never written: the epilogue's reads of it are renamed instead.
	final := l.adapt(root+"/adapt/", cur, b.Boundary[b.T], false)
	var biasRename map[string]string
	if w := b.Boundary[b.T].weight(); w != "" && final.weight() != w {
		biasRename = map[string]string{w: final.weight()}
	}
	for _, i := range b.Epilogue {
		n := l.retargetKV(g.Node[i])
		if biasRename != nil {
			c := *n
			c.Input = renamed(n.Input, biasRename)
			n = &c
		}
		l.nodes = append(l.nodes, n)
	}

	ng := &onnx.Graph{
		Wire:                   g.Wire,
		Node:                   l.nodes,
		Name:                   g.Name,
		DocString:              g.DocString,
		QuantizationAnnotation: g.QuantizationAnnotation,
		MetadataProps:          g.MetadataProps,
		Initializer:            g.Initializer,
		SparseInitializer:      g.SparseInitializer,
	}
	slots := s.Instances()
	ng.Input = kvInterface(b, g.Input, slots, false)
	ng.Output = kvInterface(b, g.Output, slots, true)
	defined := map[string]bool{}
	for _, n := range ng.Node {
		for _, o := range n.Output {
			defined[o] = true
		}
	}
	for _, v := range g.ValueInfo {
		if defined[v.Name] {
			ng.ValueInfo = append(ng.ValueInfo, v)
		}
	}
	ng.ValueInfo = append(ng.ValueInfo, l.clonedInfo...)
	return ng, streams
}

// pruneInitializers keeps, in orig's order, only the initializers that ng's
// nodes (their subgraphs included) or outputs read: blocks that never run
// drop their weights.
func pruneInitializers(ng, orig *onnx.Graph) {
	used := map[string]bool{}
	for _, n := range ng.Node {
		for _, in := range nodeReads(n) {
			used[in] = true
		}
	}
	for _, v := range ng.Output {
		used[v.Name] = true
	}
	ng.Initializer, ng.SparseInitializer = nil, nil
	for _, t := range orig.Initializer {
		if used[t.Name] {
			ng.Initializer = append(ng.Initializer, t)
		}
	}
	for _, t := range orig.SparseInitializer {
		if t.Values != nil && used[t.Values.Name] {
			ng.SparseInitializer = append(ng.SparseInitializer, t)
		}
	}
}

type lowering struct {
	g          *onnx.Graph
	b          *Blocks
	root       string // prefix of every invented name, e.g. "/painter"
	nodes      []*onnx.Node
	vinfo      map[string]*onnx.ValueInfo
	clonedInfo []*onnx.ValueInfo
}

// parallel emits stage si, a parallel group of blocks starting at instance
// k: every member reads cur, and the output is the element-wise Mean of each
// tensor of their streams. For a fused pair (a, r) that is (mean a, mean r),
// whose sum is the mean of the members' residual streams because the mean
// is linear. It returns the group's output and the next instance number.
func (l *lowering) parallel(si, k int, blocks []int, cur Stream, last bool) (Stream, int) {
	b := l.b
	var outs []Stream
	for _, blk := range blocks {
		out := l.instanceStream(k, b.Boundary[blk+1])
		l.instance(k, blk, cur, out)
		outs = append(outs, out)
		k++
	}
	// Members may hand on streams of different widths (block 0 of a fused
	// model takes one tensor, the others a pair, but all emit pairs); bring
	// them to the first one's width so that their tensors line up.
	for j := range outs[1:] {
		outs[j+1] = l.adapt(fmt.Sprintf("%s/mean.%d/adapt_%d/", l.root, si, j+1), outs[j+1], outs[0], true)
	}
	width := len(outs[0])
	out := make(Stream, width)
	for p := range out {
		out[p] = fmt.Sprintf("%s/mean.%d/output", l.root, si)
		if width > 1 {
			out[p] = fmt.Sprintf("%s/mean.%d/output_%d", l.root, si, p)
		}
	}
	if last {
		out = l.finalStream(out)
	}
	for p := range out {
		ins := make([]string, len(outs))
		for j, o := range outs {
			ins[j] = o[p]
		}
		name := fmt.Sprintf("%s/mean.%d/Mean", l.root, si)
		if p > 0 {
			name = fmt.Sprintf("%s/mean.%d/Mean_%d", l.root, si, p)
		}
		l.nodes = append(l.nodes, &onnx.Node{Name: name, OpType: "Mean", Input: ins, Output: []string{out[p]}})
	}
	return out, k
}

// instanceStream names block instance k's copy of a stream. A weight
// member (see [Stream]) is nobody's output: it stays as it is.
func (l *lowering) instanceStream(k int, s Stream) Stream { return l.instanceStreamKey(k, s) }

func (l *lowering) instanceStreamKey(k any, s Stream) Stream {
	out := make(Stream, len(s))
	for i, t := range s {
		out[i] = instanceName(l.root, k, t)
	}
	if w := s.weight(); w != "" {
		out[2] = w
	}
	return out
}

// finalStream is the stream the last stage writes: the model's own
// Boundary[T] names when the widths agree, so the epilogue reads it as is
// (but for a weight member, which the stage's own stays).
func (l *lowering) finalStream(s Stream) Stream {
	if len(s) != len(l.b.Boundary[l.b.T]) {
		return s
	}
	out := slices.Clone(l.b.Boundary[l.b.T])
	if w := s.weight(); w != "" {
		out[2] = w
	}
	return out
}

// adapt makes stream have want's width, writing the result under want's
// names, or under fresh names starting with prefix when fresh is set. Every
// width holds the same sum, exactly: a pair (a, r) becomes one tensor a+r;
// one tensor x becomes the pair (x, x-x), which a fused norm sums back to
// x; a triple (a, r, c) becomes a+r+c or (a, r+c), and a narrower stream
// gets c-c (zeros shaped like want's weight) as its weight. A weight
// member is never written under want's name (it names an initializer):
// the result keeps its own, and the caller renames reads of want's.
// Streams of equal width need nothing but the renames.
func (l *lowering) adapt(prefix string, have, want Stream, fresh bool) Stream {
	node := func(op, name string, out string, in ...string) {
		l.nodes = append(l.nodes, &onnx.Node{Name: prefix + name, OpType: op, Input: in, Output: []string{out}})
	}
	if len(have) == len(want) {
		if fresh {
			return have
		}
		out := slices.Clone(want)
		for i := range have {
			if i == 2 {
				out[2] = have[2]
				continue
			}
			if have[i] != want[i] {
				node("Identity", fmt.Sprintf("Identity_%d", i), want[i], have[i])
			}
		}
		return out
	}
	out := slices.Clone(want)
	if fresh {
		for i := range out {
			out[i] = fmt.Sprintf("%soutput_%d", prefix, i)
		}
	}
	if len(out) == 3 {
		out[2] = prefix + "zero_weight"
	}
	switch {
	case len(have) == 2 && len(out) == 1:
		node("Add", "Add", out[0], have[0], have[1])
	case len(have) == 3 && len(out) == 1:
		node("Add", "Add", prefix+"sum", have[0], have[1])
		node("Add", "Add_weight", out[0], prefix+"sum", have[2])
	case len(have) == 1 && len(out) >= 2:
		node("Identity", "Identity", out[0], have[0])
		node("Sub", "Sub", out[1], have[0], have[0])
	case len(have) == 3 && len(out) == 2:
		node("Identity", "Identity", out[0], have[0])
		node("Add", "Add_weight", out[1], have[1], have[2])
	case len(have) == 2 && len(out) == 3:
		node("Identity", "Identity", out[0], have[0])
		node("Identity", "Identity_1", out[1], have[1])
	default:
		panic(fmt.Sprintf("rewrite: no adapter from a %d-tensor stream to a %d-tensor one", len(have), len(out)))
	}
	if len(out) == 3 {
		node("Sub", "Sub_weight", out[2], want[2], want[2])
	}
	return out
}

// instanceName is the name of tensor or node t inside block instance k
// (a number, or "mlp.m" for an MLP-only instance).
func instanceName(root string, k any, t string) string {
	if strings.HasPrefix(t, "/") {
		return fmt.Sprintf("%s/%v%s", root, k, t)
	}
	return fmt.Sprintf("%s/%v/%s", root, k, t)
}

// instance appends a copy of block blk as instance k, reading in and
// writing out.
func (l *lowering) instance(k, blk int, in, out Stream) {
	b := l.b
	in = l.adapt(fmt.Sprintf("%s/%d/adapt/", l.root, k), in, b.Boundary[blk], true)
	rename := map[string]string{}
	for i, t := range b.Boundary[blk] {
		rename[t] = in[i]
	}
	for i, t := range b.Boundary[blk+1] {
		rename[t] = out[i]
	}
	l.renameKV(rename, blk, k)
	l.clone(b.Block[blk], rename, func(t string) string { return instanceName(l.root, k, t) })
}

// attnHalf appends block blk's attention half as instance k (KV slot k),
// reading in as Boundary[blk], and returns the stream it writes: its copy
// of Mid[blk]. A mid member that is the block's own input (genai's block
// 0 adds its input to the attention output in the fused norm that starts
// the MLP) is handed on as the instance's input.
func (l *lowering) attnHalf(k, blk int, in Stream) Stream {
	b := l.b
	in = l.adapt(fmt.Sprintf("%s/%d/adapt/", l.root, k), in, b.Boundary[blk], true)
	rename := map[string]string{}
	for i, t := range b.Boundary[blk] {
		rename[t] = in[i]
	}
	mid := b.Mid[blk]
	out := make(Stream, len(mid))
	for i, t := range mid {
		switch r, isIn := rename[t]; {
		case i == 2:
			out[i] = t // a weight: no one writes it
		case isIn:
			out[i] = r
		default:
			out[i] = instanceName(l.root, k, t)
			rename[t] = out[i]
		}
	}
	l.renameKV(rename, blk, k)
	l.clone(b.halves[blk][0], rename, func(t string) string { return instanceName(l.root, k, t) })
	return out
}

// mlpHalf appends block blk's MLP half as the m-th MLP-only instance
// (names under /painter/mlp.m/; it owns no KV slot), reading in as
// Mid[blk], and returns its copy of Boundary[blk+1].
func (l *lowering) mlpHalf(m, blk int, in Stream) Stream {
	b := l.b
	key := fmt.Sprintf("mlp.%d", m)
	in = l.adapt(fmt.Sprintf("%s/%s/adapt/", l.root, key), in, b.Mid[blk], true)
	rename := map[string]string{}
	for i, t := range b.Mid[blk] {
		rename[t] = in[i]
	}
	out := l.instanceStreamKey(key, b.Boundary[blk+1])
	for i, t := range b.Boundary[blk+1] {
		rename[t] = out[i]
	}
	l.clone(b.mlpNodes(blk), rename, func(t string) string { return instanceName(l.root, key, t) })
	return out
}

// renameKV points block blk's cache inputs and outputs at slot k.
func (l *lowering) renameKV(rename map[string]string, blk, k int) {
	b := l.b
	if b.HasKV() {
		slot := b.KV[blk]
		for orig, pattern := range map[string]string{
			slot.PastKey: b.KVNames.PastKey, slot.PastValue: b.KVNames.PastValue,
			slot.PresentKey: b.KVNames.PresentKey, slot.PresentValue: b.KVNames.PresentValue,
		} {
			if orig != "" {
				rename[orig] = fmt.Sprintf(pattern, k)
			}
		}
	}
}

// clone appends copies of nodes, with the tensors in rename renamed and
// every other output and node name prefixed.
func (l *lowering) clone(nodes []int, rename map[string]string, prefix func(string) string) {
	for _, i := range nodes {
		for _, o := range l.g.Node[i].Output {
			if _, ok := rename[o]; !ok && o != "" {
				rename[o] = prefix(o)
			}
		}
	}
	for _, i := range nodes {
		n := l.g.Node[i]
		c := cloneNode(n, rename, prefix)
		l.nodes = append(l.nodes, c)
		for _, o := range n.Output {
			if v, ok := l.vinfo[o]; ok {
				cv := *v
				cv.Name = rename[o]
				l.clonedInfo = append(l.clonedInfo, &cv)
			}
		}
	}
}

// cloneNode copies n with tensors renamed and its name prefixed. Attributes
// are shared unless they hold subgraphs, which are copied with the same
// renaming applied to what they capture.
func cloneNode(n *onnx.Node, rename map[string]string, prefix func(string) string) *onnx.Node {
	c := *n
	if n.Name != "" {
		c.Name = prefix(n.Name)
	}
	c.Input = renamed(n.Input, rename)
	c.Output = renamed(n.Output, rename)
	hasGraph := false
	for _, a := range n.Attribute {
		if a.G != nil || len(a.Graphs) > 0 {
			hasGraph = true
		}
	}
	if hasGraph {
		c.Attribute = make([]*onnx.Attribute, len(n.Attribute))
		for j, a := range n.Attribute {
			if a.G == nil && len(a.Graphs) == 0 {
				c.Attribute[j] = a
				continue
			}
			ca := *a
			if a.G != nil {
				ca.G = cloneGraph(a.G, rename, prefix)
			}
			if len(a.Graphs) > 0 {
				ca.Graphs = make([]*onnx.Graph, len(a.Graphs))
				for gi, sg := range a.Graphs {
					ca.Graphs[gi] = cloneGraph(sg, rename, prefix)
				}
			}
			c.Attribute[j] = &ca
		}
	}
	return &c
}

// cloneGraph copies a subgraph for instance k: names it defines get the
// instance prefix (so sibling copies stay distinct), captured names follow
// the enclosing rename.
func cloneGraph(g *onnx.Graph, outer map[string]string, prefix func(string) string) *onnx.Graph {
	rename := make(map[string]string, len(outer))
	for a, b := range outer {
		rename[a] = b
	}
	for _, v := range g.Input {
		rename[v.Name] = prefix(v.Name)
	}
	for _, n := range g.Node {
		for _, o := range n.Output {
			if o != "" {
				rename[o] = prefix(o)
			}
		}
	}
	c := *g
	c.Node = make([]*onnx.Node, len(g.Node))
	for i, n := range g.Node {
		c.Node[i] = cloneNode(n, rename, prefix)
	}
	c.Input = renameInfos(g.Input, rename)
	c.Output = renameInfos(g.Output, rename)
	c.ValueInfo = renameInfos(g.ValueInfo, rename)
	return &c
}

func renameInfos(vs []*onnx.ValueInfo, rename map[string]string) []*onnx.ValueInfo {
	out := make([]*onnx.ValueInfo, len(vs))
	for i, v := range vs {
		if r, ok := rename[v.Name]; ok {
			cv := *v
			cv.Name = r
			out[i] = &cv
		} else {
			out[i] = v
		}
	}
	return out
}

func renamed(names []string, rename map[string]string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if r, ok := rename[n]; ok {
			out[i] = r
		} else {
			out[i] = n
		}
	}
	return out
}

// retargetKV points a shared node's reads of any block's past K/V at slot 0:
// all slots have the same shape, and slot 0 exists in every rewrite.
func (l *lowering) retargetKV(n *onnx.Node) *onnx.Node {
	b := l.b
	if !b.HasKV() {
		return n
	}
	rename := map[string]string{}
	for _, s := range b.KV {
		if s.PastKey != "" {
			rename[s.PastKey] = fmt.Sprintf(b.KVNames.PastKey, 0)
		}
		if s.PastValue != "" {
			rename[s.PastValue] = fmt.Sprintf(b.KVNames.PastValue, 0)
		}
	}
	touched := false
	for _, in := range nodeReads(n) {
		if r, ok := rename[in]; ok && r != in {
			touched = true
		}
	}
	if !touched {
		return n
	}
	c := *n
	c.Input = renamed(n.Input, rename)
	return &c
}

// kvInterface rebuilds graph inputs or outputs: everything but the KV
// cache stays as it was; the cache entries are replaced, where the first one
// stood, by one slot per executed instance.
func kvInterface(b *Blocks, vs []*onnx.ValueInfo, slots []int, outputs bool) []*onnx.ValueInfo {
	if !b.HasKV() {
		return vs
	}
	var out []*onnx.ValueInfo
	inserted := false
	for _, v := range vs {
		if !isKVName(v.Name) {
			out = append(out, v)
			continue
		}
		if inserted {
			continue
		}
		inserted = true
		byName := map[string]*onnx.ValueInfo{}
		for _, w := range vs {
			byName[w.Name] = w
		}
		for k, blk := range slots {
			s := b.KV[blk]
			pairs := [][2]string{{s.PastKey, b.KVNames.PastKey}, {s.PastValue, b.KVNames.PastValue}}
			if outputs {
				pairs = [][2]string{{s.PresentKey, b.KVNames.PresentKey}, {s.PresentValue, b.KVNames.PresentValue}}
			}
			for _, pr := range pairs {
				orig, ok := byName[pr[0]]
				if !ok {
					continue
				}
				cv := *orig
				cv.Name = fmt.Sprintf(pr[1], k)
				out = append(out, &cv)
			}
		}
	}
	return out
}

// withMetadata returns props with the given keys set (replaced in place when
// present, else appended in sorted key order), leaving props itself intact.
func withMetadata(props []*onnx.StringStringEntry, set map[string]string) []*onnx.StringStringEntry {
	out := make([]*onnx.StringStringEntry, 0, len(props)+len(set))
	done := map[string]bool{}
	for _, p := range props {
		if v, ok := set[p.Key]; ok {
			out = append(out, &onnx.StringStringEntry{Key: p.Key, Value: v})
			done[p.Key] = true
			continue
		}
		out = append(out, p)
	}
	for _, k := range []string{MetaSchedule, MetaPass, MetaKVSlots} {
		if v, ok := set[k]; ok && !done[k] {
			out = append(out, &onnx.StringStringEntry{Key: k, Value: v})
		}
	}
	return out
}
