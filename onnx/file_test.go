package onnx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// copyFixtures copies testdata files into a new temporary directory.
func copyFixtures(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), readFixture(t, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustLoad(t *testing.T, path string) *Model {
	t.Helper()
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// bigModel is a model whose initializers have raw payloads of the given
// sizes, filled with a pattern.
func bigModel(sizes ...int) *Model {
	g := &Graph{Name: "big"}
	for i, n := range sizes {
		raw := make([]byte, n)
		for j := range raw {
			raw[j] = byte(i*31 + j*7 + j>>12)
		}
		g.Initializer = append(g.Initializer, &Tensor{
			Name: fmt.Sprintf("w%d", i), DataType: Uint8, Dims: []int64{int64(n)}, RawData: raw,
		})
	}
	return &Model{IRVersion: 8, Graph: g, OpsetImport: []*OperatorSet{{Version: 17}}}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{"empty", write("empty.onnx", nil), "empty.onnx: not an ONNX model (no graph)"},
		{"no graph", write("nograph.onnx", []byte{0x08, 0x08}), "nograph.onnx: not an ONNX model (no graph)"},
		{"text", write("text.onnx", []byte("hello, world\n")), "text.onnx: not an ONNX model: "},
		{"missing", filepath.Join(dir, "missing.onnx"), "missing.onnx: no such file or directory"},
		{"directory", dir, " is a directory, not a regular file: painterc reads its inputs only from files; give the file itself"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.path)
			if err == nil || !strings.HasPrefix(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: %v\nwant it to start with the path and contain %q", err, tc.want)
			}
		})
	}
	_, err := Load(filepath.Join(dir, "missing.onnx"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
	// A decode error keeps its location and gets the file name.
	p := write("trunc.onnx", readFixture(t, "py_if.onnx")[:100])
	_, err = Load(p)
	var de *DecodeError
	if !errors.As(err, &de) || de.File != p || !strings.HasPrefix(err.Error(), p+": not an ONNX model: field 7 (graph): length 269 runs past the end of the input (87 bytes left) at byte 11") {
		t.Errorf("truncated: %v", err)
	}
}

func TestLoadSaveIdentical(t *testing.T) {
	for _, f := range fixtures {
		if f.file == "py_external.onnx" {
			continue
		}
		t.Run(f.file, func(t *testing.T) {
			dir := copyFixtures(t, f.file)
			m := mustLoad(t, filepath.Join(dir, f.file))
			out := filepath.Join(t.TempDir(), "out.onnx")
			if err := Save(out, m, SaveOptions{}); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(out)
			if !bytes.Equal(got, readFixture(t, f.file)) {
				t.Errorf("Save differs at byte %d", firstDiff(got, readFixture(t, f.file)))
			}
		})
	}
}

// TestStreamingCopy saves and writes models whose payloads are views of the
// mapped file (copied by the kernel) and checks the bytes.
func TestStreamingCopy(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "big.onnx")
	want, err := Encode(bigModel(1<<20, 100, 300<<10, 64<<10))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, want, 0o644); err != nil {
		t.Fatal(err)
	}
	m := mustLoad(t, src)
	if off, ok := m.src.offsetOf(m.Graph.Initializer[0].RawData); !ok || off <= 0 {
		t.Fatalf("raw_data is not a view of the mapping (%d, %v)", off, ok)
	}
	if _, ok := m.src.offsetOf(make([]byte, 10)); ok {
		t.Fatal("a heap slice counts as a view of the mapping")
	}

	out := filepath.Join(dir, "out.onnx")
	if err := Save(out, m, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
		t.Fatalf("Save: differs at byte %d", firstDiff(got, want))
	}

	// Write to a plain file (kernel copy), to an *os.File opened for append
	// (copy_file_range refuses: fallback), and to a non-file writer.
	f, err := os.Create(filepath.Join(dir, "w.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("prefix"))
	if err := Write(f, m); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, _ := os.ReadFile(f.Name()); !bytes.Equal(got[6:], want) {
		t.Fatalf("Write to *os.File differs at byte %d", firstDiff(got[6:], want))
	}
	af, err := os.OpenFile(filepath.Join(dir, "a.onnx"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(af, m); err != nil {
		t.Fatal(err)
	}
	af.Close()
	if got, _ := os.ReadFile(af.Name()); !bytes.Equal(got, want) {
		t.Fatalf("Write to O_APPEND file differs at byte %d", firstDiff(got, want))
	}
	var buf bytes.Buffer
	if err := Write(struct{ io.Writer }{&buf}, m); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatal("Write to io.Writer differs")
	}
	// A modified model: payload from the heap next to payloads from the map.
	m.Graph.Initializer[1].RawData = bytes.Repeat([]byte{7}, 200<<10)
	m.Graph.Node = append(m.Graph.Node, &Node{OpType: "Identity", Input: []string{"w0"}, Output: []string{"y"}})
	want2, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(out, m, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want2) {
		t.Fatalf("Save of modified model differs at byte %d", firstDiff(got, want2))
	}
}

func TestSaveRefusesItsSource(t *testing.T) {
	dir := copyFixtures(t, "py_if.onnx")
	src := filepath.Join(dir, "py_if.onnx")
	m := mustLoad(t, src)
	err := Save(src, m, SaveOptions{})
	if err == nil || !strings.Contains(err.Error(), "refusing to overwrite the file this model was loaded from") {
		t.Errorf("Save over source: %v", err)
	}
	link := filepath.Join(dir, "link.onnx")
	if err := os.Link(src, link); err == nil {
		if err := Save(link, m, SaveOptions{}); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("Save over a hard link of the source: %v", err)
		}
	}
	sym := filepath.Join(dir, "sym.onnx")
	if err := os.Symlink("py_if.onnx", sym); err == nil {
		if err := Save(sym, m, SaveOptions{}); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("Save over a symlink to the source: %v", err)
		}
	}
	if got, _ := os.ReadFile(src); !bytes.Equal(got, readFixture(t, "py_if.onnx")) {
		t.Error("source changed")
	}
	m.Close()
	if err := Save(filepath.Join(dir, "x.onnx"), m, SaveOptions{}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Save after Close: %v", err)
	}
}

func TestSaveAtomic(t *testing.T) {
	for _, stage := range []string{"data-written", "model-written", "data-renamed"} {
		for _, existing := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/existing=%v", stage, existing), func(t *testing.T) {
				dir := copyFixtures(t, "torch_tiny.onnx")
				m := mustLoad(t, filepath.Join(dir, "torch_tiny.onnx"))
				outDir := t.TempDir()
				out := filepath.Join(outDir, "out.onnx")
				if existing {
					os.WriteFile(out, []byte("old"), 0o644)
				}
				saveHook = func(s string) error {
					if s == stage {
						return errors.New("injected failure")
					}
					return nil
				}
				defer func() { saveHook = nil }()
				err := Save(out, m, SaveOptions{ExternalData: true})
				if err == nil || !strings.Contains(err.Error(), "injected failure") {
					t.Fatalf("Save: %v", err)
				}
				want := []string(nil)
				if existing {
					want = []string{"out.onnx"}
				}
				if d := cmp.Diff(want, listDir(t, outDir)); d != "" {
					t.Errorf("files left (-want +got):\n%s", d)
				}
				if existing {
					if b, _ := os.ReadFile(out); string(b) != "old" {
						t.Error("existing file changed")
					}
				}
			})
		}
	}
	// A real failure: the input's data file disappears after Load.
	extDir := copyFixtures(t, "py_external.onnx", "py_external.onnx.data")
	em := mustLoad(t, filepath.Join(extDir, "py_external.onnx"))
	os.Remove(filepath.Join(extDir, "py_external.onnx.data"))
	outDir := t.TempDir()
	err := Save(filepath.Join(outDir, "out.onnx"), em, SaveOptions{})
	if err == nil || !strings.HasSuffix(err.Error(), `(location "py_external.onnx.data") does not exist`) {
		t.Errorf("Save with a vanished data file: %v", err)
	}
	if names := listDir(t, outDir); len(names) != 0 {
		t.Errorf("files left: %v", names)
	}

	// A failure in the encoder (an invalid model) leaves nothing either.
	dir := t.TempDir()
	m := bigModel(10)
	m.Graph.Input = []*ValueInfo{{Name: "x", Type: &Type{TensorType: &TensorType{Shape: &TensorShape{Dim: []*Dimension{{DimValue: 1, DimParam: "n"}}}}}}}
	if err := Save(filepath.Join(dir, "bad.onnx"), m, SaveOptions{}); err == nil {
		t.Error("Save of an invalid model succeeded")
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Errorf("files left: %v", names)
	}
}

func TestResolveLocation(t *testing.T) {
	dir := t.TempDir()
	modelDir := filepath.Join(dir, "model")
	outside := filepath.Join(dir, "secret.bin")
	os.MkdirAll(filepath.Join(modelDir, "sub"), 0o755)
	os.WriteFile(outside, []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(modelDir, "w.bin"), []byte("weights"), 0o644)
	os.WriteFile(filepath.Join(modelDir, "sub", "v.bin"), []byte("weights"), 0o644)
	os.Symlink(outside, filepath.Join(modelDir, "escape.bin"))
	os.Symlink("..", filepath.Join(modelDir, "up"))
	os.Symlink("sub/v.bin", filepath.Join(modelDir, "inside.bin"))

	tests := []struct {
		loc  string
		want string // "" for success
	}{
		{"w.bin", ""},
		{"./sub/../w.bin", ""},
		{"sub/v.bin", ""},
		{"inside.bin", ""},
		{"/etc/passwd", `external data location "/etc/passwd" is an absolute path, outside the model directory ` + modelDir + `; painterc only reads external data inside the model's directory (CVE-2024-27318)`},
		{"../../etc/passwd", `external data location "../../etc/passwd" leaves the model directory ` + modelDir + `; painterc only reads external data inside the model's directory (CVE-2024-27318)`},
		{"sub/../../secret.bin", `leaves the model directory`},
		{"..", `leaves the model directory`},
		{"escape.bin", `external data location "escape.bin" resolves through a symbolic link to ` + outside + `, outside the model directory ` + modelDir},
		{"up/secret.bin", `resolves through a symbolic link to ` + outside},
		{"nothere.bin", `external data file ` + filepath.Join(modelDir, "nothere.bin") + ` (location "nothere.bin") does not exist`},
		{"", "empty"},
		{".", "names the model directory itself"},
	}
	for _, tc := range tests {
		t.Run(tc.loc, func(t *testing.T) {
			p, err := ResolveLocation(modelDir, tc.loc)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(p, modelDir) {
					t.Errorf("resolved to %s", p)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ResolveLocation(%q) = %q, %v\nwant error containing %q", tc.loc, p, err, tc.want)
			}
		})
	}
	if _, err := ResolveLocation(modelDir, "nothere.bin"); !errors.Is(err, fs.ErrNotExist) {
		t.Error("missing file is not fs.ErrNotExist")
	}
}

// externalModel writes py_external.onnx with its tensors' locations and
// data file changed as edit says, and returns the model path.
func externalModel(t *testing.T, edit func(dir string, m *Model)) string {
	t.Helper()
	dir := copyFixtures(t, "py_external.onnx", "py_external.onnx.data")
	m, err := Decode(readFixture(t, "py_external.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	edit(dir, m)
	b, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "py_external.onnx")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func setEntry(tn *Tensor, key, value string) {
	for _, e := range tn.ExternalData {
		if e.Key == key {
			e.Value = value
			return
		}
	}
	tn.ExternalData = append(tn.ExternalData, &StringStringEntry{Key: key, Value: value})
}

func TestExternalLoadErrors(t *testing.T) {
	outsideDir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(dir string, m *Model)
		want string
	}{
		{"escape", func(_ string, m *Model) { setEntry(m.Graph.Initializer[0], "location", "../../etc/passwd") },
			`: tensor "w1": external data location "../../etc/passwd" leaves the model directory `},
		{"absolute", func(_ string, m *Model) { setEntry(m.Graph.Initializer[0], "location", "/etc/passwd") },
			`: tensor "w1": external data location "/etc/passwd" is an absolute path, outside the model directory`},
		{"symlink", func(dir string, m *Model) {
			os.WriteFile(filepath.Join(outsideDir, "secret.data"), make([]byte, 1024), 0o644)
			os.Symlink(filepath.Join(outsideDir, "secret.data"), filepath.Join(dir, "link.data"))
			setEntry(m.Graph.Initializer[0], "location", "link.data")
		}, `: tensor "w1": external data location "link.data" resolves through a symbolic link to ` + filepath.Join(outsideDir, "secret.data") + `, outside the model directory`},
		{"missing", func(dir string, m *Model) { os.Remove(filepath.Join(dir, "py_external.onnx.data")) },
			`: tensor "w1": external data file `},
		{"too short", func(dir string, m *Model) { os.Truncate(filepath.Join(dir, "py_external.onnx.data"), 300) },
			`: tensor "w2": external data file `},
		{"offset overflows", func(_ string, m *Model) { setEntry(m.Graph.Initializer[1], "offset", "9223372036854775800") },
			`: tensor "w2": external data file ` + "" /* checked below */},
		{"bad offset", func(_ string, m *Model) { setEntry(m.Graph.Initializer[1], "offset", "-5") },
			`: tensor "w2": external data offset "-5" is not a non-negative integer`},
		{"no location", func(_ string, m *Model) {
			m.Graph.Initializer[1].ExternalData = m.Graph.Initializer[1].ExternalData[1:]
		}, `: tensor "w2": external data has no "location" entry`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := externalModel(t, tc.edit)
			_, err := Load(p)
			if err == nil || !strings.HasPrefix(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v\nwant it to contain %q", err, tc.want)
			}
			if tc.name == "offset overflows" && !strings.Contains(err.Error(), "but the tensor's range overflows (offset 9223372036854775800, length 192: the end is past 2^63)") {
				t.Errorf("offset overflows: %v", err)
			}
			if tc.name == "missing" && !strings.Contains(err.Error(), `py_external.onnx.data (location "py_external.onnx.data") does not exist`) {
				t.Errorf("missing: %v", err)
			}
			if tc.name == "too short" && !strings.Contains(err.Error(), "is 300 bytes, but the tensor needs bytes 256 to 448 (offset 256, length 192)") {
				t.Errorf("too short: %v", err)
			}
			if strings.Contains(tc.name, "escape") && !strings.Contains(err.Error(), "CVE-2024-27318") {
				t.Errorf("no CVE reference: %v", err)
			}
		})
	}
}

func f32bytes(vs ...float32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func TestTensorBytes(t *testing.T) {
	dir := copyFixtures(t, "py_external.onnx", "py_external.onnx.data")
	m := mustLoad(t, filepath.Join(dir, "py_external.onnx"))
	want := make([]float32, 64)
	for i := range want {
		want[i] = float32(i)
	}
	w1 := m.Graph.Initializer[0]
	if !w1.IsExternal() {
		t.Fatal("w1 is not external")
	}
	got, err := m.TensorBytes(w1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, f32bytes(want...)) {
		t.Errorf("w1 = % x", got[:16])
	}
	again, _ := m.TensorBytes(w1)
	if &again[0] != &got[0] {
		t.Error("external data file mapped twice")
	}
	b, _ := m.TensorBytes(m.Graph.Initializer[2])
	if !bytes.Equal(b, f32bytes(1, 1, 1, 1, 1, 1)) {
		t.Errorf("b = % x", b)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	k, err := Decode(readFixture(t, "py_kitchen.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Tensor{}
	for _, tn := range k.Graph.Initializer {
		byName[tn.Name] = tn
	}
	le64 := func(vs ...uint64) []byte {
		b := make([]byte, 8*len(vs))
		for i, v := range vs {
			binary.LittleEndian.PutUint64(b[8*i:], v)
		}
		return b
	}
	tests := []struct {
		name string
		want []byte
		err  string
	}{
		{"f", f32bytes(1, float32(math.Copysign(0, -1))), ""},
		{"h", []byte{0x00, 0x3c, 0x00, 0x40, 0x00, 0x42}, ""},
		{"i8", []byte{0xff, 0, 127}, ""},
		{"i32", []byte{0xfb, 0xff, 0xff, 0xff, 0, 0, 0, 0, 7, 0, 0, 0}, ""},
		{"i64", le64(math.MaxUint64, 1<<40), ""},
		{"d", le64(math.Float64bits(3.5), math.Float64bits(-1e300)), ""},
		{"u64", le64(1, 1<<63), ""},
		{"u32", []byte{7, 0, 0, 0, 0x00, 0x28, 0x6b, 0xee}, ""},
		{"raw", f32bytes(1, 2), ""},
		{"empty", []byte{}, ""},
		{"s", nil, "STRING tensor has no raw byte form"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := k.TensorBytes(byName[tc.name])
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("got % x, want % x", got, tc.want)
			}
		})
	}
	// A decoded model with external data but no directory.
	e, _ := Decode(readFixture(t, "py_external.onnx"))
	if _, err := e.TensorBytes(e.Graph.Initializer[0]); err == nil || !strings.Contains(err.Error(), "Model.Dir is empty") {
		t.Errorf("no Dir: %v", err)
	}
}

// allTensorBytes returns every initializer's payload by name.
func allTensorBytes(t *testing.T, m *Model) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, tn := range m.Graph.Initializer {
		b, err := m.TensorBytes(tn)
		if err != nil {
			t.Fatal(err)
		}
		out[tn.Name] = bytes.Clone(b)
	}
	return out
}

func externalLocations(m *Model) map[string]string {
	out := map[string]string{}
	for _, tn := range m.Graph.Initializer {
		if tn.IsExternal() {
			info, _ := tn.External()
			out[tn.Name] = fmt.Sprintf("%s@%d+%d", info.Location, info.Offset, info.Length)
		}
	}
	return out
}

func TestSaveExternalRoundTrip(t *testing.T) {
	dir := copyFixtures(t, "torch_tiny.onnx")
	m := mustLoad(t, filepath.Join(dir, "torch_tiny.onnx"))
	want := allTensorBytes(t, m)

	outDir := t.TempDir()
	out := filepath.Join(outDir, "tiny.onnx")
	if err := Save(out, m, SaveOptions{ExternalData: true, Threshold: 256}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"tiny.onnx", "tiny.onnx.data"}, listDir(t, outDir)); d != "" {
		t.Fatalf("files (-want +got):\n%s", d)
	}
	m2 := mustLoad(t, out)
	locs := externalLocations(m2)
	if len(locs) == 0 {
		t.Fatal("nothing went external")
	}
	for _, tn := range m2.Graph.Initializer {
		raw, _ := m.TensorBytes(findTensor(m, tn.Name))
		if tn.IsExternal() {
			info, _ := tn.External()
			align := int64(64)
			if info.Length >= 4096 {
				align = 4096
			}
			if info.Location != "tiny.onnx.data" || info.Offset%align != 0 || info.Length != int64(len(raw)) {
				t.Errorf("%s: %+v", tn.Name, info)
			}
		} else if len(raw) >= 256 {
			t.Errorf("%s (%d bytes) stayed in the file", tn.Name, len(raw))
		}
	}
	if d := cmp.Diff(want, allTensorBytes(t, m2)); d != "" {
		t.Errorf("payloads differ:\n%s", d)
	}
	// The source model is untouched: still in-file.
	if len(externalLocations(m)) != 0 {
		t.Error("Save modified the model")
	}

	// And back in-file, into a third directory: the external tensors come
	// home... no: external input tensors whose data file the output cannot
	// reach go to a new data file next to the output.
	out3 := filepath.Join(t.TempDir(), "again.onnx")
	if err := Save(out3, m2, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	m3 := mustLoad(t, out3)
	for name, loc := range externalLocations(m3) {
		if !strings.HasPrefix(loc, "again.onnx.data@") {
			t.Errorf("%s -> %s", name, loc)
		}
	}
	if d := cmp.Diff(want, allTensorBytes(t, m3)); d != "" {
		t.Errorf("payloads differ after second save:\n%s", d)
	}
	// Loading the saved copy and saving it in-file with Encode gives back
	// the original file except for the external tensors.
	if len(externalLocations(m3)) != len(locs) {
		t.Errorf("%d external tensors, want %d", len(externalLocations(m3)), len(locs))
	}
}

func findTensor(m *Model, name string) *Tensor {
	for _, tn := range m.Graph.Initializer {
		if tn.Name == name {
			return tn
		}
	}
	return nil
}

// TestSaveExternalNoCopy: saving next to the input keeps its external
// references and does not touch its data file.
func TestSaveExternalNoCopy(t *testing.T) {
	dir := copyFixtures(t, "py_external.onnx", "py_external.onnx.data")
	data := filepath.Join(dir, "py_external.onnx.data")
	before, _ := os.Stat(data)
	m := mustLoad(t, filepath.Join(dir, "py_external.onnx"))
	want := externalLocations(m)

	out := filepath.Join(dir, "out.onnx")
	if err := Save(out, m, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"out.onnx", "py_external.onnx", "py_external.onnx.data"}, listDir(t, dir)); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, readFixture(t, "py_external.onnx")) {
		t.Error("output differs from the input")
	}
	after, _ := os.Stat(data)
	if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Error("the data file was rewritten")
	}
	m2 := mustLoad(t, out)
	if d := cmp.Diff(want, externalLocations(m2)); d != "" {
		t.Error(d)
	}

	// ExternalData in the same directory: external tensors keep their
	// references, in-file ones (b, 24 bytes) go to the new file.
	out2 := filepath.Join(dir, "out2.onnx")
	if err := Save(out2, m, SaveOptions{ExternalData: true, Threshold: 1}); err != nil {
		t.Fatal(err)
	}
	m3 := mustLoad(t, out2)
	got := externalLocations(m3)
	if got["w1"] != want["w1"] || got["w2"] != want["w2"] || got["b"] != "out2.onnx.data@0+24" {
		t.Errorf("locations %v", got)
	}
	if d := cmp.Diff(allTensorBytes(t, m), allTensorBytes(t, m3)); d != "" {
		t.Error(d)
	}

	// Another directory: the references are rewritten to a new data file.
	other := t.TempDir()
	out4 := filepath.Join(other, "moved.onnx")
	if err := Save(out4, m, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	m4 := mustLoad(t, out4)
	got = externalLocations(m4)
	if got["w1"] != "moved.onnx.data@0+256" || got["w2"] != "moved.onnx.data@256+192" {
		t.Errorf("locations %v", got)
	}
	if d := cmp.Diff(allTensorBytes(t, m), allTensorBytes(t, m4)); d != "" {
		t.Error(d)
	}
}

func TestSaveDataFileCollision(t *testing.T) {
	dir := copyFixtures(t, "py_external.onnx", "py_external.onnx.data")
	src := filepath.Join(dir, "src.onnx")
	os.Rename(filepath.Join(dir, "py_external.onnx"), src)
	data := filepath.Join(dir, "py_external.onnx.data")
	before, _ := os.ReadFile(data)
	m := mustLoad(t, src)

	// The user names the input's data file: refused.
	err := Save(filepath.Join(dir, "out.onnx"), m, SaveOptions{ExternalData: true, Threshold: 1, Location: "py_external.onnx.data"})
	if err == nil || !strings.Contains(err.Error(), `SaveOptions.Location "py_external.onnx.data" names a file the model reads or writes`) {
		t.Errorf("collision: %v", err)
	}
	err = Save(filepath.Join(dir, "out.onnx"), m, SaveOptions{ExternalData: true, Threshold: 1, Location: "src.onnx"})
	if err == nil || !strings.Contains(err.Error(), "names a file the model reads or writes") {
		t.Errorf("collision with the source model: %v", err)
	}
	err = Save(data, m, SaveOptions{})
	if err == nil || !strings.Contains(err.Error(), "refusing to overwrite "+data+": the model reads external data from it") {
		t.Errorf("Save over the input's data file: %v", err)
	}
	err = Save(filepath.Join(dir, "out.onnx"), m, SaveOptions{ExternalData: true, Location: "../x.data"})
	if err == nil || !strings.Contains(err.Error(), "must be a file name relative to the output's directory") {
		t.Errorf("escaping Location: %v", err)
	}
	// The default name collides: another one is chosen, with a note.
	var notes []string
	out := filepath.Join(dir, "py_external.onnx")
	if err := Save(out, m, SaveOptions{ExternalData: true, Threshold: 1, Notes: &notes}); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(data); !bytes.Equal(before, after) {
		t.Fatal("the input's data file changed")
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "wrote the new external data to py_external.onnx.1.data") {
		t.Errorf("notes %q", notes)
	}
	m2 := mustLoad(t, out)
	if got := externalLocations(m2)["b"]; got != "py_external.onnx.1.data@0+24" {
		t.Errorf("b -> %s", got)
	}
	if d := cmp.Diff(allTensorBytes(t, m), allTensorBytes(t, m2)); d != "" {
		t.Error(d)
	}
}

func TestSaveSwitchesToExternalOver2GiB(t *testing.T) {
	defer func(v int64) { maxInFile = v }(maxInFile)
	maxInFile = 30000 // pretend protobuf's limit is 30 kB; torch_tiny.onnx is 39 kB
	dir := copyFixtures(t, "torch_tiny.onnx")
	m := mustLoad(t, filepath.Join(dir, "torch_tiny.onnx"))
	var notes []string
	out := filepath.Join(t.TempDir(), "out.onnx")
	if err := Save(out, m, SaveOptions{Notes: &notes}); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "over protobuf's 2 GiB limit; wrote tensors of 1024 bytes or more to external data file") {
		t.Errorf("notes %q", notes)
	}
	m2 := mustLoad(t, out)
	if len(externalLocations(m2)) == 0 {
		t.Error("nothing went external")
	}
	if d := cmp.Diff(allTensorBytes(t, m), allTensorBytes(t, m2)); d != "" {
		t.Error(d)
	}
	maxInFile = 100
	err := Save(out+"2", m, SaveOptions{})
	if err == nil || !strings.Contains(err.Error(), "protobuf cannot read models over 2 GiB") {
		t.Errorf("still too big: %v", err)
	}
}

// BenchmarkDecodeEncode500MB builds a 512 MiB in-file model (128
// initializers of 4 MiB raw_data) and measures Load+Save against copying the
// file (both end with fsync). It only runs with -bench.
func BenchmarkDecodeEncode500MB(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "big.onnx")
	sizes := make([]int, 128)
	for i := range sizes {
		sizes[i] = 4 << 20
	}
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	if err := Write(f, bigModel(sizes...)); err != nil {
		b.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(src)
	out := filepath.Join(dir, "out.onnx")

	b.Run("FileCopy", func(b *testing.B) {
		b.SetBytes(fi.Size())
		for b.Loop() {
			in, err := os.Open(src)
			if err != nil {
				b.Fatal(err)
			}
			o, err := os.Create(out)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(o, in); err != nil {
				b.Fatal(err)
			}
			if err := o.Sync(); err != nil {
				b.Fatal(err)
			}
			o.Close()
			in.Close()
		}
	})
	b.Run("LoadSave", func(b *testing.B) {
		b.SetBytes(fi.Size())
		for b.Loop() {
			m, err := Load(src)
			if err != nil {
				b.Fatal(err)
			}
			if err := Save(out, m, SaveOptions{}); err != nil {
				b.Fatal(err)
			}
			m.Close()
		}
	})
	b.Run("LoadSaveExternal", func(b *testing.B) {
		b.SetBytes(fi.Size())
		for b.Loop() {
			m, err := Load(src)
			if err != nil {
				b.Fatal(err)
			}
			if err := Save(out, m, SaveOptions{ExternalData: true}); err != nil {
				b.Fatal(err)
			}
			m.Close()
		}
	})
	b.Run("DecodeEncodeInMemory", func(b *testing.B) {
		data, _ := os.ReadFile(src)
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			m, err := Decode(data)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Encode(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeEncodeNodes measures the codec on graph structure rather
// than payloads: 100k nodes with names, attributes and value infos.
func BenchmarkDecodeEncodeNodes(b *testing.B) {
	g := &Graph{Name: "nodes"}
	for i := 0; i < 100000; i++ {
		name := fmt.Sprintf("/model/layers.%d/self_attn/q_proj/MatMul_%d", i/1000, i)
		g.Node = append(g.Node, &Node{
			Name: name, OpType: "MatMul", Input: []string{name + "_in", fmt.Sprintf("onnx::MatMul_%d", i)},
			Output:    []string{name + "_out"},
			Attribute: []*Attribute{{Name: "axis", Type: AttrInt, I: -1}, {Name: "perm", Type: AttrInts, Ints: []int64{0, 2, 1, 3}}},
		})
		g.ValueInfo = append(g.ValueInfo, &ValueInfo{Name: name + "_out", Type: &Type{TensorType: &TensorType{
			ElemType: Float, Shape: &TensorShape{Dim: []*Dimension{{DimParam: "batch"}, {DimParam: "seq"}, {DimValue: 4096}}}}}})
	}
	data, err := Encode(&Model{IRVersion: 8, Graph: g})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.Run("Decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	m, _ := Decode(data)
	b.Run("Encode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := Encode(m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Write", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := Write(io.Discard, m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDeriveStreamsAndGuards: a model derived from a loaded one saves its
// shared payloads byte for byte, refuses to overwrite the source file, and
// its Close leaves the source usable.
func TestDeriveStreamsAndGuards(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.onnx")
	payload := make([]byte, 1<<20)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	orig := &Model{IRVersion: 8, Graph: &Graph{Name: "g",
		Initializer: []*Tensor{{Name: "w", Dims: []int64{1 << 18}, DataType: Float, RawData: payload}},
		Output:      []*ValueInfo{{Name: "w"}}}}
	if err := Save(src, orig, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err := Load(src)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	d := m.Derive()
	d.IRVersion, d.Graph = m.IRVersion, m.Graph
	if err := Save(src, d, SaveOptions{}); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("saving a derived model over its source: %v", err)
	}
	out := filepath.Join(dir, "out.onnx")
	if err := Save(out, d, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(out)
	if !bytes.Equal(a, b) {
		t.Error("derived model saved different bytes")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if got := m.Graph.Initializer[0].RawData[12345]; got != payload[12345] {
		t.Error("closing the derived model unmapped the source")
	}
}

// TestExternalDataErrorKinds: callers can tell missing, short and escaping
// external data apart without reading the message.
func TestExternalDataErrorKinds(t *testing.T) {
	dir := t.TempDir()
	ext := func(loc string, off, n int64) *Model {
		return &Model{Dir: dir, IRVersion: 8, Graph: &Graph{Name: "g", Initializer: []*Tensor{{
			Name: "w", Dims: []int64{4}, DataType: Float, DataLocation: LocationExternal,
			ExternalData: []*StringStringEntry{{Key: "location", Value: loc}, {Key: "offset", Value: fmt.Sprint(off)}, {Key: "length", Value: fmt.Sprint(n)}},
		}}}}
	}
	if err := os.WriteFile(filepath.Join(dir, "short.bin"), make([]byte, 8), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		loc  string
		want ExternalProblem
	}{
		{"missing.bin", ExternalMissing},
		{"short.bin", ExternalShort},
		{"../escape.bin", ExternalOutside},
		{"/etc/passwd", ExternalOutside},
	} {
		m := ext(tc.loc, 0, 16)
		_, err := m.TensorBytes(m.Graph.Initializer[0])
		var xe *ExternalDataError
		if !errors.As(err, &xe) || xe.Problem != tc.want {
			t.Errorf("%s: got %v, want problem %d", tc.loc, err, tc.want)
		}
	}
}
