package rewrite

import (
	"fmt"
	"slices"

	"github.com/painterc/painterc/schedule"
)

// Sub-block detection: where a block's attention sublayer ends and its MLP
// sublayer begins, so that a schedule can run one half alone (i.attn,
// i.mlp).
//
// The mid stream of block i is the residual stream between the halves, in
// the same representation as a boundary ([Stream]):
//   - pre-norm (Llama, GPT-2; torch, dynamo, ORT-optimized): the output h
//     of the residual Add that reads the block's input x directly (or
//     through a Cast or Identity of it);
//   - post-norm (BERT): the attention's LayerNorm output, LN(x + Attn(x)):
//     from that Add, the last single stream tensor alive before the MLP's
//     first matrix product;
//   - post-norm with fused norms (BERT through ORT's transformers
//     optimizer): the normalized output of the SkipLayerNormalization that
//     adds the block's input to the attention output;
//   - fused layouts (onnxruntime-genai, ORT's transformers optimizer): the
//     inputs (a, r) of the block's second fused residual norm
//     (Skip[Simplified]LayerNormalization), with its bias c as a third
//     member when that is an initializer, exactly as the next block's
//     boundary would be.
//
// The MLP half is the node that reads the mid stream (the fused norm, or
// every reader of h) and everything in the block that depends on it; the
// attention half is the rest. Nodes that compute from no stream at all
// (constants, shape arithmetic on weights) and that only the MLP half reads
// move to it; those both halves read stay in the attention half and an
// MLP-only instance runs its own copy of them.

// Half returns the nodes of block i that run for part p (ascending indices
// into the graph b's node indices refer to): the attention half, the MLP
// half, or for [schedule.Whole] the whole block. The two halves partition
// Block[i]. Nil when block i has no mid stream (see [Blocks.MidReason]).
func (b *Blocks) Half(i int, p schedule.Part) []int {
	if p == schedule.Whole {
		return b.Block[i]
	}
	if i < 0 || i >= len(b.halves) || b.Mid[i] == nil {
		return nil
	}
	if p == schedule.Attn {
		return b.halves[i][0]
	}
	return b.halves[i][1]
}

// mlpNodes are the nodes an MLP-only instance of block i clones: its MLP
// half and the stream-free attention-half nodes it reads, ascending.
func (b *Blocks) mlpNodes(i int) []int {
	nodes := append(slices.Clone(b.halves[i][1]), b.mlpShared[i]...)
	slices.Sort(nodes)
	return nodes
}

// findMids sets b.Mid, b.MidReason and the halves for every block.
func findMids(ix *index, b *Blocks) {
	b.Mid = make([]Stream, b.T)
	b.MidReason = make([]string, b.T)
	b.halves = make([][2][]int, b.T)
	b.mlpShared = make([][]int, b.T)
	for i := range b.T {
		mid, halves, shared, err := findMid(ix, b, i)
		if err != nil {
			b.MidReason[i] = err.Error()
			continue
		}
		b.Mid[i], b.halves[i], b.mlpShared[i] = mid, halves, shared
	}
}

// isFusedNorm reports ORT's fused residual Add and norm.
func isFusedNorm(op, domain string) bool {
	return domain == "com.microsoft" && (op == "SkipLayerNormalization" || op == "SkipSimplifiedLayerNormalization")
}

// isMatMulLike reports the ops that start a sublayer's projections.
func isMatMulLike(op string) bool {
	switch op {
	case "MatMul", "Gemm", "MatMulNBits", "FusedMatMul", "MatMulInteger", "QLinearMatMul", "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "Conv", "Einsum":
		return true
	}
	return false
}

func findMid(ix *index, b *Blocks, i int) (Stream, [2][]int, []int, error) {
	g := ix.g
	var none [2][]int
	nodes := b.Block[i]
	pos := make(map[int]int, len(nodes)) // node -> position in nodes
	for p, n := range nodes {
		pos[n] = p
	}
	X, Y := b.Boundary[i], b.Boundary[i+1]
	kvIn := map[string]bool{}
	var presents []string
	if b.HasKV() {
		s := b.KV[i]
		for _, t := range []string{s.PastKey, s.PastValue} {
			if t != "" {
				kvIn[t] = true
			}
		}
		for _, t := range []string{s.PresentKey, s.PresentValue} {
			if t != "" {
				presents = append(presents, t)
			}
		}
	}
	// dep: tensors whose values come from the block's input stream or cache
	// (not through Shape/Size); touched: tensors that depend on them in any
	// way, shapes included.
	dep, touched := map[string]bool{}, map[string]bool{}
	for _, t := range X.tensors() {
		dep[t], touched[t] = true, true
	}
	for t := range kvIn {
		dep[t], touched[t] = true, true
	}
	for _, n := range nodes {
		d, tc := false, false
		for _, in := range ix.inputs[n] {
			d = d || dep[in]
			tc = tc || touched[in]
		}
		for _, o := range g.Node[n].Output {
			if o == "" {
				continue
			}
			if d && !isShapeOnly(g.Node[n].OpType) {
				dep[o] = true
			}
			if tc {
				touched[o] = true
			}
		}
	}

	var mid Stream
	var seeds []int // the MLP half's first nodes
	var fused []int
	for _, n := range nodes {
		nd := g.Node[n]
		if isFusedNorm(nd.OpType, nd.Domain) && len(nd.Input) >= 2 && !(X.has(nd.Input[0]) && X.has(nd.Input[1])) {
			fused = append(fused, n)
		}
	}
	// Post-norm with fused norms (BERT through ORT's optimizer): each
	// sublayer ends with its own SkipLayerNormalization and the block's
	// output is the last one's normalized output. The mid stream is then
	// the normalized output of the norm that adds the block's input.
	postNorm := false
	if len(Y.tensors()) == 1 && len(X.tensors()) == 1 {
		if p, ok := ix.producer[Y[0]]; ok && isFusedNorm(g.Node[p].OpType, g.Node[p].Domain) && g.Node[p].Output[0] == Y[0] {
			postNorm = true
		}
	}
	switch {
	case postNorm:
		var first []int
		for _, n := range fused {
			if in := g.Node[n].Input; in[0] == X[0] || in[1] == X[0] {
				first = append(first, n)
			}
		}
		if len(first) != 1 {
			return nil, none, nil, fmt.Errorf("block %d ends with a fused norm (post-norm) but %d fused norms add its input %q; painterc expects one, after the attention", i, len(first), X[0])
		}
		mid = Stream{g.Node[first[0]].Output[0]}
		seeds = ix.consumers[mid[0]]
	case len(fused) == 1:
		nd := g.Node[fused[0]]
		mid = Stream{nd.Input[0], nd.Input[1]}
		if bias := skipNormBias(nd); bias != "" && ix.isInit[bias] {
			mid = append(mid, bias)
		}
		seeds = fused
	case len(fused) > 1:
		return nil, none, nil, fmt.Errorf("block %d has %d fused residual norms besides the one reading its input (%s); painterc expects one between attention and MLP", i, len(fused), nodeNames(ix, fused, 3))
	case len(X.tensors()) != 1:
		return nil, none, nil, fmt.Errorf("block %d reads a fused pair %s but has no second fused residual norm between attention and MLP", i, X)
	default:
		x := X[0]
		// The input as the block reads it: TorchScript's RMSNorm casts x
		// to float32 (a Cast to its own type), and the residual Add reads
		// that Cast.
		isX := map[string]bool{x: true}
		for _, n := range nodes {
			nd := g.Node[n]
			if (nd.OpType == "Cast" || nd.OpType == "Identity") && nd.Domain == "" && len(nd.Input) == 1 && len(nd.Output) == 1 && isX[nd.Input[0]] {
				isX[nd.Output[0]] = true
			}
		}
		var adds []int
		for _, n := range nodes {
			nd := g.Node[n]
			if nd.OpType != "Add" || nd.Domain != "" || len(nd.Input) != 2 {
				continue
			}
			a, c := nd.Input[0], nd.Input[1]
			if (isX[a] && !isX[c] && dep[c]) || (isX[c] && !isX[a] && dep[a]) {
				adds = append(adds, n)
			}
		}
		if len(adds) != 1 {
			return nil, none, nil, fmt.Errorf("block %d has %d residual Adds that read its input %q directly; painterc expects exactly one, after the attention", i, len(adds), x)
		}
		// Where each stream tensor is last read inside the block; the
		// block's output lives on past it.
		lastUse := map[string]int{}
		for p, n := range nodes {
			for _, in := range ix.inputs[n] {
				if dep[in] {
					lastUse[in] = p
				}
			}
		}
		for _, t := range Y.tensors() {
			lastUse[t] = len(nodes)
		}
		alive := func(p int) []string { // stream tensors alive after position p
			var out []string
			seen := map[string]bool{}
			for q := 0; q <= p; q++ {
				for _, o := range g.Node[nodes[q]].Output {
					if dep[o] && lastUse[o] > p && !seen[o] {
						seen[o] = true
						out = append(out, o)
					}
				}
			}
			return out
		}
		p := pos[adds[0]]
		h := g.Node[adds[0]].Output[0]
		if live := alive(p); len(live) != 1 || live[0] != h {
			return nil, none, nil, fmt.Errorf("block %d: after its residual Add %q, %d stream tensors are alive (%s), not just its output; the attention and MLP halves are not separable", i, g.Node[adds[0]].Name, len(live), quoteList(live, 4))
		}
		// Post-norm: the stream the MLP reads is the norm of h, the last
		// lone stream tensor before the MLP's first matrix product.
		for q := p + 1; q < len(nodes) && !isMatMulLike(g.Node[nodes[q]].OpType); q++ {
			if live := alive(q); len(live) == 1 {
				h = live[0]
			}
		}
		mid = Stream{h}
		seeds = ix.consumers[h]
	}

	// The MLP half: the seeds and what depends on them in the block.
	inB := map[int]bool{}
	for _, n := range seeds {
		if _, ok := pos[n]; ok {
			inB[n] = true
		}
	}
	producedB := map[string]bool{}
	for _, n := range nodes {
		if !inB[n] {
			for _, in := range ix.inputs[n] {
				if producedB[in] {
					inB[n] = true
					break
				}
			}
		}
		if inB[n] {
			for _, o := range g.Node[n].Output {
				producedB[o] = true
			}
		}
	}
	// Stream-free nodes go with their readers: to the MLP half when only it
	// reads them, copied into MLP-only instances when both halves do.
	shared := map[int]bool{}
	for p := len(nodes) - 1; p >= 0; p-- {
		n := nodes[p]
		if inB[n] {
			continue
		}
		free := true
		for _, o := range g.Node[n].Output {
			free = free && !touched[o]
		}
		for _, in := range ix.inputs[n] {
			free = free && !touched[in]
		}
		if !free {
			continue
		}
		byB, byA, outside := false, false, false
		for _, o := range g.Node[n].Output {
			if o == "" {
				continue
			}
			if ix.isOutput[o] {
				outside = true
			}
			for _, c := range ix.consumers[o] {
				switch _, in := pos[c]; {
				case !in:
					outside = true
				case shared[c]:
					byA, byB = true, true
				case inB[c]:
					byB = true
				default:
					byA = true
				}
			}
		}
		switch {
		case byB && !byA && !outside:
			inB[n] = true
		case byB:
			shared[n] = true
		}
	}
	var half [2][]int
	var sharedList []int
	for _, n := range nodes {
		if inB[n] {
			half[1] = append(half[1], n)
		} else {
			half[0] = append(half[0], n)
			if shared[n] {
				sharedList = append(sharedList, n)
			}
		}
	}
	if len(half[0]) == 0 || len(half[1]) == 0 {
		return nil, none, nil, fmt.Errorf("block %d: the mid stream %s leaves one half empty", i, mid)
	}
	if err := checkHalves(ix, i, X, mid, Y, presents, kvIn, inB, shared, pos); err != nil {
		return nil, none, nil, err
	}
	return mid, half, sharedList, nil
}

// checkHalves makes sure each half can run alone: the attention half reads
// nothing the MLP half computes, the MLP half reads the block's input and
// cache only through the mid stream, the attention half writes the mid
// stream and the cache, the MLP half the block's output.
func checkHalves(ix *index, i int, X, mid, Y Stream, presents []string, kvIn map[string]bool, inB, shared map[int]bool, pos map[int]int) error {
	g := ix.g
	inBlock := func(t string) (int, bool) {
		p, ok := ix.producer[t]
		if !ok {
			return 0, false
		}
		_, in := pos[p]
		return p, in
	}
	for n := range pos {
		nd := g.Node[n]
		for _, in := range ix.inputs[n] {
			if in == "" || ix.isInit[in] {
				continue
			}
			p, local := inBlock(in)
			if !inB[n] {
				if local && inB[p] {
					return fmt.Errorf("block %d: node %q of the attention half reads %q, which the MLP half computes", i, nd.Name, in)
				}
				continue
			}
			switch {
			case mid.has(in):
			case local && (inB[p] || shared[p]):
			case local:
				return fmt.Errorf("block %d: node %q of the MLP half reads %q from the attention half, not through the mid stream %s", i, nd.Name, in, mid)
			case kvIn[in]:
				return fmt.Errorf("block %d: node %q of the MLP half reads the KV cache %q", i, nd.Name, in)
			case X.has(in):
				return fmt.Errorf("block %d: node %q of the MLP half reads the block's input %q, not the mid stream %s", i, nd.Name, in, mid)
			}
		}
	}
	for _, t := range Y.tensors() {
		if p, ok := inBlock(t); !ok || !inB[p] {
			return fmt.Errorf("block %d: its output %q is not computed by the MLP half", i, t)
		}
	}
	for _, t := range presents {
		if p, ok := inBlock(t); ok && inB[p] {
			return fmt.Errorf("block %d: its cache output %q is computed by the MLP half", i, t)
		}
	}
	for _, t := range mid.tensors() {
		if X.has(t) {
			continue
		}
		if p, ok := inBlock(t); !ok || inB[p] {
			return fmt.Errorf("block %d: the mid stream tensor %q is not computed by the attention half", i, t)
		}
	}
	return nil
}

func nodeNames(ix *index, nodes []int, most int) string {
	names := make([]string, len(nodes))
	for k, n := range nodes {
		names[k] = nodeLabel(ix.g.Node[n], n)
	}
	return quoteList(names, most)
}

// checkParts makes sure every sub-block step of s can be lowered on b: the
// block has a mid stream (in every branch of a merged decoder).
func (b *Blocks) checkParts(s schedule.Schedule) error {
	for _, st := range s.Stages() {
		if st.Part == schedule.Whole {
			continue
		}
		blk := st.Blocks[0]
		all := []*Blocks{b}
		if b.Merged != nil {
			all = b.Merged.Branches
		}
		for _, bb := range all {
			if bb.Mid != nil && blk < len(bb.Mid) && bb.Mid[blk] != nil {
				continue
			}
			why := "detection did not look for it"
			if blk < len(bb.MidReason) && bb.MidReason[blk] != "" {
				why = bb.MidReason[blk]
			}
			return &PartError{Block: blk, Part: st.Part, Layout: b.Layout(), Reason: why}
		}
	}
	return nil
}

// CheckParts reports whether every sub-block step of s (i.attn, i.mlp) can
// run on b: a *PartError names the first that cannot.
func (b *Blocks) CheckParts(s schedule.Schedule) error { return b.checkParts(s) }

// PartError reports a sub-block step on a block whose halves painterc could
// not separate.
type PartError struct {
	Block  int
	Part   schedule.Part
	Layout string
	Reason string
}

func (e *PartError) Error() string {
	return fmt.Sprintf("schedule step %d%s: cannot run block %d's %s alone in this layout (%s): %s; run the whole block (%d) instead",
		e.Block, e.Part, e.Block, e.Part.Name(), e.Layout, e.Reason, e.Block)
}
