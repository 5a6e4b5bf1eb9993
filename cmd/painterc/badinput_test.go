package main

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/testmodels"
)

// Builders of the bad inputs the error table (errors_test.go) feeds to
// painterc. Each returns the bytes of a model file, or writes files.

// truncatedModel is a good model cut in half, as an interrupted download
// leaves it.
func truncatedModel(t testing.TB) []byte {
	b := goodModelBytes(t)
	return b[:len(b)/2]
}

// randomBytes is what a file that is not a model looks like to the decoder.
func randomBytes() []byte {
	b := make([]byte, 4096)
	rand.New(rand.NewSource(4)).Read(b)
	return b
}

func goodModelBytes(t testing.TB) []byte {
	t.Helper()
	m, err := testmodels.Default(tiny)
	if err != nil {
		t.Fatal(err)
	}
	return encodeModel(t, m)
}

// Hand-made wire bytes, so that the broken field sits exactly where the
// test says.
func msg(num protowire.Number, body []byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(b, body)
}

func str(num protowire.Number, s string) []byte { return msg(num, []byte(s)) }

func varint(num protowire.Number, v uint64) []byte {
	b := protowire.AppendTag(nil, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// reluModel wraps node bytes into ModelProto{ir_version 8, graph "g"
// {node, input x, output y}, opset 17}.
func reluModel(node []byte) []byte {
	graph := cat(msg(1, node), str(2, "g"), msg(11, str(1, "x")), msg(12, str(1, "y")))
	return cat(varint(1, 8), msg(7, graph), msg(8, varint(2, 17)))
}

// wrongWireType: the node's op_type (field 4, a string) is written as a
// varint.
func wrongWireType() []byte {
	return reluModel(cat(str(1, "x"), str(2, "y"), str(3, "relu"), varint(4, 1)))
}

// lengthPastEnd: the node's name claims 50 bytes but its message ends
// after 4.
func lengthPastEnd() []byte {
	node := cat(str(1, "x"), str(2, "y"), str(4, "Relu"))
	node = append(node, protowire.AppendTag(nil, 3, protowire.BytesType)...)
	node = protowire.AppendVarint(node, 50)
	node = append(node, "relu"...)
	return reluModel(node)
}

// reluGraph is a valid model with no transformer blocks: y = Relu(x).
func reluGraph(t testing.TB) []byte {
	m := &onnx.Model{
		IRVersion:   8,
		OpsetImport: []*onnx.OperatorSet{{Version: 17}},
		Graph: &onnx.Graph{
			Name:   "g",
			Input:  []*onnx.ValueInfo{{Name: "x"}},
			Output: []*onnx.ValueInfo{{Name: "y"}},
			Node:   []*onnx.Node{{Name: "relu", OpType: "Relu", Input: []string{"x"}, Output: []string{"y"}}},
		},
	}
	return encodeModel(t, m)
}

// editedModel is the test model with its graph edited by f.
func editedModel(t testing.TB, f func(t testing.TB, g *onnx.Graph)) []byte {
	t.Helper()
	m, err := testmodels.Default(tiny)
	if err != nil {
		t.Fatal(err)
	}
	f(t, m.Graph)
	return encodeModel(t, m)
}

func nodeNamed(t testing.TB, g *onnx.Graph, name string) (int, *onnx.Node) {
	t.Helper()
	for i, n := range g.Node {
		if n.Name == name {
			return i, n
		}
	}
	t.Fatalf("no node %q", name)
	return 0, nil
}

// withCycle makes layer 3's first norm read layer 3's output, which is
// computed from that norm: a cycle through the whole block.
func withCycle(t testing.TB, g *onnx.Graph) {
	_, add := nodeNamed(t, g, "/model/layers.3/Add_1")
	_, pow := nodeNamed(t, g, "/model/layers.3/input_layernorm/Pow")
	pow.Input[0] = add.Output[0]
}

// withDanglingInput makes a node read a tensor nothing defines.
func withDanglingInput(t testing.TB, g *onnx.Graph) {
	_, n := nodeNamed(t, g, "/model/layers.2/mlp/down_proj/MatMul")
	n.Input[0] = "/model/layers.2/mlp/Mul_1_output_0"
}

// withDuplicateTensor adds a second node that writes the same tensor as
// an existing one, as a broken exporter might.
func withDuplicateTensor(t testing.TB, g *onnx.Graph) {
	i, n := nodeNamed(t, g, "/model/layers.1/self_attn/k_proj/MatMul")
	dup := *n
	dup.Name = n.Name + "_duplicate"
	g.Node = append(g.Node[:i+1], append([]*onnx.Node{&dup}, g.Node[i+1:]...)...)
}

// externalModel writes the test model as dir/model.onnx with its weights
// in dir/model.onnx.data and returns the model's path.
func externalModel(t testing.TB, dir string) string {
	t.Helper()
	m, err := testmodels.Default(tiny)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "model.onnx")
	if err := onnx.Save(p, m, onnx.SaveOptions{ExternalData: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p + ".data"); err != nil {
		t.Fatal(err)
	}
	return p
}

// relocate rewrites every external data location of the model at path.
func relocate(t testing.TB, path, location string) {
	t.Helper()
	m, err := onnx.Decode(readFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ts := range m.Graph.Initializer {
		for _, e := range ts.ExternalData {
			if e.Key == "location" {
				e.Value = location
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no external tensors")
	}
	writeFile(t, path, encodeModel(t, m))
}
