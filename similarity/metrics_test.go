package similarity

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// TestCosineByHand: cosines and angular distances worked out on paper.
func TestCosineByHand(t *testing.T) {
	for _, c := range []struct {
		a, b        []float32
		cos, angle  float64
		description string
	}{
		{[]float32{1, 0}, []float32{1, 1}, 1 / math.Sqrt2, 0.25, "45 degrees"},
		{[]float32{1, 2, 3}, []float32{2, 4, 6}, 1, 0, "same direction, other length"},
		{[]float32{1, 0}, []float32{-3, 0}, -1, 1, "opposite"},
		{[]float32{0, 2}, []float32{5, 0}, 0, 0.5, "orthogonal"},
		{[]float32{1, 1, 0}, []float32{0, 1, 1}, 0.5, 1.0 / 3, "60 degrees"},
		{[]float32{0, 0}, []float32{0, 0}, 1, 0, "two zero vectors are equal"},
		{[]float32{0, 0}, []float32{1, 0}, 0, 0.5, "a zero vector against another"},
	} {
		if got := Cosine(c.a, c.b); !near(got, c.cos) {
			t.Errorf("%s: Cosine(%v, %v) = %v, want %v", c.description, c.a, c.b, got, c.cos)
		}
		if got := Angular(c.a, c.b); !near(got, c.angle) {
			t.Errorf("%s: Angular(%v, %v) = %v, want %v", c.description, c.a, c.b, got, c.angle)
		}
	}
	got := TokenCosines([]float32{1, 0, 0, 2, 3, 3}, []float32{1, 1, 0, -5, 1, 1}, 2)
	want := []float64{1 / math.Sqrt2, -1, 1}
	for i := range want {
		if !near(got[i], want[i]) {
			t.Errorf("TokenCosines token %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// TestAccumulatorByHand: a one-block "model", hidden size 2, two
// documents, every number computed by hand.
//
// Document 1 has one token: x0 = (1, 0), x1 = (1, 1). The flattened
// cosine is 1/√2, the token cosine 1/√2, the last-token angle 1/4.
// Document 2 has two tokens: x0 = [(1, 0), (0, 1)], x1 = [(1, 0), (0, -1)].
// Flattened: (1,0,0,1)·(1,0,0,-1) = 0, cosine 0. Token cosines 1 and -1.
// Last token: (0, 1) against (0, -1), angle 1.
func TestAccumulatorByHand(t *testing.T) {
	a := NewAccumulator(1)
	if err := a.Add([][]float32{{1, 0}, {1, 1}}, 2); err != nil {
		t.Fatal(err)
	}
	if err := a.Add([][]float32{{1, 0, 0, 1}, {1, 0, 0, -1}}, 2); err != nil {
		t.Fatal(err)
	}
	r, err := a.Analysis()
	if err != nil {
		t.Fatal(err)
	}
	if r.Docs != 2 || r.Tokens != 3 || r.T != 1 {
		t.Errorf("Docs, Tokens, T = %d, %d, %d; want 2, 3, 1", r.Docs, r.Tokens, r.T)
	}
	// Similarity: the mean over documents of (1/√2, 0) off the diagonal.
	off := (1/math.Sqrt2 + 0) / 2
	for i, row := range [][]float64{{1, off}, {off, 1}} {
		for j, want := range row {
			if !near(r.Similarity[i][j], want) {
				t.Errorf("Similarity[%d][%d] = %v, want %v", i, j, r.Similarity[i][j], want)
			}
		}
	}
	// BI: 1 - the mean over all three tokens of (1/√2, 1, -1).
	if want := 1 - (1/math.Sqrt2+1-1)/3; !near(r.BI[0], want) {
		t.Errorf("BI[0] = %v, want %v", r.BI[0], want)
	}
	// Angular distance of span n=1 at 0: the mean over documents of (1/4, 1).
	if want := (0.25 + 1) / 2; !near(r.Distance(1, 0), want) {
		t.Errorf("Distance(1, 0) = %v, want %v", r.Distance(1, 0), want)
	}
	for _, bad := range []struct {
		states [][]float32
		hidden int
		want   string
	}{
		{[][]float32{{1, 0}}, 2, "1 states for a model with 1 blocks, want 2"},
		{[][]float32{{1, 0}, {1}}, 2, "state x1 has 1 values, x0 has 2"},
		{[][]float32{{1, 0, 1}, {1, 1, 1}}, 2, "not [tokens × 2]"},
		{[][]float32{{}, {}}, 2, "at least one token"},
	} {
		if err := a.Add(bad.states, bad.hidden); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Add(%v): error %v, want one saying %q", bad.states, err, bad.want)
		}
	}
	if _, err := NewAccumulator(2).Analysis(); err == nil {
		t.Error("an analysis of no documents: no error")
	}
}

// TestSuggest: the span with the smallest distance wins, the earliest on a
// tie, and the command skips exactly that span.
func TestSuggest(t *testing.T) {
	// T = 4; distances for n = 1: starts 0..3; n = 2: starts 0..2.
	a := &Analysis{T: 4, angular: [][]float64{
		{0.30, 0.10, 0.20, 0.10},
		{0.50, 0.40, 0.40},
		{0.7, 0.6},
		{0.9},
	}}
	for _, c := range []struct {
		n, start, end int
		dist          float64
		cmd           string
	}{
		{1, 1, 1, 0.10, "painterc --pass=skip --layers 1-1 model.onnx -o out.onnx"},
		{2, 1, 2, 0.40, "painterc --pass=skip --layers 1-2 model.onnx -o out.onnx"},
		{3, 1, 3, 0.6, "painterc --pass=skip --layers 1-3 model.onnx -o out.onnx"},
	} {
		s, err := a.Suggest(c.n, "model.onnx", "out.onnx")
		if err != nil {
			t.Fatal(err)
		}
		if s.N != c.n || s.Start != c.start || s.End != c.end || s.Distance != c.dist || s.Command != c.cmd {
			t.Errorf("Suggest(%d) = %+v, want blocks %d-%d at %v, %q", c.n, s, c.start, c.end, c.dist, c.cmd)
		}
	}
	if s, _ := a.Suggest(1, "my model.onnx", ""); !strings.Contains(s.Command, "'my model.onnx' -o OUT") {
		t.Errorf("a path with a space is not quoted: %s", s.Command)
	}
	for _, n := range []int{0, 4, -1} {
		if _, err := a.Suggest(n, "m", "o"); err == nil || !strings.Contains(err.Error(), "want 1 to 3") {
			t.Errorf("Suggest(%d): error %v, want one giving the range 1 to 3", n, err)
		}
	}
	spans := a.Spans()
	if len(spans) != 4+3+2+1 || spans[4] != (Span{N: 2, Start: 0, End: 1, Distance: 0.5}) {
		t.Errorf("Spans() = %v", spans)
	}
}
