// Package plot draws painterc's figures with gonum/plot: the normalized
// score of each pass against the number of affected blocks M (per task and
// the median across tasks, also against the fraction M/T), and the layer
// similarity heatmap. Every figure is written as PNG and SVG, with fixed
// sizes, fonts and colours, so equal data give equal files.
//
// The data side is plain: [Row] is one scored variant, [Curves] turns rows
// into [Series] (the exact rules are on Curves), and the drawing functions
// take Series. Nothing here reads result files; package report does.
package plot

import (
	"math"
	"slices"
	"sort"
)

// Row is one scored variant on one task: a pass with its parameters,
// affecting Affected blocks, with a seed (random's; 0 for the others), and
// the task's normalized score (0 = random guessing, 1 = the full model).
type Row struct {
	Pass     string
	Variant  string // parameters that make a different line (loops=3), not n, layers or seed
	Affected int
	Seed     int64
	Task     string
	Score    float64
}

// Point is one x of a line: Y is the value drawn, Lo and Hi the spread
// over seeds (Lo = Hi = Y with one seed), N the number of seeds.
type Point struct {
	X, Y, Lo, Hi float64
	N            int
}

// Series is one line: a pass (and variant), its points by increasing X.
type Series struct {
	Label  string
	Pass   string
	Points []Point
}

// Spread reports whether any point has more than one seed, so the line
// gets a band.
func (s Series) Spread() bool {
	for _, p := range s.Points {
		if p.N > 1 {
			return true
		}
	}
	return false
}

// Probes are the passes that are not curves over M: identity is the
// reference line 1, skip-one and swap are single-block probes (the paper's
// Figure 2). Curves leaves them out.
var Probes = []string{"identity", "skip-one", "swap"}

// Median is the task name Curves takes for the median across tasks.
const Median = ""

// Curves turns rows into one Series per (pass, variant), X = M, sorted by
// label; the passes in Probes are left out. For one task, the point at M
// is the mean over seeds of the task's scores, with Lo and Hi their min
// and max. For the median across tasks (task == Median), each seed's
// median across the tasks that have that (pass, variant, M, seed) is taken
// first; the point is the mean of those medians over seeds, with Lo and Hi
// their min and max. A pass without a seed spread (one seed) is therefore
// just the median across tasks.
func Curves(rows []Row, task string) []Series {
	type key struct {
		pass, variant string
		m             int
	}
	// values[key][seed] = the scores (one per task, or one for a task).
	values := map[key]map[int64][]float64{}
	for _, r := range rows {
		if slices.Contains(Probes, r.Pass) || (task != Median && r.Task != task) || math.IsNaN(r.Score) {
			continue
		}
		k := key{r.Pass, r.Variant, r.Affected}
		if values[k] == nil {
			values[k] = map[int64][]float64{}
		}
		values[k][r.Seed] = append(values[k][r.Seed], r.Score)
	}
	lines := map[[2]string][]Point{}
	for k, bySeed := range values {
		var per []float64 // one value per seed
		for _, v := range bySeed {
			if task == Median {
				per = append(per, MedianOf(v))
			} else {
				per = append(per, Mean(v))
			}
		}
		sort.Float64s(per)
		p := Point{X: float64(k.m), Y: Mean(per), Lo: per[0], Hi: per[len(per)-1], N: len(per)}
		id := [2]string{k.pass, k.variant}
		lines[id] = append(lines[id], p)
	}
	var out []Series
	for id, pts := range lines {
		sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
		label := id[0]
		if id[1] != "" {
			label += " " + id[1]
		}
		out = append(out, Series{Label: label, Pass: id[0], Points: pts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

// Fraction returns the series with X divided by T: the affected fraction
// M/T.
func Fraction(series []Series, T int) []Series {
	out := make([]Series, len(series))
	for i, s := range series {
		s.Points = slices.Clone(s.Points)
		for j := range s.Points {
			s.Points[j].X /= float64(T)
		}
		out[i] = s
	}
	return out
}

// Mean is the arithmetic mean (NaN for none). The values are summed in
// sorted order, so the result does not depend on the order they came in.
func Mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	return sum / float64(len(s))
}

// MedianOf is the median: the middle value, or the mean of the two middle
// values for an even count (NaN for none).
func MedianOf(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
