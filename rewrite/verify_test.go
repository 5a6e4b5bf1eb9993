package rewrite

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/testmodels"
)

// TestVerifyReads: a read of an undefined tensor says whether the tensor is
// missing, computed later (out of order), or computed from the reader (a
// cycle, with its path).
func TestVerifyReads(t *testing.T) {
	node := func(name, in, out string) *onnx.Node {
		return &onnx.Node{Name: name, OpType: "Relu", Input: []string{in}, Output: []string{out}}
	}
	graph := func(nodes ...*onnx.Node) *onnx.Model {
		return &onnx.Model{Graph: &onnx.Graph{
			Input:  []*onnx.ValueInfo{{Name: "x"}},
			Output: []*onnx.ValueInfo{{Name: nodes[len(nodes)-1].Output[0]}},
			Node:   nodes,
		}}
	}
	long := []*onnx.Node{node("n0", "t9", "t0")} // t0 → t1 → ... → t9 → t0
	for i := 1; i <= 9; i++ {
		long = append(long, node(fmt.Sprintf("n%d", i), fmt.Sprintf("t%d", i-1), fmt.Sprintf("t%d", i)))
	}
	for _, tc := range []struct {
		name string
		m    *onnx.Model
		want string
	}{
		{"missing", graph(node("a", "nope", "y")),
			`graph: node 0 (Relu "a") reads "nope", which no node, graph input or initializer defines`},
		{"order", graph(node("a", "t", "y"), node("b", "x", "t")),
			`graph: node 0 (Relu "a") reads "t" before node 1 (Relu "b") computes it: the nodes are not in topological order`},
		{"self", graph(node("a", "y", "y")),
			`graph: node 0 (Relu "a") reads "y", its own output: the graph has a cycle (node 0 → node 0)`},
		{"cycle", graph(node("a", "t", "u"), node("b", "u", "t")),
			`graph: node 0 (Relu "a") reads "t", which node 1 (Relu "b") computes from node 0's own output: the graph has a cycle (node 0 → node 1 → node 0)`},
		{"long cycle", graph(long...),
			`graph: node 0 (Relu "n0") reads "t9", which node 9 (Relu "n9") computes from node 0's own output: the graph has a cycle (node 0 → node 1 → node 2 → ... 5 more → node 8 → node 9 → node 0)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify("decode", tc.m)
			var ve *VerifyError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 {
				t.Fatalf("got %v, want one problem", err)
			}
			if ve.Problems[0].String() != tc.want {
				t.Errorf("got  %s\nwant %s", ve.Problems[0], tc.want)
			}
			if !strings.HasPrefix(err.Error(), "graph invalid after decode: 1 problem(s)") {
				t.Errorf("error %q", err)
			}
		})
	}
}

// TestVerifyBlocks breaks the partition detection promises, one way at a
// time, and checks each message.
func TestVerifyBlocks(t *testing.T) {
	spec := testmodels.Spec{Family: testmodels.Llama, Layers: 2}
	m := testmodels.MustBuild(spec, spec.Identity())
	for _, tc := range []struct {
		name   string
		break_ func(b *Blocks)
		want   string
	}{
		{"node twice", func(b *Blocks) { b.Block[1] = append([]int{b.Block[0][0]}, b.Block[1]...) }, "is in block 0 and block 1"},
		{"node nowhere", func(b *Blocks) { b.Block[0] = b.Block[0][1:] }, "is in no part"},
		{"empty block", func(b *Blocks) { b.Epilogue = append(b.Block[1], b.Epilogue...); b.Block[1] = nil }, "blocks: block 1 is empty"},
		{"boundaries", func(b *Blocks) { b.Boundary = b.Boundary[:2] }, "blocks: T=2 with 2 boundaries and 2 blocks"},
		{"out of range", func(b *Blocks) { b.Epilogue = append(b.Epilogue, 99999) }, "blocks: the epilogue names node 99999 of"},
	} {
		b, err := Detect(m.Graph, DetectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyBlocks(m.Graph, b); err != nil {
			t.Fatalf("detected blocks fail VerifyBlocks: %v", err)
		}
		tc.break_(b)
		err = VerifyBlocks(m.Graph, b)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "graph invalid after detect") {
			t.Errorf("%s: %v\nwant it to contain %q", tc.name, err, tc.want)
		}
	}
}
