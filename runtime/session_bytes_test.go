//go:build cgo

package runtime

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/painterc/painterc/onnx"
)

// TestSessionFromBytes: a model from memory behaves as the same file loaded
// by path: same interface, same outputs, and Model() is the given name.
func TestSessionFromBytes(t *testing.T) {
	requireORT(t)
	path := testModel("example_dynamic_axes.onnx")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fromFile := openSession(t, path, SessionOptions{IntraOpThreads: 1})
	mem, err := NewSessionFromBytes(data, "dynamic axes", SessionOptions{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	clear(data) // ONNX Runtime must not depend on the caller's buffer
	if mem.Model() != "dynamic axes" {
		t.Errorf("Model() = %q", mem.Model())
	}
	if got, want := mem.Inputs(), fromFile.Inputs(); len(got) != 1 || got[0].String() != want[0].String() {
		t.Errorf("Inputs() = %v, want %v", got, want)
	}
	in := make([]float32, 30)
	for i := range in {
		in[i] = float32(i) - 4.5
	}
	feeds := map[string]*Tensor{"input_vectors": NewFloat32([]int64{3, 10}, in)}
	a, err := mem.Run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fromFile.Run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a["output_scalars"].Data, b["output_scalars"].Data) || len(a["output_scalars"].Data) != 12 {
		t.Errorf("from bytes %v, from file %v", a["output_scalars"], b["output_scalars"])
	}
}

// addModel is y = x + w for a float32 initializer w of 4 elements, either
// in-file or as external data in "w.bin".
func addModel(external bool) *onnx.Model {
	raw := make([]byte, 16)
	for i := range 4 {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(i+1)))
	}
	w := &onnx.Tensor{Name: "w", Dims: []int64{4}, DataType: onnx.Float, RawData: raw}
	if external {
		w.RawData = nil
		w.DataLocation = onnx.LocationExternal
		w.ExternalData = []*onnx.StringStringEntry{{Key: "location", Value: "w.bin"}, {Key: "offset", Value: "0"}, {Key: "length", Value: "16"}}
	}
	vi := func(name string) *onnx.ValueInfo {
		d := &onnx.Dimension{}
		d.SetDimValue(4)
		return &onnx.ValueInfo{Name: name, Type: &onnx.Type{TensorType: &onnx.TensorType{ElemType: onnx.Float, Shape: &onnx.TensorShape{Dim: []*onnx.Dimension{d}}}}}
	}
	return &onnx.Model{
		IRVersion:   8,
		OpsetImport: []*onnx.OperatorSet{{Version: 17}},
		Graph: &onnx.Graph{
			Name:        "add",
			Node:        []*onnx.Node{{OpType: "Add", Input: []string{"x", "w"}, Output: []string{"y"}}},
			Initializer: []*onnx.Tensor{w},
			Input:       []*onnx.ValueInfo{vi("x")},
			Output:      []*onnx.ValueInfo{vi("y")},
		},
	}
}

// TestSessionFromBytesExternalData: external tensors cannot be resolved
// from memory, so they are refused, by name, before ONNX Runtime could look
// for the file in the working directory, even when such a file is there.
// The same model saved beside its data loads by path.
func TestSessionFromBytesExternalData(t *testing.T) {
	requireORT(t)
	inFile, err := onnx.Encode(addModel(false))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSessionFromBytes(inFile, "add", SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Run(map[string]*Tensor{"x": NewFloat32([]int64{4}, []float32{10, 20, 30, 40})})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := out["y"].Float32s(); !slices.Equal(got, []float32{11, 22, 33, 44}) {
		t.Errorf("y = %v", got)
	}

	ext, err := onnx.Encode(addModel(true))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	raw := addModel(false).Graph.Initializer[0].RawData
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // a w.bin in the working directory must not be picked up
	_, err = NewSessionFromBytes(ext, "add-ext", SessionOptions{})
	want := `model add-ext: tensor "w" is stored as external data, which a model loaded from memory cannot resolve; encode its weights in-file (under 2 GiB) or save the model and load it by path`
	if err == nil || err.Error() != want {
		t.Errorf("external data from memory: err = %v\nwant %s", err, want)
	}
	p := filepath.Join(dir, "add.onnx")
	if err := os.WriteFile(p, ext, 0o644); err != nil {
		t.Fatal(err)
	}
	byPath := openSession(t, p, SessionOptions{})
	out, err = byPath.Run(map[string]*Tensor{"x": NewFloat32([]int64{4}, []float32{1, 1, 1, 1})})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := out["y"].Float32s(); !slices.Equal(got, []float32{2, 3, 4, 5}) {
		t.Errorf("by path: y = %v", got)
	}
}

func TestSessionFromBytesErrors(t *testing.T) {
	requireORT(t)
	if _, err := NewSessionFromBytes(nil, "empty", SessionOptions{}); err == nil || err.Error() != "model empty: no bytes" {
		t.Errorf("no bytes: %v", err)
	}
	if _, err := NewSessionFromBytes([]byte("not a model at all"), "junk", SessionOptions{}); err == nil || !strings.HasPrefix(err.Error(), "model junk: ") {
		t.Errorf("junk: %v", err)
	}
	data, err := onnx.Encode(addModel(false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSessionFromBytes(data, "add", SessionOptions{OptLevel: "max"}); err == nil || !strings.Contains(err.Error(), `unknown optimization level "max"`) {
		t.Errorf("bad option: %v", err)
	}
	// A graph ONNX Runtime rejects: the message names the model.
	bad := addModel(false)
	bad.Graph.Node[0].OpType = "NoSuchOp"
	data, _ = onnx.Encode(bad)
	if _, err := NewSessionFromBytes(data, "bad", SessionOptions{}); err == nil || !strings.HasPrefix(err.Error(), "loading model bad: ") {
		t.Errorf("bad op: %v", err)
	}
}
