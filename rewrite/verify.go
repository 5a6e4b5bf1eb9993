package rewrite

import (
	"fmt"
	"slices"
	"strings"

	"github.com/painterc/painterc/onnx"
)

// VerifyError lists every invariant a graph breaks, so one run shows them all.
type VerifyError struct {
	Phase    string // the phase after which the check ran: "decode", "detect", "lower"
	Problems []Problem
}

// Problem is one broken invariant and where: Where is the path from the
// main graph ("graph") down to the subgraph it is in.
type Problem struct {
	Where []string
	Msg   string
}

// InSubgraph reports whether the problem is inside a subgraph (an If or
// Loop body) rather than in the main graph.
func (p Problem) InSubgraph() bool { return len(p.Where) > 1 }

func (p Problem) String() string { return wherePath(p.Where) + ": " + p.Msg }

// wherePath joins a subgraph path, cutting its middle when it is deep.
func wherePath(where []string) string {
	const ends = 3
	if len(where) <= 2*ends+1 {
		return strings.Join(where, " > ")
	}
	return fmt.Sprintf("%s > ... (%d more levels) ... > %s", strings.Join(where[:ends], " > "), len(where)-2*ends, strings.Join(where[len(where)-ends:], " > "))
}

// verifyListed is how many problems a message lists before "... and N more".
const verifyListed = 10

// Lines returns the problems for a message, at most verifyListed of them
// and then a count of the rest; main-graph problems without their "graph: "
// prefix when short is set (the caller names the file instead).
func (e *VerifyError) Lines(short bool) []string {
	var lines []string
	for i, p := range e.Problems {
		if i == verifyListed {
			lines = append(lines, fmt.Sprintf("... and %d more", len(e.Problems)-verifyListed))
			break
		}
		if short && !p.InSubgraph() {
			lines = append(lines, p.Msg)
		} else {
			lines = append(lines, p.String())
		}
	}
	return lines
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("graph invalid after %s: %d problem(s)\n  %s", e.Phase, len(e.Problems), strings.Join(e.Lines(false), "\n  "))
}

// Verify checks the invariants every phase must keep: each node input is
// defined before it is read (so the node list is topologically sorted and has
// no cycle), each tensor is produced once, node names are unique, and every
// graph output is defined. Subgraphs are checked with their enclosing scope
// visible. painterc runs it after decode, detection and lowering, like the Go
// compiler's checkFunc after each SSA pass, so a bug shows at its phase.
func Verify(phase string, m *onnx.Model) error {
	if m == nil || m.Graph == nil {
		return &VerifyError{Phase: phase, Problems: []Problem{{Where: []string{"graph"}, Msg: "the model has no graph"}}}
	}
	var probs []Problem
	verifyGraph(m.Graph, nil, []string{"graph"}, map[string]string{}, &probs)
	if len(probs) > 0 {
		return &VerifyError{Phase: phase, Problems: probs}
	}
	return nil
}

func verifyGraph(g *onnx.Graph, outer map[string]bool, path []string, nodeNames map[string]string, probs *[]Problem) {
	add := func(format string, args ...any) {
		*probs = append(*probs, Problem{Where: path, Msg: fmt.Sprintf(format, args...)})
	}
	where := wherePath(path)
	defined := map[string]bool{}
	for k := range outer {
		defined[k] = true
	}
	definedHere := map[string]string{} // tensor -> what defined it, for duplicate messages
	define := func(name, what string) {
		if name == "" {
			return
		}
		if prev, ok := definedHere[name]; ok {
			add("tensor %q is defined twice (by %s and by %s)", name, prev, what)
			return
		}
		definedHere[name] = what
		defined[name] = true
	}
	for _, v := range g.Input {
		define(v.Name, "a graph input")
	}
	for _, t := range g.Initializer {
		if _, isInput := definedHere[t.Name]; isInput {
			continue // IR < 4 lists initializers as inputs too
		}
		define(t.Name, "an initializer")
	}
	for _, t := range g.SparseInitializer {
		if t.Values != nil {
			define(t.Values.Name, "a sparse initializer")
		}
	}
	// Where each tensor is first written in this graph, so that a read of a
	// tensor not yet defined can say whether it is missing, written later
	// (the nodes are out of order) or written from the reader's own output
	// (a cycle).
	writer := map[string]int{}
	for i, n := range g.Node {
		for _, o := range n.Output {
			if _, ok := writer[o]; !ok && o != "" {
				writer[o] = i
			}
		}
	}
	searches := 0 // cycle searches done; each is linear in the graph
	for i, n := range g.Node {
		label := verifyLabel(g, i)
		if n.Name != "" {
			if prev, ok := nodeNames[n.Name]; ok {
				add("node name %q is also used by %s", n.Name, prev)
			} else {
				nodeNames[n.Name] = fmt.Sprintf("%s node %d", where, i)
			}
		}
		for _, in := range n.Input {
			if in == "" || defined[in] {
				continue
			}
			j, later := writer[in]
			switch {
			case !later:
				add("%s reads %q, which no node, graph input or initializer defines", label, in)
			case j == i:
				add("%s reads %q, its own output: the graph has a cycle (node %d → node %d)", label, in, i, i)
			case searches >= 5:
				add("%s reads %q before %s computes it: the nodes are out of topological order or form a cycle", label, in, verifyLabel(g, j))
			default:
				searches++
				if path := dependsOn(g, writer, j, i); path != nil {
					add("%s reads %q, which %s computes from node %d's own output: the graph has a cycle (%s)",
						label, in, verifyLabel(g, j), i, cyclePath(path))
				} else {
					add("%s reads %q before %s computes it: the nodes are not in topological order", label, in, verifyLabel(g, j))
				}
			}
		}
		for _, a := range n.Attribute {
			for _, sg := range attrGraphs(a) {
				// Node names need only be unique within their graph: the two
				// branches of optimum's merged decoder repeat each other's.
				verifyGraph(sg, defined, append(slices.Clip(path), fmt.Sprintf("%s attribute %q", label, a.Name)), map[string]string{}, probs)
			}
		}
		for _, o := range n.Output {
			define(o, label)
		}
	}
	for _, v := range g.Output {
		if !defined[v.Name] {
			add("graph output %q is never computed", v.Name)
		}
	}
}

func verifyLabel(g *onnx.Graph, i int) string {
	n := g.Node[i]
	return fmt.Sprintf("node %d (%s %q)", i, n.OpType, n.Name)
}

// dependsOn returns a dataflow path of node indices from node from back to
// node to (from, ..., to) when node from depends on node to's outputs
// through nodes of g, or nil. A node that reads its own output depends on
// itself.
func dependsOn(g *onnx.Graph, writer map[string]int, from, to int) []int {
	prev := map[int]int{from: -1}
	queue := []int{from}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, in := range g.Node[v].Input {
			w, ok := writer[in]
			if !ok {
				continue
			}
			if w == to {
				path := []int{to}
				for u := v; u != -1; u = prev[u] {
					path = append(path, u)
				}
				// path runs to, v, ..., from; reverse it.
				for a, b := 0, len(path)-1; a < b; a, b = a+1, b-1 {
					path[a], path[b] = path[b], path[a]
				}
				return path
			}
			if _, seen := prev[w]; !seen {
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	return nil
}

// cyclePath prints the cycle that a dependency path j, ..., i (each node
// depends on the next) closes when node i reads node j's output, in
// dataflow order: "node i → ... → node j → node i". Long cycles show their
// ends only.
func cyclePath(path []int) string {
	order := make([]string, 0, len(path)+1)
	for k := len(path) - 1; k >= 0; k-- {
		order = append(order, fmt.Sprintf("node %d", path[k]))
	}
	order = append(order, order[0])
	const ends = 3
	if len(order) > 2*ends+1 {
		skipped := len(order) - 2*ends
		order = append(append(order[:ends:ends], fmt.Sprintf("... %d more", skipped)), order[len(order)-ends:]...)
	}
	return strings.Join(order, " → ")
}

// VerifyBlocks checks the promises of [Blocks]' doc comment on the graph
// detection ran on: T >= 1 with T+1 boundaries and T non-empty blocks, one
// KV slot per block when there is a cache, and every node of the graph in
// exactly one of the prologue, a block or the epilogue, each part listed in
// ascending order. For a merged decoder it checks each branch against its
// own graph. The compile pipeline runs it after detection.
func VerifyBlocks(g *onnx.Graph, b *Blocks) error {
	if b == nil {
		return blocksError("no blocks")
	}
	if b.Merged != nil {
		if b.Merged.Node < 0 || b.Merged.Node >= len(g.Node) {
			return blocksError(fmt.Sprintf("merged decoder: If node %d of %d", b.Merged.Node, len(g.Node)))
		}
		n := g.Node[b.Merged.Node]
		var probs []Problem
		for i, bb := range b.Merged.Branches {
			var branch *onnx.Graph
			if i < len(b.Merged.Attrs) {
				for _, a := range n.Attribute {
					if a.Name == b.Merged.Attrs[i] {
						branch = a.G
					}
				}
			}
			if branch == nil {
				probs = append(probs, Problem{Where: []string{"blocks"}, Msg: fmt.Sprintf("merged decoder: branch %d has no graph", i)})
				continue
			}
			if err := VerifyBlocks(branch, bb); err != nil {
				for _, p := range err.(*VerifyError).Problems {
					probs = append(probs, Problem{Where: []string{"blocks", fmt.Sprintf("If node %q, %s", n.Name, b.Merged.Attrs[i])}, Msg: p.Msg})
				}
			}
		}
		if len(probs) > 0 {
			return &VerifyError{Phase: "detect", Problems: probs}
		}
		return nil
	}
	var probs []Problem
	add := func(format string, args ...any) {
		probs = append(probs, Problem{Where: []string{"blocks"}, Msg: fmt.Sprintf(format, args...)})
	}
	if b.T < 1 || len(b.Boundary) != b.T+1 || len(b.Block) != b.T {
		add("T=%d with %d boundaries and %d blocks", b.T, len(b.Boundary), len(b.Block))
		return &VerifyError{Phase: "detect", Problems: probs}
	}
	if b.HasKV() && len(b.KV) != b.T {
		add("%d KV slots for %d blocks", len(b.KV), b.T)
	}
	const none = -2
	where := make([]int, len(g.Node))
	for i := range where {
		where[i] = none
	}
	part := func(grp int) string {
		switch grp {
		case -1:
			return "the prologue"
		case b.T:
			return "the epilogue"
		}
		return fmt.Sprintf("block %d", grp)
	}
	put := func(nodes []int, grp int) {
		for k, i := range nodes {
			switch {
			case i < 0 || i >= len(g.Node):
				add("%s names node %d of %d", part(grp), i, len(g.Node))
				continue
			case k > 0 && nodes[k-1] >= i:
				add("%s is not in ascending order at node %d", part(grp), i)
			case where[i] != none:
				add("node %d (%s %q) is in %s and %s", i, g.Node[i].OpType, g.Node[i].Name, part(where[i]), part(grp))
			}
			where[i] = grp
		}
	}
	put(b.Prologue, -1)
	for i, nodes := range b.Block {
		if len(nodes) == 0 {
			add("block %d is empty", i)
		}
		put(nodes, i)
	}
	put(b.Epilogue, b.T)
	for i, w := range where {
		if w == none {
			add("node %d (%s %q) is in no part", i, g.Node[i].OpType, g.Node[i].Name)
		}
	}
	for k, i := range b.PrologueCopies {
		switch {
		case i < 0 || i >= len(g.Node):
			add("the prologue copies name node %d of %d", i, len(g.Node))
		case k > 0 && b.PrologueCopies[k-1] >= i:
			add("the prologue copies are not in ascending order at node %d", i)
		case where[i] < 0 || where[i] >= b.T:
			add("the prologue copies node %d (%s %q), which is in %s, not in a block", i, g.Node[i].OpType, g.Node[i].Name, part(where[i]))
		}
	}
	for _, msg := range verifyHalves(g, b) {
		add("%s", msg)
	}
	if len(probs) > 0 {
		return &VerifyError{Phase: "detect", Problems: probs}
	}
	return nil
}

// verifyHalves checks the sub-block split of every block that has a mid
// stream: its attention and MLP halves partition the block, neither is
// empty, the nodes an MLP-only instance also runs are attention-half
// nodes, and every node that reads the block's KV cache or writes its
// cache output is in the attention half.
func verifyHalves(g *onnx.Graph, b *Blocks) []string {
	if b.Mid == nil {
		return nil
	}
	if len(b.Mid) != b.T || len(b.MidReason) != b.T || len(b.halves) != b.T || len(b.mlpShared) != b.T {
		return []string{fmt.Sprintf("%d mid streams, %d reasons, %d halves and %d shared lists for %d blocks", len(b.Mid), len(b.MidReason), len(b.halves), len(b.mlpShared), b.T)}
	}
	var msgs []string
	for i, mid := range b.Mid {
		if mid == nil {
			if b.MidReason[i] == "" {
				msgs = append(msgs, fmt.Sprintf("block %d has no mid stream and no reason why", i))
			}
			continue
		}
		half := map[int]int{}
		for h, nodes := range b.halves[i] {
			if len(nodes) == 0 {
				msgs = append(msgs, fmt.Sprintf("block %d: its %s is empty", i, []string{"attention half", "MLP half"}[h]))
			}
			for _, n := range nodes {
				if _, dup := half[n]; dup {
					msgs = append(msgs, fmt.Sprintf("block %d: node %d is in both halves", i, n))
				}
				half[n] = h
			}
		}
		if len(half) != len(b.Block[i]) {
			msgs = append(msgs, fmt.Sprintf("block %d: its halves hold %d nodes, the block %d", i, len(half), len(b.Block[i])))
		}
		for _, n := range b.Block[i] {
			if _, ok := half[n]; !ok {
				msgs = append(msgs, fmt.Sprintf("block %d: node %d (%s %q) is in neither half", i, n, g.Node[n].OpType, g.Node[n].Name))
			}
		}
		for _, n := range b.mlpShared[i] {
			if h, ok := half[n]; !ok || h != 0 {
				msgs = append(msgs, fmt.Sprintf("block %d: node %d, which MLP-only instances also run, is not in the attention half", i, n))
			}
		}
		if !b.HasKV() || i >= len(b.KV) {
			continue
		}
		kv := b.KV[i]
		cache := map[string]bool{}
		for _, t := range []string{kv.PastKey, kv.PastValue, kv.PresentKey, kv.PresentValue} {
			if t != "" {
				cache[t] = true
			}
		}
		for _, n := range b.halves[i][1] {
			if n < 0 || n >= len(g.Node) {
				continue
			}
			for _, t := range append(nodeReads(g.Node[n]), g.Node[n].Output...) {
				if cache[t] {
					msgs = append(msgs, fmt.Sprintf("block %d: node %q of the MLP half touches the KV cache %q", i, g.Node[n].Name, t))
				}
			}
		}
	}
	return msgs
}

func blocksError(msg string) error {
	return &VerifyError{Phase: "detect", Problems: []Problem{{Where: []string{"blocks"}, Msg: msg}}}
}
