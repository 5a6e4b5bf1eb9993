// Package bench holds painterc's in-process benchmarks; scripts/bench.sh
// runs the whole-program comparisons. These break a compile down by phase,
// so that a regression, or a goal scripts/bench.sh reports missed, can be
// profiled: go test ./bench -run=NONE -bench=Compile -cpuprofile=cpu.out
package bench

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

// llama7B is the Llama-2-7B shape (32 blocks, hidden 4096, MLP 11008,
// vocabulary 32000, no GQA); quarter halves every size, a quarter of the
// weight bytes with the same graph.
var (
	llama7B = testmodels.Spec{Family: testmodels.Llama, Layers: 32, Hidden: 4096, Heads: 32, KVHeads: 32, FF: 11008, Vocab: 32000}
	quarter = testmodels.Spec{Family: testmodels.Llama, Layers: 32, Hidden: 2048, Heads: 32, KVHeads: 32, FF: 5504, Vocab: 16000}
)

// writeExternal writes s with its weights in a sparse data file and returns
// the model's path and the weight bytes.
func writeExternal(tb testing.TB, dir string, s testmodels.Spec) (string, int64) {
	tb.Helper()
	s.ExternalData = "weights.bin"
	m, err := testmodels.Default(s)
	if err != nil {
		tb.Fatal(err)
	}
	size, err := testmodels.ExternalDataSize(m)
	if err != nil {
		tb.Fatal(err)
	}
	data := filepath.Join(dir, "weights.bin")
	if err := os.WriteFile(data, nil, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Truncate(data, size); err != nil {
		tb.Fatal(err)
	}
	m.Dir = dir
	path := filepath.Join(dir, "model.onnx")
	if err := onnx.Save(path, m, onnx.SaveOptions{}); err != nil {
		tb.Fatal(err)
	}
	return path, size
}

// compileFile runs the compile pipeline from in to out and adds each
// phase's time to ph.
func compileFile(tb testing.TB, in, out string, sched schedule.Schedule, ph map[string]time.Duration) {
	tb.Helper()
	r, err := compile.Run(context.Background(), compile.Input{Path: in}, compile.Options{Schedule: sched.String(), Output: out})
	if err != nil {
		tb.Fatal(err)
	}
	r.Close()
	for _, t := range r.Timings {
		ph[t.Phase] += t.Time
	}
}

func mustParse(tb testing.TB, s string) schedule.Schedule {
	sched, err := schedule.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return sched
}

// BenchmarkCompileExternal skips blocks 8-23 of the Llama-7B-shaped graph
// whose weights are external, at 1x and 4x the weight bytes: the time must
// not depend on them.
func BenchmarkCompileExternal(b *testing.B) {
	for _, c := range []struct {
		name string
		s    testmodels.Spec
	}{{"1x", quarter}, {"4x", llama7B}} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			in, size := writeExternal(b, dir, c.s)
			b.ReportMetric(float64(size)/1e9, "weight-GB")
			sched := mustParse(b, "0-7,24-31")
			ph := map[string]time.Duration{}
			for b.Loop() {
				compileFile(b, in, filepath.Join(dir, "out.onnx"), sched, ph)
			}
			for name, d := range ph {
				b.ReportMetric(float64(d.Microseconds())/float64(b.N), name+"-µs/op")
			}
		})
	}
}

// TestCompileKeepsExternalReferences checks what BenchmarkCompileExternal
// relies on: compiling a model whose weights are external, into the same
// directory, writes no weight bytes; the output refers to the input's data
// file, and only the kept blocks' tensors.
func TestCompileKeepsExternalReferences(t *testing.T) {
	dir := t.TempDir()
	s := testmodels.Spec{Family: testmodels.Llama, Layers: 8}
	in, _ := writeExternal(t, dir, s)
	out := filepath.Join(dir, "out.onnx")
	compileFile(t, in, out, mustParse(t, "0-1,6-7"), map[string]time.Duration{})
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 3 {
		t.Fatalf("directory holds %v, want model.onnx, out.onnx and weights.bin", names)
	}
	m, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	full, _ := testmodels.Default(s)
	if got, all := len(m.Graph.Initializer), len(full.Graph.Initializer); got >= all || got == 0 {
		t.Errorf("%d initializers after skipping half the blocks, %d before", got, all)
	}
	for _, init := range m.Graph.Initializer {
		info, err := init.External()
		if err != nil || info.Location != "weights.bin" {
			t.Errorf("%s: %+v, %v; want a reference to weights.bin", init.Name, info, err)
		}
	}
}
