package rewrite

import (
	"fmt"
	"sort"
)

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
	// fromStream marks the tensors of level that depend on a boundary, not
	// only on a KV-cache input.
	fromStream := map[string]bool{}
	for i, st := range bounds {
		for _, t := range st.tensors() {
			if prev, dup := level[t]; dup {
				return nil, fmt.Errorf("boundary %q appears twice (positions %d and %d)", t, prev, i)
			}
			level[t] = i
			fromStream[t] = true
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
		for _, t := range bounds[i].tensors() {
			p, ok := ix.producer[t]
			if !ok {
				return nil, fmt.Errorf("boundary %d (%q) is a graph input, but only the first boundary may be", i, t)
			}
			for _, u := range bounds[i-1].tensors() {
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
		stream := false
		for _, in := range ix.inputs[i] {
			stream = stream || fromStream[in]
		}
		for _, o := range nd.Output {
			if o == "" {
				continue
			}
			if _, isBound := level[o]; isBound && o != "" {
				continue
			}
			level[o] = lv
			fromStream[o] = stream
		}
	}
	// Check each boundary is written by the block before it.
	for i := 1; i <= T; i++ {
		for _, t := range bounds[i].tensors() {
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
	copied := map[string]bool{} // block tensors the prologue or epilogue reads

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
			case (gi == side || gi == T) && og >= 0 && og < T && !fromStream[in]:
				// computed from block og's cache alone: the prologue gets
				// its own copy (see Blocks.PrologueCopies)
				copied[in] = true
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
	b.PrologueCopies = prologueCopies(ix, group, copied)
	for t := range sideIn {
		b.SideInputs = append(b.SideInputs, t)
	}
	sort.Strings(b.SideInputs)
	return b, nil
}

// prologueCopies returns, ascending, the block nodes that compute the
// tensors in want: each tensor's producer and, within the same block, the
// producers of what it reads.
func prologueCopies(ix *index, group []int, want map[string]bool) []int {
	if len(want) == 0 {
		return nil
	}
	seen := map[int]bool{}
	var stack []int
	for t := range want {
		stack = append(stack, ix.producer[t])
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[v] {
			continue
		}
		seen[v] = true
		for _, in := range ix.inputs[v] {
			if p, ok := ix.producer[in]; ok && group[p] == group[v] {
				stack = append(stack, p)
			}
		}
	}
	out := make([]int, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Ints(out)
	return out
}
