package compile_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/onnx"
)

// TestErrorNamesDecodedModel: a model decoded by the caller (sweep and
// inspect pass one) is still named in a phase's error, by the file it
// was loaded from.
func TestErrorNamesDecodedModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "identity.onnx")
	m := &onnx.Model{IRVersion: 8, OpsetImport: []*onnx.OperatorSet{{Version: 17}}, Graph: &onnx.Graph{
		Name:   "g",
		Input:  []*onnx.ValueInfo{{Name: "x", Type: &onnx.Type{TensorType: &onnx.TensorType{ElemType: onnx.Float}}}},
		Output: []*onnx.ValueInfo{{Name: "y", Type: &onnx.Type{TensorType: &onnx.TensorType{ElemType: onnx.Float}}}},
		Node:   []*onnx.Node{{Name: "id", OpType: "Identity", Input: []string{"x"}, Output: []string{"y"}}},
	}}
	if err := onnx.Save(path, m, onnx.SaveOptions{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	loaded, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	_, err = compile.Run(context.Background(), compile.Input{Model: loaded}, compile.Options{Until: "detect"})
	var ce *compile.Error
	if !errors.As(err, &ce) || ce.Path != path || !strings.HasPrefix(err.Error(), path+": cannot find the transformer blocks") {
		t.Errorf("got %v, want a detect error naming %s", err, path)
	}
}
