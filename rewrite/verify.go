package rewrite

import (
	"fmt"
	"strings"

	"github.com/painterc/painterc/rewrite/onnx"
)

// VerifyError lists every invariant a graph breaks, so one run shows them all.
type VerifyError struct {
	Phase    string // the phase after which the check ran: "decode", "detect", "lower"
	Problems []string
}

func (e *VerifyError) Error() string {
	const most = 10
	var b strings.Builder
	fmt.Fprintf(&b, "graph invalid after %s: %d problem(s)", e.Phase, len(e.Problems))
	for i, p := range e.Problems {
		if i == most {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Problems)-most)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(p)
	}
	return b.String()
}

// Verify checks the invariants every phase must keep: each node input is
// defined before it is read (so the node list is topologically sorted and has
// no cycle), each tensor is produced once, node names are unique, and every
// graph output is defined. Subgraphs are checked with their enclosing scope
// visible. painterc runs it after decode, detection and lowering, like the Go
// compiler's checkFunc after each SSA pass, so a bug shows at its phase.
func Verify(phase string, m *onnx.Model) error {
	if m == nil || m.Graph == nil {
		return &VerifyError{Phase: phase, Problems: []string{"the model has no graph"}}
	}
	var probs []string
	verifyGraph(m.Graph, nil, "graph", map[string]string{}, &probs)
	if len(probs) > 0 {
		return &VerifyError{Phase: phase, Problems: probs}
	}
	return nil
}

func verifyGraph(g *onnx.Graph, outer map[string]bool, where string, nodeNames map[string]string, probs *[]string) {
	add := func(format string, args ...any) { *probs = append(*probs, fmt.Sprintf(format, args...)) }
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
			add("%s: tensor %q is defined twice (by %s and by %s)", where, name, prev, what)
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
	for i, n := range g.Node {
		label := fmt.Sprintf("node %d (%s %q)", i, n.OpType, n.Name)
		if n.Name != "" {
			if prev, ok := nodeNames[n.Name]; ok {
				add("%s: node name %q is also used by %s", where, n.Name, prev)
			} else {
				nodeNames[n.Name] = fmt.Sprintf("%s node %d", where, i)
			}
		}
		for _, in := range n.Input {
			if in != "" && !defined[in] {
				add("%s: %s reads %q, which is not defined before it (missing, or the nodes are not in topological order)", where, label, in)
			}
		}
		for _, a := range n.Attribute {
			for _, sg := range attrGraphs(a) {
				verifyGraph(sg, defined, fmt.Sprintf("%s > %s attribute %q", where, label, a.Name), nodeNames, probs)
			}
		}
		for _, o := range n.Output {
			define(o, label)
		}
	}
	for _, v := range g.Output {
		if !defined[v.Name] {
			add("%s: graph output %q is never computed", where, v.Name)
		}
	}
}
