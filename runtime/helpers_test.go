package runtime

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// requireORT initialises ONNX Runtime for a test. When no library can be
// found the test is skipped, unless PAINTERC_REQUIRE_ORT is set (CI sets it
// to 1), in which case that is a failure. Any other Init error (wrong file,
// wrong version) always fails.
func requireORT(t testing.TB) {
	t.Helper()
	err := Init(Options{})
	if err == nil {
		return
	}
	if errors.Is(err, ErrLibraryNotFound) && !ortRequired() {
		t.Skipf("skipping: %v\n(set PAINTERC_REQUIRE_ORT=1 to make this a failure)", err)
	}
	t.Fatalf("runtime.Init: %v", err)
}

func ortRequired() bool {
	v := os.Getenv("PAINTERC_REQUIRE_ORT")
	return v != "" && v != "0"
}

func testModel(name string) string {
	return filepath.Join("testdata", "onnxruntime_go", name)
}

func openSession(t testing.TB, model string, so SessionOptions) *Session {
	t.Helper()
	requireORT(t)
	s, err := NewSession(model, so)
	if err != nil {
		t.Fatalf("NewSession(%s): %v", model, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// buildFakeLib compiles a shared library that exports OrtGetApiBase like
// ONNX Runtime does, reporting the given version and offering no C API
// version at all (GetApi returns NULL). With version == "" it exports no
// OrtGetApiBase: a shared library that is not ONNX Runtime.
func buildFakeLib(t testing.TB, version string) string {
	t.Helper()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler (%s) to build a fake library: %v", cc, err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "fake.c")
	code := "int not_onnxruntime(void) { return 42; }\n"
	if version != "" {
		code = `#include <stddef.h>
typedef struct { const void *(*GetApi)(unsigned); const char *(*GetVersionString)(void); } Base;
static const void *get_api(unsigned v) { (void)v; return NULL; }
static const char *get_version(void) { return "` + version + `"; }
static const Base base = { get_api, get_version };
const Base *OrtGetApiBase(void) { return &base; }
`
	}
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(dir, "libonnxruntime.so.1")
	out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, src).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cc, err, out)
	}
	return lib
}

// --- a tiny ONNX model writer, enough for Identity/Add graphs -------------

type valueInfo struct {
	name string
	dt   DataType
	dims []any // int64 (fixed) or string (symbolic); empty = scalar
}

type nodeProto struct {
	op      string
	in, out []string
}

func appendMsg(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func appendStr(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendInt(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func encodeValueInfo(v valueInfo) []byte {
	var shape []byte
	for _, d := range v.dims {
		var dim []byte
		switch d := d.(type) {
		case int:
			dim = appendInt(nil, 1, int64(d))
		case int64:
			dim = appendInt(nil, 1, d)
		case string:
			dim = appendStr(nil, 2, d)
		}
		shape = appendMsg(shape, 1, dim) // TensorShapeProto.dim
	}
	tensor := appendInt(nil, 1, int64(v.dt)) // TypeProto.Tensor.elem_type
	tensor = appendMsg(tensor, 2, shape)     // .shape (present even when empty: rank 0)
	typ := appendMsg(nil, 1, tensor)         // TypeProto.tensor_type
	b := appendStr(nil, 1, v.name)           // ValueInfoProto.name
	return appendMsg(b, 2, typ)              // .type
}

// buildModel returns a serialized ModelProto (IR 8, default opset 17).
func buildModel(inputs, outputs []valueInfo, nodes []nodeProto) []byte {
	var g []byte
	for i, n := range nodes {
		var nb []byte
		for _, in := range n.in {
			nb = appendStr(nb, 1, in)
		}
		for _, out := range n.out {
			nb = appendStr(nb, 2, out)
		}
		nb = appendStr(nb, 3, n.op+"_"+strings.Repeat("x", i))
		nb = appendStr(nb, 4, n.op)
		g = appendMsg(g, 1, nb) // GraphProto.node
	}
	g = appendStr(g, 2, "painterc_test")
	for _, v := range inputs {
		g = appendMsg(g, 11, encodeValueInfo(v))
	}
	for _, v := range outputs {
		g = appendMsg(g, 12, encodeValueInfo(v))
	}
	m := appendInt(nil, 1, 8) // ir_version
	m = appendStr(m, 2, "painterc runtime test")
	m = appendMsg(m, 7, g)
	opset := appendStr(nil, 1, "")
	opset = appendInt(opset, 2, 17)
	return appendMsg(m, 8, opset)
}

func writeModel(t testing.TB, name string, model []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, model, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
