package similarity

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/painterc/painterc/plot"
)

// The files Write puts in its directory.
const (
	SimilarityCSV = "similarity.csv"      // ,x0,...,xT then one row per state
	InfluenceCSV  = "block_influence.csv" // block,bi
	AngularCSV    = "angular_distance.csv"
	HeatmapBase   = "similarity" // .png and .svg
)

// Files are the names Write creates in its directory.
func Files() []string {
	return []string{SimilarityCSV, InfluenceCSV, AngularCSV, HeatmapBase + ".png", HeatmapBase + ".svg"}
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Write saves the analysis in dir (created if missing): similarity.csv, a
// square matrix with header ",x0,x1,...,xT" and one row "xi,..." per state
// (x0 = embedding output, xi = output of block i-1); block_influence.csv
// ("block,bi", blocks from 0); angular_distance.csv ("n,start,end,distance":
// skipping blocks start..end, n of them, inclusive and 0-based); and the
// heatmap similarity.png and similarity.svg. title heads the heatmap.
func (a *Analysis) Write(dir, title string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	states := make([]string, a.T+1)
	for i := range states {
		states[i] = "x" + strconv.Itoa(i)
	}
	sim := [][]string{append([]string{""}, states...)}
	for i, row := range a.Similarity {
		r := []string{states[i]}
		for _, v := range row {
			r = append(r, num(v))
		}
		sim = append(sim, r)
	}
	bi := [][]string{{"block", "bi"}}
	for i, v := range a.BI {
		bi = append(bi, []string{strconv.Itoa(i), num(v)})
	}
	ang := [][]string{{"n", "start", "end", "distance"}}
	for _, s := range a.Spans() {
		ang = append(ang, []string{strconv.Itoa(s.N), strconv.Itoa(s.Start), strconv.Itoa(s.End), num(s.Distance)})
	}
	for _, f := range []struct {
		name string
		rows [][]string
	}{{SimilarityCSV, sim}, {InfluenceCSV, bi}, {AngularCSV, ang}} {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.WriteAll(f.rows)
		if err := w.Error(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if title == "" {
		title = "cosine similarity of residual-stream states"
	}
	title = fmt.Sprintf("%s (%d documents)", title, a.Docs)
	return plot.Heatmap(filepath.Join(dir, HeatmapBase), title, a.Similarity)
}
