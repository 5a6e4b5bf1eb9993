package onnx

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/encoding/protowire"
)

// cmpModel compares models including presence bits, ignoring Load's state.
var cmpModel = cmp.Options{
	cmp.AllowUnexported(Wire{}),
	cmpopts.IgnoreUnexported(Model{}),
	cmpopts.EquateEmpty(),
}

// fixtures are the committed models (testdata/gen.py wrote the py_* and
// torch_* ones; the others come from onnxruntime_go's test_data).
var fixtures = []struct {
	file string
	what string
}{
	{"py_if.onnx", "If with then/else subgraphs (onnx.helper)"},
	{"py_loop.onnx", "Loop body with a nested If (onnx.helper)"},
	{"py_external.onnx", "external data (onnx.save_model save_as_external_data)"},
	{"py_sparse_func.onnx", "sparse initializer and a model-local function"},
	{"py_kitchen.onnx", "metadata, doc strings, every type and attribute kind, typed data"},
	{"py_unknown.onnx", "unknown fields in five messages, written by protobuf"},
	{"torch_tiny.onnx", "torch.onnx.export of a 2-layer transformer"},
	{"sklearn_randomforest.onnx", "onnxruntime_go: skl2onnx ai.onnx.ml forest"},
	{"example_big_fanout.onnx", "onnxruntime_go: torch export, many nodes"},
	{"example_multitype.onnx", "onnxruntime_go: several element types"},
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func firstDiff(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

func TestRoundTrip(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			in := readFixture(t, f.file)
			m, err := Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			if m.Graph == nil {
				t.Fatal("no graph")
			}
			out, err := Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, in) {
				t.Fatalf("Encode(Decode(%s)) differs at byte %d (%d vs %d bytes)", f.file, firstDiff(out, in), len(out), len(in))
			}
			var buf bytes.Buffer
			if err := Write(&buf, m); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), in) {
				t.Fatalf("Write differs at byte %d", firstDiff(buf.Bytes(), in))
			}
			m2, err := Decode(out)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(m, m2, cmpModel); d != "" {
				t.Errorf("Decode(Encode(m)) != m (-want +got):\n%s", d)
			}
		})
	}
}

// TestRoundTripModuleCache checks every model onnxruntime_go ships, when the
// module cache has it (building painterc puts it there); under
// PAINTERC_REQUIRE_MODCACHE=1 (make test) its absence is a failure.
func TestRoundTripModuleCache(t *testing.T) {
	skip := func(why string) {
		t.Helper()
		if os.Getenv("PAINTERC_REQUIRE_MODCACHE") == "1" {
			t.Fatalf("%s; run `go mod download`, or unset PAINTERC_REQUIRE_MODCACHE to skip", why)
		}
		t.Skip(why + "; set PAINTERC_REQUIRE_MODCACHE=1 to fail instead")
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		skip("no go command")
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "github.com/yalue/onnxruntime_go@v1.27.0/test_data")
	files, _ := filepath.Glob(filepath.Join(dir, "*.onnx"))
	if len(files) == 0 {
		skip("onnxruntime_go test_data not in the module cache (" + dir + ")")
	}
	for _, f := range files {
		in, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Decode(in)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		got, err := Encode(m)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if !bytes.Equal(got, in) {
			t.Errorf("%s: round trip differs at byte %d", filepath.Base(f), firstDiff(got, in))
		}
	}
}

func TestFixtureContents(t *testing.T) {
	load := func(name string) *Model {
		m, err := Decode(readFixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	t.Run("if", func(t *testing.T) {
		m := load("py_if.onnx")
		n := m.Graph.Node[0]
		got := map[string]string{}
		for _, a := range n.Attribute {
			got[a.Name] = a.G.Name
		}
		want := map[string]string{"then_branch": "then_branch", "else_branch": "else_branch"}
		if d := cmp.Diff(want, got); d != "" {
			t.Error(d)
		}
		if n.Attribute[1].Type != AttrGraph {
			t.Errorf("attribute type %d, want GRAPH", n.Attribute[1].Type)
		}
	})
	t.Run("loop", func(t *testing.T) {
		m := load("py_loop.onnx")
		body := m.Graph.Node[0].Attribute[0].G
		branches := []string{}
		for _, a := range body.Node[1].Attribute {
			branches = append(branches, a.Name+"="+a.G.Name)
		}
		if body.Name != "loop_body" || len(body.Initializer) != 1 || strings.Join(branches, ",") != "else_branch=inner_else,then_branch=inner_then" {
			t.Errorf("unexpected loop body %q %v", body.Name, branches)
		}
	})
	t.Run("sparse_func", func(t *testing.T) {
		m := load("py_sparse_func.onnx")
		sp := m.Graph.SparseInitializer[0]
		if d := cmp.Diff([]int64{3, 4}, sp.Dims); d != "" {
			t.Error(d)
		}
		if sp.Values.Name != "sp" || sp.Indices.Name != "sp_indices" {
			t.Errorf("sparse names %q %q", sp.Values.Name, sp.Indices.Name)
		}
		f := m.Functions[0]
		if f.Name != "SquarePlus" || f.Domain != "custom.domain" || len(f.Node) != 2 || f.DocString != "x*x + x" {
			t.Errorf("function %+v", f)
		}
	})
	t.Run("kitchen", func(t *testing.T) {
		m := load("py_kitchen.onnx")
		if m.DocString != "model doc" || m.Graph.DocString != "graph doc" || m.Graph.Node[0].DocString != "node doc" {
			t.Error("doc strings lost")
		}
		props := map[string]string{}
		for _, p := range m.MetadataProps {
			props[p.Key] = p.Value
		}
		if props["painterc.schedule"] != "0-7,[8-24]x3,25-31" {
			t.Errorf("metadata %v", props)
		}
		if !m.Has(5) || m.ModelVersion != 0 {
			t.Error("model_version 0 was written by protobuf but not marked present")
		}
		kinds := []string{}
		for _, v := range m.Graph.ValueInfo {
			ty := v.Type
			switch {
			case ty.SequenceType != nil:
				kinds = append(kinds, "seq")
			case ty.MapType != nil:
				kinds = append(kinds, "map")
			case ty.OptionalType != nil:
				kinds = append(kinds, "opt")
			case ty.SparseTensorType != nil:
				kinds = append(kinds, "sparse")
			case ty.OpaqueType != nil:
				kinds = append(kinds, "opaque:"+ty.Denotation)
			}
		}
		if d := cmp.Diff([]string{"seq", "map", "opt", "sparse", "opaque:IMAGE"}, kinds); d != "" {
			t.Error(d)
		}
		dims := m.Graph.Input[0].Type.TensorType.Shape.Dim
		if dims[0].DimParam != "batch" || dims[0].Denotation != "DATA_BATCH" || dims[1].DimValue != 3 || dims[2].Has(1) || dims[2].Has(2) {
			t.Errorf("dims %+v %+v %+v", dims[0], dims[1], dims[2])
		}
		attrs := map[string]*Attribute{}
		for _, a := range m.Graph.Node[0].Attribute {
			attrs[a.Name] = a
		}
		if a := attrs["i_attr"]; a.I != 0 || !a.Has(3) {
			t.Error("i_attr = 0 not marked present")
		}
		if a := attrs["neg_i"]; a.I != -3 {
			t.Errorf("neg_i = %d", a.I)
		}
		if a := attrs["ref"]; a.RefAttrName != "outer_attr" || a.DocString != "attribute doc" {
			t.Errorf("ref attr %+v", a)
		}
		if a := attrs["tps_attr"]; len(a.TypeProtos) != 2 || a.TypeProtos[0].MapType == nil {
			t.Error("type_protos")
		}
		if a := attrs["sparse_attr"]; a.SparseTensor == nil || a.SparseTensor.Values.Name != "spv" || len(a.SparseTensor.Values.RawData) != 4 {
			t.Error("sparse_tensor attribute")
		}
		if len(m.TrainingInfo) != 1 || m.TrainingInfo[0].Algorithm.Name != "algo" || m.TrainingInfo[0].UpdateBinding[0].Key != "f" {
			t.Error("training info")
		}
		if qa := m.Graph.QuantizationAnnotation; len(qa) != 1 || qa[0].QuantParameterTensorNames[0].Value != "y_scale" {
			t.Error("quantization annotation")
		}
	})
}

func TestUnknownFields(t *testing.T) {
	in := readFixture(t, "py_unknown.onnx")
	m, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	node := m.Graph.Node[0]
	unknowns := map[string][]byte{
		"model":     m.Unknown,
		"node":      node.Unknown,
		"attribute": node.Attribute[0].Unknown,
		"tensor":    m.Graph.Initializer[0].Unknown,
		"dimension": m.Graph.Input[0].Type.TensorType.Shape.Dim[0].Unknown,
	}
	fields := map[string][]int{}
	for k, u := range unknowns {
		for b := u; len(b) > 0; {
			num, typ, n := protowire.ConsumeField(b)
			if n < 0 {
				t.Fatalf("%s: bad unknown bytes", k)
			}
			_ = typ
			fields[k] = append(fields[k], int(num))
			b = b[n:]
		}
	}
	want := map[string][]int{"model": {26, 50}, "node": {10, 1000}, "attribute": {30}, "tensor": {15}, "dimension": {99}}
	if d := cmp.Diff(want, fields); d != "" {
		t.Fatalf("unknown field numbers (-want +got):\n%s", d)
	}

	// They survive a modification: rename the node and drop the attribute's
	// value presence; everything else must come back byte for byte.
	keep := map[string][]byte{}
	for k, u := range unknowns {
		keep[k] = bytes.Clone(u)
	}
	node.Name = "renamed_node_with_a_longer_name"
	m.Graph.Initializer[0].Name = "w_renamed"
	out, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Graph.Node[0].Name != node.Name || m2.Graph.Initializer[0].Name != "w_renamed" {
		t.Fatal("rename lost")
	}
	got := map[string][]byte{
		"model":     m2.Unknown,
		"node":      m2.Graph.Node[0].Unknown,
		"attribute": m2.Graph.Node[0].Attribute[0].Unknown,
		"tensor":    m2.Graph.Initializer[0].Unknown,
		"dimension": m2.Graph.Input[0].Type.TensorType.Shape.Dim[0].Unknown,
	}
	if d := cmp.Diff(keep, got); d != "" {
		t.Errorf("unknown fields after modification (-want +got):\n%s", d)
	}
	// Renaming back gives the original file.
	m2.Graph.Node[0].Name = "mm"
	m2.Graph.Initializer[0].Name = "w"
	back, _ := Encode(m2)
	if !bytes.Equal(back, in) {
		t.Errorf("rename and rename back differs at byte %d", firstDiff(back, in))
	}
}

// TestUnknownFieldsAppended appends unknown fields in Go: at the top level of
// every fixture, and inside a nested message.
func TestUnknownFieldsAppended(t *testing.T) {
	extra := protowire.AppendTag(nil, 26, protowire.BytesType)
	extra = protowire.AppendBytes(extra, []byte("configuration"))
	extra = protowire.AppendTag(extra, 4000, protowire.Fixed64Type)
	extra = protowire.AppendFixed64(extra, 0x0102030405060708)
	for _, f := range fixtures {
		in := append(readFixture(t, f.file), extra...)
		m, err := Decode(in)
		if err != nil {
			t.Fatalf("%s: %v", f.file, err)
		}
		if !bytes.HasSuffix(m.Unknown, extra) {
			t.Errorf("%s: unknown fields not kept", f.file)
		}
		m.Graph.Name += "_changed"
		out, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(out, extra) {
			t.Errorf("%s: unknown fields not written last", f.file)
		}
	}

	m, _ := Decode(readFixture(t, "torch_tiny.onnx"))
	n := m.Graph.Node[3]
	n.Unknown = protowire.AppendTag(nil, 10, protowire.BytesType)
	n.Unknown = protowire.AppendBytes(n.Unknown, []byte{0x0a, 0x01, 'x'})
	out, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m2.Graph.Node[3].Unknown, n.Unknown) {
		t.Error("nested unknown field lost")
	}
	out2, _ := Encode(m2)
	if !bytes.Equal(out, out2) {
		t.Error("second round trip differs")
	}
}

func TestPresenceAndPacking(t *testing.T) {
	enc := func(m *Model) []byte {
		t.Helper()
		b, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// A new attribute with I == 0 and no presence writes no i field; one
	// marked present does.
	a := &Attribute{Name: "axis", Type: AttrInt}
	g := &Graph{Node: []*Node{{OpType: "Softmax", Attribute: []*Attribute{a}}}}
	m := &Model{IRVersion: 8, Graph: g}
	without := enc(m)
	a.SetHas(3)
	with := enc(m)
	if len(with) != len(without)+2 {
		t.Errorf("presence of i=0 adds %d bytes, want 2", len(with)-len(without))
	}

	// Spec defaults for new messages: dims and attribute ints unpacked,
	// TensorProto typed data packed.
	tensor := &Tensor{Dims: []int64{2, 3}, DataType: Int64, Int64Data: []int64{1, 2, 3, 4, 5, 6}}
	b := new(encoder)
	_ = b
	got := enc(&Model{Graph: &Graph{Initializer: []*Tensor{tensor}}})
	want := []byte{0x3a, 16, 0x2a, 14, // graph{ initializer{
		0x08, 2, 0x08, 3, // dims unpacked
		0x10, 7, // data_type
		0x3a, 6, 1, 2, 3, 4, 5, 6} // int64_data packed
	if !bytes.Equal(got, want) {
		t.Errorf("new tensor encodes as % x, want % x", got, want)
	}
	ints := enc(&Model{Graph: &Graph{Node: []*Node{{Attribute: []*Attribute{{Ints: []int64{1, 2}, Floats: []float32{1}}}}}}})
	if !bytes.Contains(ints, []byte{0x40, 1, 0x40, 2}) || !bytes.Contains(ints, []byte{0x3d, 0, 0, 0x80, 0x3f}) {
		t.Errorf("attribute ints/floats not unpacked: % x", ints)
	}

	// Whatever the input did is kept: packed dims (proto3 writers) and
	// unpacked float_data.
	var tb []byte
	tb = protowire.AppendTag(tb, 1, protowire.BytesType)
	tb = protowire.AppendBytes(tb, []byte{2, 3})
	tb = protowire.AppendTag(tb, 2, protowire.VarintType)
	tb = protowire.AppendVarint(tb, 1)
	tb = protowire.AppendTag(tb, 4, protowire.Fixed32Type)
	tb = protowire.AppendFixed32(tb, 0x3f800000)
	tb = protowire.AppendTag(tb, 4, protowire.Fixed32Type)
	tb = protowire.AppendFixed32(tb, 0x40000000)
	tb = protowire.AppendTag(tb, 7, protowire.BytesType) // empty packed record
	tb = protowire.AppendBytes(tb, nil)
	var gb []byte
	gb = protowire.AppendTag(gb, 5, protowire.BytesType)
	gb = protowire.AppendBytes(gb, tb)
	var mb []byte
	mb = protowire.AppendTag(mb, 7, protowire.BytesType)
	mb = protowire.AppendBytes(mb, gb)
	m2, err := Decode(mb)
	if err != nil {
		t.Fatal(err)
	}
	tt := m2.Graph.Initializer[0]
	if d := cmp.Diff([]int64{2, 3}, tt.Dims); d != "" || len(tt.FloatData) != 2 {
		t.Errorf("decoded %v %v", tt.Dims, tt.FloatData)
	}
	if out := enc(m2); !bytes.Equal(out, mb) {
		t.Errorf("packing not kept:\n got % x\nwant % x", out, mb)
	}

	// Dimension oneof.
	d := &Dimension{}
	d.SetHas(1) // dim_value = 0, present
	d2 := &Dimension{DimParam: "batch"}
	shape := &Type{TensorType: &TensorType{ElemType: Float, Shape: &TensorShape{Dim: []*Dimension{d, d2}}}}
	m3 := &Model{Graph: &Graph{Input: []*ValueInfo{{Name: "x", Type: shape}}}}
	out := enc(m3)
	m4, _ := Decode(out)
	dims := m4.Graph.Input[0].Type.TensorType.Shape.Dim
	if !dims[0].Has(1) || dims[0].DimValue != 0 || dims[1].DimParam != "batch" || dims[1].Has(1) {
		t.Errorf("dims %+v %+v", dims[0], dims[1])
	}
	d2.DimValue = 4
	if _, err := Encode(m3); err == nil || !strings.Contains(err.Error(), "oneof") {
		t.Errorf("both dim_value and dim_param: err = %v", err)
	}
	d2.DimValue = 0
	shape.MapType = &MapType{}
	if _, err := Encode(m3); err == nil || !strings.Contains(err.Error(), "oneof") {
		t.Errorf("two type kinds: err = %v", err)
	}
}

// deepModel nests n If subgraphs.
func deepModelBytes(n int) []byte {
	g := []byte{}
	for i := 0; i < n; i++ {
		var a []byte
		a = protowire.AppendTag(a, 6, protowire.BytesType)
		a = protowire.AppendBytes(a, g)
		var node []byte
		node = protowire.AppendTag(node, 5, protowire.BytesType)
		node = protowire.AppendBytes(node, a)
		g = protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), node)
	}
	return protowire.AppendBytes(protowire.AppendTag(nil, 7, protowire.BytesType), g)
}

func TestDecodeErrors(t *testing.T) {
	// graph "main_graph" > node 12 ("/model/layers.0/Add") > attribute
	// "axis" with a truncated i. The graph's name comes after its nodes, as
	// protobuf writes it.
	var attr []byte
	attr = protowire.AppendTag(attr, 1, protowire.BytesType)
	attr = protowire.AppendString(attr, "axis")
	attr = protowire.AppendTag(attr, 3, protowire.VarintType)
	badAt := len(attr)
	attr = append(attr, 0x80)
	var node []byte
	node = protowire.AppendTag(node, 3, protowire.BytesType)
	node = protowire.AppendString(node, "/model/layers.0/Add")
	node = protowire.AppendTag(node, 4, protowire.BytesType)
	node = protowire.AppendString(node, "Add")
	node = protowire.AppendTag(node, 5, protowire.BytesType)
	node = protowire.AppendVarint(node, uint64(len(attr)))
	attrAt := len(node)
	node = append(node, attr...)
	var graph []byte
	for i := 0; i < 12; i++ {
		graph = protowire.AppendTag(graph, 1, protowire.BytesType)
		graph = protowire.AppendBytes(graph, []byte{0x22, 3, 'A', 'd', 'd'})
	}
	graph = protowire.AppendTag(graph, 1, protowire.BytesType)
	graph = protowire.AppendVarint(graph, uint64(len(node)))
	nodeAt := len(graph)
	graph = append(graph, node...)
	graph = protowire.AppendTag(graph, 2, protowire.BytesType)
	graph = protowire.AppendString(graph, "main_graph")
	model := protowire.AppendTag(nil, 1, protowire.VarintType)
	model = protowire.AppendVarint(model, 8)
	model = protowire.AppendTag(model, 7, protowire.BytesType)
	model = protowire.AppendVarint(model, uint64(len(graph)))
	graphAt := len(model)
	model = append(model, graph...)
	offset := graphAt + nodeAt + attrAt + badAt

	bigLen := protowire.AppendTag(nil, 6, protowire.BytesType)
	bigLen = protowire.AppendVarint(bigLen, 1<<40)
	negLen := protowire.AppendTag(nil, 6, protowire.BytesType)
	negLen = protowire.AppendVarint(negLen, 1<<63)

	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"nested truncated varint", model,
			fmt.Sprintf(`decode: graph "main_graph" > node 12 ("/model/layers.0/Add") > attribute "axis": field 3 (i): truncated varint at byte %d`, offset)},
		{"truncated tag", []byte{0x08, 0x01, 0x80}, "decode: truncated varint in a field tag at byte 2"},
		{"wrong wire type", []byte{0x38, 0x01}, "decode: field 7 (graph): wrong wire type varint, want length-delimited at byte 0"},
		{"wrong wire type string", []byte{0x15, 0, 0, 0, 0}, "decode: field 2 (producer_name): wrong wire type fixed32, want length-delimited at byte 0"},
		{"length past end", bigLen, "decode: field 6 (doc_string): length 1099511627776 runs past the end of the input (0 bytes left) at byte 1"},
		{"negative length", negLen, "decode: field 6 (doc_string): negative length -9223372036854775808 at byte 1"},
		{"length past nested end", []byte{0x3a, 4, 0x12, 5, 'a', 'b'},
			`decode: graph: field 2 (name): length 5 runs past the end of the graph message (2 bytes left) at byte 3`},
		{"field number 0", []byte{0x00, 0x01}, "decode: invalid field number 0 at byte 0"},
		{"wire type 7", []byte{0x0f}, "decode: field 1 (ir_version): invalid wire type 7 at byte 0"},
		{"end group", []byte{0x0c}, "decode: field 1 (ir_version): unexpected end-group marker at byte 0"},
		{"varint overflow", []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "decode: field 1 (ir_version): varint overflows 64 bits at byte 1"},
		{"truncated fixed32", []byte{0x3a, 5, 0x0a, 3, 0x15, 0, 0}, "decode: graph > node 0: field 2 (output): truncated fixed32 (2 of 4 bytes) at byte 5"},
		{"wrong type in packed-capable field", []byte{0x3a, 7, 0x2a, 5, 0x0d, 0, 0, 0, 0}, "decode: graph > initializer 0: field 1 (dims): wrong wire type fixed32, want varint at byte 4"},
		{"packed float not multiple of 4", []byte{0x3a, 6, 0x2a, 4, 0x22, 2, 0, 0},
			`decode: graph > initializer 0: field 4 (float_data): packed fixed32 data of 2 bytes is not a multiple of 4 at byte 6`},
		{"too deep", deepModelBytes(33), "messages nested deeper than 100"},
		{"too deep, far", deepModelBytes(3000), "messages nested deeper than 100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.in)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n  %s\nwant it to contain\n  %s", err, tc.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("%T is not a *DecodeError", err)
			}
		})
	}
	// 32 nested Ifs (3 messages each, plus the model and the innermost
	// graph: 98 messages) still decode.
	if _, err := Decode(deepModelBytes(32)); err != nil {
		t.Errorf("depth 100: %v", err)
	}
}

// topBoundaries returns the offsets at which a top-level field ends.
func topBoundaries(b []byte) map[int]bool {
	ends := map[int]bool{0: true}
	for p := 0; p < len(b); {
		_, _, n := protowire.ConsumeField(b[p:])
		if n < 0 {
			break
		}
		p += n
		ends[p] = true
	}
	return ends
}

// TestTruncated cuts small models at every byte: Decode never panics, and
// it fails exactly where the cut is not between two top-level fields.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"py_kitchen.onnx", "py_if.onnx", "py_unknown.onnx", "py_sparse_func.onnx", "example_multitype.onnx"} {
		in := readFixture(t, name)
		ends := topBoundaries(in)
		for l := 0; l < len(in); l++ {
			m, err := Decode(in[:l:l])
			if ends[l] != (err == nil) {
				t.Errorf("%s cut at %d: err = %v, boundary = %v", name, l, err, ends[l])
			}
			if err == nil && m.Graph != nil && l < len(in) && !ends[l] {
				t.Errorf("%s cut at %d decoded", name, l)
			}
		}
	}
}

func TestRandomAndMutatedInput(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	check := func(in []byte) {
		m, err := Decode(in)
		if err != nil {
			return
		}
		out, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode of a decoded input failed: %v (input % x)", err, in)
		}
		m2, err := Decode(out)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		out2, err := Encode(m2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("encoding is not stable: %v", err)
		}
	}
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.Intn(64))
		rng.Read(b)
		check(b)
	}
	for _, f := range fixtures {
		in := readFixture(t, f.file)
		for i := 0; i < 300; i++ {
			b := bytes.Clone(in)
			for k := 0; k < 1+rng.Intn(4); k++ {
				b[rng.Intn(len(b))] = byte(rng.Intn(256))
			}
			check(b)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, fx := range fixtures {
		b, err := os.ReadFile(filepath.Join("testdata", fx.file))
		if err != nil {
			f.Fatal(err)
		}
		if len(b) < 4096 {
			f.Add(b)
		}
	}
	f.Add(deepModelBytes(3))
	f.Add([]byte{0x3a, 4, 0x12, 2, 'a', 'b'})
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := Decode(in)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		out, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode of a decoded input: %v", err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, m); err != nil || !bytes.Equal(buf.Bytes(), out) {
			t.Fatalf("Write differs from Encode (%v)", err)
		}
		m2, err := Decode(out)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		out2, err := Encode(m2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("encoding is not stable (%v)", err)
		}
	})
}

// TestDecodeErrorPathCut: an error deep inside nested subgraphs names the
// outer and inner frames and counts the ones between, instead of printing
// every level.
func TestDecodeErrorPathCut(t *testing.T) {
	path := make([]string, 12)
	for i := range path {
		path[i] = fmt.Sprintf("f%d", i)
	}
	e := &DecodeError{Path: path, Msg: "truncated", Offset: 7}
	want := "decode: f0 > f1 > f2 > f3 > ... (4 more levels) ... > f8 > f9 > f10 > f11: truncated at byte 7"
	if got := e.Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	e.Path = path[:9]
	if got := e.Error(); !strings.HasPrefix(got, "decode: f0 > f1 > f2 > f3 > f4 > f5 > f6 > f7 > f8: ") {
		t.Errorf("a short path is kept whole: %s", got)
	}
}
