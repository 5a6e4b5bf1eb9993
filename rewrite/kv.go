package rewrite

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/painterc/painterc/onnx"
)

// kvName matches optimum's and genai's cache I/O: past_key_values.3.key,
// present.3.value.
var kvName = regexp.MustCompile(`^(past[A-Za-z_]*|present[A-Za-z_]*)\.(\d+)\.(key|value)$`)

// KVSlot names one block's cache tensors ("" when absent).
type KVSlot struct {
	PastKey, PastValue, PresentKey, PresentValue string
}

// KVNaming formats cache tensor names for a slot number; the patterns hold
// one %d (e.g. "past_key_values.%d.key").
type KVNaming struct {
	PastKey, PastValue, PresentKey, PresentValue string
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

func isKVName(s string) bool { return kvName.MatchString(s) }
