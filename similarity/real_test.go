package similarity

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
)

// TestRealExportersSameStates: the real exporters' files of one tiny
// checkpoint (testdata/real, see compile's TestRealExporters) hold the same
// network, so the residual stream detection finds in each, x0 through xT,
// must be the same numbers in every layout: one tensor, a fused pair
// (a, r) or a triple (a, r, bias) summed by the probe. Each fixture's
// states are compared with its architecture's TorchScript export within
// 1e-4 (int4 files, whose weights are quantized, are left out).
func TestRealExportersSameStates(t *testing.T) {
	refs, _ := filepath.Glob(filepath.Join("..", "testdata", "real", "*", "referee.json"))
	if len(refs) == 0 {
		t.Skip("no fixtures under testdata/real")
	}
	orttest.Require(t)
	type fixture struct{ name, arch, exporter, path string }
	byArch := map[string][]fixture{}
	for _, p := range refs {
		var ref struct{ Model, Arch, Exporter string }
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &ref); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if strings.HasSuffix(ref.Exporter, "int4") {
			continue
		}
		dir := filepath.Dir(p)
		byArch[ref.Arch] = append(byArch[ref.Arch], fixture{filepath.Base(dir), ref.Arch, ref.Exporter, filepath.Join(dir, ref.Model)})
	}
	doc := []int{1, 17, 200, 5, 99, 42, 7}
	states := func(f fixture) [][]float32 {
		m, err := onnx.Load(f.path)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		p, err := NewProbe(m, blocks(t, m), f.name, oneThread)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		defer p.Close()
		s, _, err := p.States(doc)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		return s
	}
	var archs []string
	for a := range byArch {
		archs = append(archs, a)
	}
	sort.Strings(archs)
	for _, arch := range archs {
		fs := byArch[arch]
		sort.Slice(fs, func(i, j int) bool { return fs[i].exporter < fs[j].exporter })
		ref := -1
		for i, f := range fs {
			if f.exporter == "torchscript" {
				ref = i
			}
		}
		if ref < 0 || len(fs) < 2 {
			continue
		}
		want := states(fs[ref])
		for i, f := range fs {
			if i == ref {
				continue
			}
			got := states(f)
			if len(got) != len(want) {
				t.Errorf("%s: %d states, %s has %d", f.name, len(got), fs[ref].name, len(want))
				continue
			}
			worst := 0.0
			for k := range got {
				worst = max(worst, orttest.MaxDiff(got[k], want[k]))
			}
			t.Logf("%s: states x0..x%d within %.2g of %s", f.name, len(got)-1, worst, fs[ref].name)
			if worst > 1e-4 {
				t.Errorf("%s: the residual stream differs from %s's by %g", f.name, fs[ref].name, worst)
			}
		}
	}
}
