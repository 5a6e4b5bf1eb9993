package onnx_test

import (
	"bytes"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/testmodels"
)

// TestNodeMetadataRoundTrip: the torch dynamo layout keeps module scopes in
// NodeProto.metadata_props (field 9) and the folded weights' origin in
// TensorProto.metadata_props (field 16). Both decode into the types and
// re-encode byte for byte.
func TestNodeMetadataRoundTrip(t *testing.T) {
	s := testmodels.Spec{Family: testmodels.Llama, Dynamo: true, KVCache: true, Layers: 2}
	data, err := onnx.Encode(testmodels.MustBuild(s, s.Identity()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	scoped, folded := 0, 0
	for _, n := range m.Graph.Node {
		for _, p := range n.MetadataProps {
			if p.Key == testmodels.DynamoScopesKey && len(p.Value) > 2 {
				scoped++
			}
		}
	}
	for _, x := range m.Graph.Initializer {
		for _, p := range x.MetadataProps {
			if p.Key == testmodels.DynamoFoldedKey && p.Value != "" {
				folded++
			}
		}
	}
	if scoped != len(m.Graph.Node) || folded == 0 {
		t.Errorf("decoded %d of %d nodes with scopes and %d folded weights", scoped, len(m.Graph.Node), folded)
	}
	again, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Error("re-encoding the dynamo model changed its bytes")
	}
}
