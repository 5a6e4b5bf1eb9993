package testmodels

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/schedule"
)

// externalPair builds the same spec twice: with generated weights in the
// file, and with ExternalData.
func externalPair(t *testing.T, s Spec, sched schedule.Schedule) (in, ext *onnx.Model) {
	t.Helper()
	in, err := Build(s, sched)
	if err != nil {
		t.Fatal(err)
	}
	s.ExternalData = "weights.bin"
	ext, err = Build(s, sched)
	if err != nil {
		t.Fatal(err)
	}
	return in, ext
}

// TestExternalDataSameGraph: ExternalData changes where the payloads live
// and nothing else: the nodes, I/O and initializer names and shapes are the
// ones Build makes with generated weights, and the payloads are laid out in
// order, aligned to 4096 bytes, without overlap.
func TestExternalDataSameGraph(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			sched := mustParse(t, "0,[1,3,5]x2,6-7")
			in, ext := externalPair(t, v.spec, sched)
			strip := func(m *onnx.Model) *onnx.Model {
				c := *m
				g := *m.Graph
				g.Initializer = nil
				c.Graph = &g
				return &c
			}
			if a, b := encode(t, strip(in)), encode(t, strip(ext)); !slices.Equal(a, b) {
				t.Fatal("the graph without initializers differs between in-file and external weights")
			}
			if len(in.Graph.Initializer) != len(ext.Graph.Initializer) {
				t.Fatalf("%d initializers in-file, %d external", len(in.Graph.Initializer), len(ext.Graph.Initializer))
			}
			var end int64
			for i, a := range in.Graph.Initializer {
				b := ext.Graph.Initializer[i]
				if a.Name != b.Name || !slices.Equal(a.Dims, b.Dims) || a.DataType != b.DataType {
					t.Fatalf("initializer %d: in-file %s %v, external %s %v", i, a.Name, a.Dims, b.Name, b.Dims)
				}
				if !b.IsExternal() || len(b.RawData) != 0 {
					t.Fatalf("%s is not external", b.Name)
				}
				info, err := b.External()
				if err != nil {
					t.Fatal(err)
				}
				if info.Location != "weights.bin" || info.Offset%4096 != 0 || info.Offset < end || info.Length != int64(len(a.RawData)) {
					t.Fatalf("%s: %+v after end %d, want length %d", b.Name, info, end, len(a.RawData))
				}
				end = info.Offset + info.Length
			}
			if got, err := ExternalDataSize(ext); err != nil || got != end {
				t.Fatalf("ExternalDataSize = %d, %v; want %d", got, err, end)
			}
			if got, _ := ExternalDataSize(in); got != 0 {
				t.Fatalf("ExternalDataSize of an in-file model = %d", got)
			}
			if ext2, _ := Build(withExternal(v.spec), sched); !slices.Equal(encode(t, ext), encode(t, ext2)) {
				t.Fatal("ExternalData builds are not deterministic")
			}
		})
	}
}

func withExternal(s Spec) Spec { s.ExternalData = "weights.bin"; return s }

// TestExternalDataRuns writes the generated weights into the data file at
// the offsets the external model names: ONNX Runtime then computes exactly
// what it computes for the in-file model.
func TestExternalDataRuns(t *testing.T) {
	requireORT(t)
	for _, s := range []Spec{{Family: Llama, KVCache: true, Seed: 3}, {Family: GPT2, Seed: 3}, {Family: BERT, Seed: 3}} {
		t.Run(s.Family.String(), func(t *testing.T) {
			sched := s.Identity()
			in, ext := externalPair(t, s, sched)
			dir := t.TempDir()
			size, err := ExternalDataSize(ext)
			if err != nil {
				t.Fatal(err)
			}
			data := make([]byte, size)
			for i, a := range in.Graph.Initializer {
				info, _ := ext.Graph.Initializer[i].External()
				copy(data[info.Offset:], a.RawData)
			}
			if err := os.WriteFile(filepath.Join(dir, "weights.bin"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			path := save(t, dir, "ext", ext)
			m, err := onnx.Load(path) // checks every reference against the file
			if err != nil {
				t.Fatal(err)
			}
			m.Close()
			feeds := mustInputs(t, s, sched, InputOptions{Seq: 5, Seed: 2})
			want := ortRunner(t, s, sched)(feeds)
			got := runFile(t, path, feeds)
			compare(t, "external vs in-file", got, want, 0)
		})
	}
}

func TestExternalDataRejects(t *testing.T) {
	for _, loc := range []string{"/abs/w.bin", "../w.bin", ".", "a/../../w.bin"} {
		if _, err := Build(Spec{Family: Llama, ExternalData: loc}, Spec{Family: Llama}.Identity()); err == nil || !strings.Contains(err.Error(), "relative") {
			t.Errorf("ExternalData %q: err = %v, want a refusal", loc, err)
		}
	}
	s := Spec{Family: Llama, ExternalData: "w.bin"}
	feeds := mustInputs(t, Spec{Family: Llama}, s.Identity(), InputOptions{})
	if _, err := Reference(s, s.Identity(), feeds); err == nil {
		t.Error("Reference computed a model whose weights live in a data file")
	}
}

// runFile runs the model at path on ONNX Runtime with testmodels feeds.
func runFile(t *testing.T, path string, feeds map[string]Tensor) map[string]Tensor {
	t.Helper()
	sess, err := runtime.NewSession(path, runtime.SessionOptions{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	return runSession(t, sess, feeds)
}
