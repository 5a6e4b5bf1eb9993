package search

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/painterc/painterc/schedule"
)

// The exports hand a chosen schedule to tools that build a smaller model
// from the original checkpoint, where painterc's ONNX output is not what
// the user deploys.

// sequence is the schedule as a list of whole blocks run one after
// another, or an error naming the first step no layer list can hold.
func sequence(s schedule.Schedule, tool string) ([]int, error) {
	var out []int
	for i, st := range s.Stages() {
		if len(st.Blocks) > 1 {
			return nil, fmt.Errorf("%s cannot run blocks in parallel: stage %d of %s averages blocks %v; export a schedule of whole blocks run one after another", tool, i+1, s, st.Blocks)
		}
		if stagePart(st) != whole {
			return nil, fmt.Errorf("%s cannot run half a block: stage %d of %s runs one half of block %d; export a schedule of whole blocks", tool, i+1, s, st.Blocks[0])
		}
		out = append(out, st.Blocks[0])
	}
	return out, nil
}

// Mergekit writes a mergekit passthrough configuration that stacks the
// schedule's blocks from model, one slice per run of consecutive blocks.
// mergekit's layer_range is 0-based and end-exclusive, as a Python slice:
// [0, 10] is blocks 0 to 9. Repeats and reorders are slices like any other;
// parallel groups and half blocks have no passthrough form and are refused.
func Mergekit(s schedule.Schedule, model, dtype string) (string, error) {
	seq, err := sequence(s, "mergekit's passthrough merge")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# painterc search: schedule %s\n", s)
	b.WriteString("# layer_range is 0-based and end-exclusive: [a, b] takes blocks a..b-1.\n")
	b.WriteString("slices:\n")
	for i := 0; i < len(seq); {
		j := i + 1
		for j < len(seq) && seq[j] == seq[j-1]+1 {
			j++
		}
		fmt.Fprintf(&b, "  - sources:\n      - model: %s\n        layer_range: [%d, %d]\n", yamlString(model), seq[i], seq[j-1]+1)
		i = j
	}
	b.WriteString("merge_method: passthrough\n")
	fmt.Fprintf(&b, "dtype: %s\n", dtype)
	return b.String(), nil
}

// yamlString quotes a model name or path when YAML would read it as
// something other than that string.
func yamlString(s string) string {
	if s != "" && !strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`\n") && strings.TrimSpace(s) == s {
		return s
	}
	return strconv.Quote(s)
}

// PruneLayers is the list for llama.cpp's `llama-quantize --prune-layers`:
// the 0-based indices of the blocks a skip-only schedule drops, ascending
// and comma-separated. A schedule that reorders, repeats, groups or halves
// blocks is not a pruning and is refused.
func PruneLayers(s schedule.Schedule, T int) (string, error) {
	seq, err := sequence(s, "llama.cpp's --prune-layers")
	if err != nil {
		return "", err
	}
	if !slices.IsSorted(seq) || len(slices.Compact(slices.Clone(seq))) != len(seq) {
		return "", fmt.Errorf("llama.cpp's --prune-layers only drops blocks: %s reorders or repeats them", s)
	}
	var dropped []string
	for blk := range T {
		if _, found := slices.BinarySearch(seq, blk); !found {
			dropped = append(dropped, strconv.Itoa(blk))
		}
	}
	if len(dropped) == 0 {
		return "", fmt.Errorf("%s drops no block: there is nothing to prune", s)
	}
	return strings.Join(dropped, ","), nil
}
