package plot

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rows is a small sweep: two tasks, skip at M=1 and 3, random at M=3 with
// three seeds, and probes that Curves must ignore.
var rows = []Row{
	{Pass: "skip", Affected: 1, Task: "a", Score: 0.9},
	{Pass: "skip", Affected: 1, Task: "b", Score: 0.7},
	{Pass: "skip", Affected: 3, Task: "a", Score: 0.5},
	{Pass: "skip", Affected: 3, Task: "b", Score: 0.1},
	{Pass: "random", Affected: 3, Seed: 0, Task: "a", Score: 0.8},
	{Pass: "random", Affected: 3, Seed: 1, Task: "a", Score: 0.6},
	{Pass: "random", Affected: 3, Seed: 2, Task: "a", Score: 0.7},
	{Pass: "random", Affected: 3, Seed: 0, Task: "b", Score: 0.4},
	{Pass: "random", Affected: 3, Seed: 1, Task: "b", Score: 0.2},
	{Pass: "random", Affected: 3, Seed: 2, Task: "b", Score: 0.9},
	{Pass: "random", Affected: 3, Seed: 0, Task: "c", Score: 0.0},
	{Pass: "looped-parallel", Variant: "loops=3", Affected: 3, Task: "a", Score: 0.95},
	{Pass: "identity", Affected: 0, Task: "a", Score: 1},
	{Pass: "skip-one", Affected: 1, Task: "a", Score: 0.3},
}

// TestCurvesTask: one task's points are the mean over seeds with the
// seeds' min and max; probes are left out; labels carry the variant.
func TestCurvesTask(t *testing.T) {
	got := Curves(rows, "a")
	want := []Series{
		{Label: "looped-parallel loops=3", Pass: "looped-parallel", Points: []Point{{X: 3, Y: 0.95, Lo: 0.95, Hi: 0.95, N: 1}}},
		{Label: "random", Pass: "random", Points: []Point{{X: 3, Y: 0.7, Lo: 0.6, Hi: 0.8, N: 3}}},
		{Label: "skip", Pass: "skip", Points: []Point{{X: 1, Y: 0.9, Lo: 0.9, Hi: 0.9, N: 1}, {X: 3, Y: 0.5, Lo: 0.5, Hi: 0.5, N: 1}}},
	}
	if d := cmp.Diff(want, got, approx); d != "" {
		t.Errorf("Curves(a) (-want +got):\n%s", d)
	}
}

// TestCurvesMedian: the median across tasks is taken per seed (seed 0 has
// three tasks, seeds 1 and 2 two), then averaged over seeds, with the
// seeds' medians as the band.
func TestCurvesMedian(t *testing.T) {
	got := Curves(rows, Median)
	// random M=3: seed 0 median(0.8, 0.4, 0.0) = 0.4; seed 1 median(0.6,
	// 0.2) = 0.4; seed 2 median(0.7, 0.9) = 0.8. Mean 1.6/3.
	want := []Series{
		{Label: "looped-parallel loops=3", Pass: "looped-parallel", Points: []Point{{X: 3, Y: 0.95, Lo: 0.95, Hi: 0.95, N: 1}}},
		{Label: "random", Pass: "random", Points: []Point{{X: 3, Y: 1.6 / 3, Lo: 0.4, Hi: 0.8, N: 3}}},
		{Label: "skip", Pass: "skip", Points: []Point{{X: 1, Y: 0.8, Lo: 0.8, Hi: 0.8, N: 1}, {X: 3, Y: 0.3, Lo: 0.3, Hi: 0.3, N: 1}}},
	}
	if d := cmp.Diff(want, got, approx); d != "" {
		t.Errorf("Curves(median) (-want +got):\n%s", d)
	}
	frac := Fraction(got, 4)
	if frac[2].Points[1].X != 0.75 || got[2].Points[1].X != 3 {
		t.Errorf("Fraction: x = %v (original %v), want 0.75 (3)", frac[2].Points[1].X, got[2].Points[1].X)
	}
}

func TestMedianMean(t *testing.T) {
	for _, c := range []struct {
		v            []float64
		median, mean float64
	}{
		{[]float64{3, 1, 2}, 2, 2},
		{[]float64{4, 1, 3, 2}, 2.5, 2.5},
		{[]float64{5}, 5, 5},
		{[]float64{0, 0, 9}, 0, 3},
	} {
		if m := MedianOf(c.v); m != c.median {
			t.Errorf("MedianOf(%v) = %v, want %v", c.v, m, c.median)
		}
		if m := Mean(c.v); m != c.mean {
			t.Errorf("Mean(%v) = %v, want %v", c.v, m, c.mean)
		}
	}
	if !math.IsNaN(MedianOf(nil)) || !math.IsNaN(Mean(nil)) {
		t.Error("the median and mean of nothing should be NaN")
	}
}

var approx = cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-12 })

// checkFigure checks that base.png decodes at w×h pixels and base.svg
// parses as XML with an <svg> root, and returns both files.
func checkFigure(t *testing.T, base string, w, h int) ([]byte, []byte) {
	t.Helper()
	p, err := os.ReadFile(base + ".png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(p))
	if err != nil {
		t.Fatalf("%s.png: %v", base, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s.png is %dx%d, want %dx%d", base, b.Dx(), b.Dy(), w, h)
	}
	s, err := os.ReadFile(base + ".svg")
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(s))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s.svg does not parse: %v", base, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("%s.svg: root element %q, want svg", base, root)
	}
	return p, s
}

// TestScoresFigure: the score figure is written as a PNG of the documented
// size and a parsable SVG, and drawing it twice gives the same bytes.
func TestScoresFigure(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "scores")
	if err := Scores(base, "median across tasks", "affected blocks M", Curves(rows, Median)); err != nil {
		t.Fatal(err)
	}
	p1, s1 := checkFigure(t, base, Pixels(ScoresWidth), Pixels(ScoresHeight))
	if err := Scores(base, "median across tasks", "affected blocks M", Curves(rows, Median)); err != nil {
		t.Fatal(err)
	}
	p2, s2 := checkFigure(t, base, 960, 512)
	if !bytes.Equal(p1, p2) || !bytes.Equal(s1, s2) {
		t.Error("drawing the same figure twice gave different files")
	}
	if err := Scores(base, "x", "M", nil); err == nil {
		t.Error("Scores with no series: no error")
	}
}

// TestHeatmapFigure: a heatmap of a constant matrix (the identity-blocks
// case, where the colour range would be empty) and of a varying one.
func TestHeatmapFigure(t *testing.T) {
	dir := t.TempDir()
	ones := [][]float64{{1, 1, 1}, {1, 1, 1}, {1, 1, 1}}
	if err := Heatmap(filepath.Join(dir, "ones"), "identity blocks", ones); err != nil {
		t.Fatal(err)
	}
	checkFigure(t, filepath.Join(dir, "ones"), 672, 576)
	m := make([][]float64, 33)
	for i := range m {
		m[i] = make([]float64, 33)
		for j := range m[i] {
			m[i][j] = 1 - math.Abs(float64(i-j))/40
		}
	}
	base := filepath.Join(dir, "band")
	if err := Heatmap(base, "similarity", m); err != nil {
		t.Fatal(err)
	}
	checkFigure(t, base, Pixels(HeatmapWidth), Pixels(HeatmapHeight))
	if err := Heatmap(base, "x", [][]float64{{1, 2}}); err == nil {
		t.Error("a non-square matrix: no error")
	}
}
