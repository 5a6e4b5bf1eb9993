package rewrite

import (
	"fmt"
	"strings"
)

// boundariesByStructure finds the residual stream without names. The stream
// tensors are cuts: every path from the token input to the model's first
// output passes through them (paths through Shape/Size carry no values and do
// not count). Between consecutive cuts lie segments (attention, MLP, norms);
// the blocks are the longest run of a repeating pattern of segments, compared
// by the op types they contain.
func boundariesByStructure(ix *index, kv []KVSlot) ([]Stream, error) {
	g := ix.g
	src := tokenInput(ix)
	if src == "" {
		return nil, fmt.Errorf("the graph has no token input (input_ids, or an input read by a Gather)")
	}
	dst := ""
	for _, o := range g.Output {
		if !isKVName(o.Name) {
			dst = o.Name
			break
		}
	}
	if dst == "" {
		return nil, fmt.Errorf("the graph has no output besides the KV cache")
	}
	// Nodes on value paths from src.
	fwd := make([]bool, len(g.Node))
	reach := map[string]bool{src: true}
	for i, n := range g.Node {
		if isShapeOnly(n.OpType) {
			continue
		}
		for _, in := range ix.inputs[i] {
			if reach[in] {
				fwd[i] = true
				break
			}
		}
		if fwd[i] {
			for _, o := range n.Output {
				reach[o] = true
			}
		}
	}
	// Nodes dst depends on.
	back := make([]bool, len(g.Node))
	need := map[string]bool{dst: true}
	for i := len(g.Node) - 1; i >= 0; i-- {
		for _, o := range g.Node[i].Output {
			if need[o] {
				back[i] = true
				break
			}
		}
		if back[i] {
			for _, in := range ix.inputs[i] {
				need[in] = true
			}
		}
	}
	var path []int // nodes on src→dst value paths, in graph order
	pos := map[int]int{}
	for i := range g.Node {
		if fwd[i] && back[i] {
			pos[i] = len(path)
			path = append(path, i)
		}
	}
	if len(path) == 0 {
		return nil, fmt.Errorf("output %q does not depend on the token input %q", dst, src)
	}
	// lastUse[t]: the last position on the path that reads t.
	lastUse := map[string]int{}
	for p, i := range path {
		for _, in := range ix.inputs[i] {
			if in == src || reach[in] {
				lastUse[in] = p
			}
		}
	}
	lastUse[dst] = len(path)
	live := map[string]bool{src: true}
	cuts := []string{src}
	cutPos := []int{-1}
	for p, i := range path {
		for _, o := range g.Node[i].Output {
			if lu, ok := lastUse[o]; ok && lu > p {
				live[o] = true
			}
		}
		for t := range live {
			if lastUse[t] <= p {
				delete(live, t)
			}
		}
		if len(live) == 1 {
			for t := range live {
				if t != cuts[len(cuts)-1] {
					cuts = append(cuts, t)
					cutPos = append(cutPos, p)
				}
			}
		}
	}
	// Segment signatures: the op types between consecutive cuts.
	sig := make([]string, len(cuts)-1)
	for j := range sig {
		var ops []string
		for p := cutPos[j] + 1; p <= cutPos[j+1]; p++ {
			ops = append(ops, g.Node[path[p]].OpType)
		}
		sig[j] = strings.Join(ops, ",")
	}
	bestT, bestP, bestS := 0, 0, 0
	for p := 1; p <= len(sig)/2; p++ {
		for s := 0; s+2*p <= len(sig); s++ {
			t := 1
			for s+(t+1)*p <= len(sig) && equalRun(sig, s, s+t*p, p) {
				t++
			}
			// Prefer more blocks, then the latest start: a post-LN model's
			// embedding LayerNorm looks like a block's last segment.
			if t >= 2 && (t > bestT || (t == bestT && p == bestP && s > bestS)) {
				bestT, bestP, bestS = t, p, s
			}
		}
	}
	if bestT < 2 {
		return nil, fmt.Errorf("found %d residual-stream cuts between %q and %q but no repeating pattern of at least two blocks", len(cuts), src, dst)
	}
	if kv != nil && len(kv) != bestT {
		return nil, fmt.Errorf("the repeating pattern has %d blocks but the KV cache has %d layers", bestT, len(kv))
	}
	bounds := make([]Stream, bestT+1)
	for t := range bounds {
		bounds[t] = Stream{cuts[bestS+t*bestP]}
	}
	return bounds, nil
}

func equalRun(sig []string, a, b, n int) bool {
	for k := 0; k < n; k++ {
		if sig[a+k] != sig[b+k] {
			return false
		}
	}
	return true
}

// tokenInput names the graph input the residual stream starts from.
func tokenInput(ix *index) string {
	for _, v := range ix.g.Input {
		if v.Name == "input_ids" {
			return v.Name
		}
	}
	for _, v := range ix.g.Input {
		if isKVName(v.Name) || ix.isInit[v.Name] {
			continue
		}
		for _, c := range ix.consumers[v.Name] {
			if ix.g.Node[c].OpType == "Gather" {
				return v.Name
			}
		}
	}
	return ""
}
