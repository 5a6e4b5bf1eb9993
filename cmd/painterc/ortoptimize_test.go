package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

// TestORTOptimizeFlag: --ort-optimize writes the rewrite as ORT's optimizer
// leaves it (fused ops, painterc's metadata kept), which runs on ORT equal
// to the schedule built directly, also from an input with external data in
// another directory (ORT keeps the output's data file as it is); a bad
// level is a usage error and writes nothing.
func TestORTOptimizeFlag(t *testing.T) {
	orttest.Require(t)
	spec := testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 3}
	dir := t.TempDir()
	in := writeModel(t, filepath.Join(dir, "in", "model.onnx"), spec)
	extIn := filepath.Join(dir, "ext", "model.onnx")
	if err := os.MkdirAll(filepath.Dir(extIn), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := onnx.Save(extIn, testmodels.MustBuild(spec, spec.Identity()), onnx.SaveOptions{ExternalData: true}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, level string }{{in, "extended"}, {in, "all"}, {extIn, "extended"}} {
		outDir := filepath.Join(dir, "out-"+c.level+filepath.Base(filepath.Dir(c.in)))
		out := filepath.Join(outDir, "m.onnx")
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			t.Fatal(err)
		}
		r := cli(t, "--pass=looped-parallel", "--n", "2", "--ort-optimize="+c.level, c.in, "-o", out)
		mustSucceed(t, r)
		if !strings.Contains(r.stderr, "ONNX Runtime optimized") {
			t.Errorf("no note of the optimization:\n%s", r.stderr)
		}
		entries, _ := os.ReadDir(outDir)
		for _, e := range entries {
			if e.Name() != "m.onnx" && e.Name() != "m.onnx.data" {
				t.Errorf("%s: the output directory holds %s", c.in, e.Name())
			}
		}
		m, err := onnx.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		fused, sched := 0, ""
		for _, n := range m.Graph.Node {
			if n.OpType == "SimplifiedLayerNormalization" || n.Domain == "com.microsoft" {
				fused++
			}
		}
		for _, p := range m.MetadataProps {
			if p.Key == "painterc.schedule" {
				sched = p.Value
			}
		}
		m.Close()
		if fused == 0 || sched != "0-2,[3-5]x3,6-7" {
			t.Errorf("%s %s: %d fused nodes, schedule %q", c.in, c.level, fused, sched)
		}
		s, err := schedule.Parse(sched)
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(dir, "want.onnx")
		writeFile(t, want, encodeModel(t, testmodels.MustBuild(spec, s)))
		feeds, err := testmodels.RandomInputs(spec, s, testmodels.InputOptions{Batch: 2, Seq: 4, Past: 2, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		orttest.Compare(t, c.in+" "+c.level, orttest.Run(t, orttest.Session(t, out), feeds), orttest.Run(t, orttest.Session(t, want), feeds), 1e-5)
	}
	out := filepath.Join(dir, "bad.onnx")
	if r := cli(t, "--pass=skip", "--ort-optimize=basic", in, "-o", out); r.code != exitUsage {
		t.Errorf("--ort-optimize=basic: exit %d, want %d: %s", r.code, exitUsage, r.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused --ort-optimize left an output")
	}
}

// TestVerifyOptimized: what ONNX Runtime's optimizer writes is checked by
// rewrite.Verify before it replaces the output, like painterc's own
// phases; a graph reading a tensor nothing defines is refused.
func TestVerifyOptimized(t *testing.T) {
	f32 := &onnx.Type{TensorType: &onnx.TensorType{ElemType: onnx.Float}}
	m := &onnx.Model{IRVersion: 8, OpsetImport: []*onnx.OperatorSet{{Version: 17}}, Graph: &onnx.Graph{
		Name:   "g",
		Input:  []*onnx.ValueInfo{{Name: "x", Type: f32}},
		Output: []*onnx.ValueInfo{{Name: "y", Type: f32}},
		Node:   []*onnx.Node{{Name: "fused", OpType: "Add", Input: []string{"x", "gone"}, Output: []string{"y"}}},
	}}
	data, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	err = verifyOptimized(data)
	want := `graph invalid after ONNX Runtime's optimizer: 1 problem(s)` + "\n" + `  graph: node 0 (Add "fused") reads "gone", which no node, graph input or initializer defines`
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
	m.Graph.Node[0].Input[1] = "x"
	if data, err = onnx.Encode(m); err != nil {
		t.Fatal(err)
	}
	if err := verifyOptimized(data); err != nil {
		t.Errorf("a valid graph: %v", err)
	}
	if err := verifyOptimized([]byte("not a model")); err == nil || !strings.HasPrefix(err.Error(), "ONNX Runtime wrote a model painterc cannot decode: ") {
		t.Errorf("garbage: %v", err)
	}
}
