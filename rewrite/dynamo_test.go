package rewrite

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/testmodels"
)

// TestDetectDynamo: on the dynamo layout of every family, the dynamo
// detector finds the same boundaries and block sizes as the names detector
// finds on the torch-style graph the layout was renamed from (the same
// nodes, plus the Constants opset 18's ReduceMean needs); also when the
// Constants carry no metadata, which onnxscript's optimizer leaves on the
// nodes it creates; and it does not apply to a graph without scopes in
// metadata.
func TestDetectDynamo(t *testing.T) {
	for _, s := range []testmodels.Spec{
		{Family: testmodels.Llama, KVCache: true},
		{Family: testmodels.GPT2},
		{Family: testmodels.BERT},
	} {
		named := testmodels.MustBuild(s, s.Identity())
		want, err := Detect(named.Graph, DetectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d := s
		d.Dynamo = true
		m := testmodels.MustBuild(d, d.Identity())
		for _, strip := range []bool{false, true} {
			if strip {
				for _, n := range m.Graph.Node {
					if n.OpType == "Constant" {
						n.MetadataProps = nil
					}
				}
			}
			got, err := Detect(m.Graph, DetectOptions{})
			if err != nil {
				t.Fatalf("%v strip=%v: %v", s.Family, strip, err)
			}
			if got.Method != "dynamo" || got.Exporter != ExporterDynamo || got.T != want.T {
				t.Errorf("%v strip=%v: %d blocks by %s (%s)", s.Family, strip, got.T, got.Method, got.Exporter)
			}
			var wantOps, gotOps []string
			for _, st := range want.Boundary {
				wantOps = append(wantOps, producerOp(named.Graph, st))
			}
			for _, st := range got.Boundary {
				gotOps = append(gotOps, producerOp(m.Graph, st))
			}
			if diff := cmp.Diff(wantOps, gotOps); diff != "" {
				t.Errorf("%v strip=%v: boundaries differ (-names +dynamo):\n%s", s.Family, strip, diff)
			}
			extra := 0
			if s.Family == testmodels.Llama {
				extra = 2 // each block's two RMSNorms get an axes Constant
			}
			wantSizes := blockSizes(want)
			gotSizes := blockSizes(got)
			for i := 1; i < len(wantSizes)-1; i++ {
				wantSizes[i] += extra
			}
			if s.Family == testmodels.Llama {
				wantSizes[0]++ // the final norm's, which assignment puts before block 0 (it reads nothing)
			}
			if diff := cmp.Diff(wantSizes, gotSizes); diff != "" {
				t.Errorf("%v strip=%v: prologue, block and epilogue sizes differ (-names +dynamo):\n%s", s.Family, strip, diff)
			}
		}
	}
	// Without metadata the detector does not apply: names fail, structure wins.
	m := testmodels.MustBuild(testmodels.Spec{Family: testmodels.GPT2, Dynamo: true}, testmodels.Spec{Family: testmodels.GPT2}.Identity())
	for _, n := range m.Graph.Node {
		n.MetadataProps = nil
	}
	b, err := Detect(m.Graph, DetectOptions{})
	if err != nil || b.Method != "structure" {
		t.Errorf("dynamo GPT-2 without metadata: %v, %v", b, err)
	}
}

// producerOp names a boundary by its producers' op types.
func producerOp(g *onnx.Graph, st Stream) string {
	ix := newIndex(g)
	s := ""
	for _, t := range st {
		if p, ok := ix.producer[t]; ok {
			s += g.Node[p].OpType + ";"
		} else {
			s += "input;"
		}
	}
	return s
}
