// Package report turns a sweep's results into report.md: the figures, the
// normalized scores by pass and M (per task and the median across tasks),
// the layer-similarity results when present, and each of the paper's
// findings checked against the numbers, in words, with a verdict of
// "holds", "does not hold" or "not enough data" (see Findings for the
// exact rules).
//
// It reads DIR/results.jsonl (the sweep's rows; see Result), and
// DIR/similarity.csv, DIR/block_influence.csv and DIR/angular_distance.csv
// when they exist (package similarity writes them), and it writes into DIR
// the score figures (package plot) and report.md, which links them
// relatively. The rows are read with package sweep's reader: there is one
// row schema (sweep.Row), defined where the rows are written.
package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/plot"
)

// The files report reads and writes in its directory.
const (
	ResultsFile = "results.jsonl"
	ReportFile  = "report.md"
)

// Write reads dir's results and writes dir/report.md and the figures it
// links: scores_median and scores_median_fraction, and scores_TASK and
// scores_TASK_fraction for each task (each .png and .svg; the fraction
// figures only when T is known). It returns the report's path.
//
// The files are built in a staging folder and appear in dir together, or
// not at all; none may land on an input or go through a link. An error
// writing them is a *WriteError; any other error is about the inputs.
func Write(dir string) (path string, err error) {
	results, err := ReadResults(filepath.Join(dir, ResultsFile))
	if err != nil {
		return "", err
	}
	rows := Rows(results)
	if len(rows) == 0 {
		return "", fmt.Errorf("%s: no row has a normalized score, so there is nothing to report", filepath.Join(dir, ResultsFile))
	}
	sim, err := readSimilarity(dir)
	if err != nil {
		return "", err
	}
	T := BlockCount(results)
	var notes []string
	chance := AtChance(results)
	informative := withoutTasks(results, chance)
	medianRows := Rows(informative)
	for _, c := range chance {
		notes = append(notes, fmt.Sprintf("%s is left out of every median and finding: the full model scores %s %s against a random-guess baseline of %s (stderr %s), so its normalized scores divide by noise. Its own table and figure stay.", c.Task, c.Metric, fmtNum(c.Full), fmtNum(c.Baseline), fmtNum(c.Stderr)))
	}
	if sim != nil && T != 0 && sim.T != T {
		notes = append(notes, fmt.Sprintf("The schedules imply %d blocks but %s has %d states (%d blocks): the similarity files may come from another model.", T, "similarity.csv", sim.T+1, sim.T))
	}
	if T == 0 && sim != nil {
		T = sim.T
	}

	var files safeio.Files
	files.Input("the sweep's results", filepath.Join(dir, ResultsFile))
	for _, n := range similarityFiles {
		files.Input("a similarity file read by the report", filepath.Join(dir, n))
	}
	stage, err := safeio.NewStage(dir)
	if err != nil {
		return "", &WriteError{err}
	}
	committed := false
	defer func() {
		if !committed {
			stage.Abort()
		}
	}()
	out := stage.Folder()

	var b strings.Builder
	tasks := taskNames(rows)
	passes := passNames(results)
	b.WriteString("# painterc sweep report\n\n")
	fmt.Fprintf(&b, "%d result rows from `%s`: %d tasks (%s), passes %s.", len(results), ResultsFile, len(tasks), strings.Join(tasks, ", "), strings.Join(passes, ", "))
	if T > 0 {
		fmt.Fprintf(&b, " The model has T = %d blocks (the largest block any schedule runs, plus one).", T)
	} else {
		b.WriteString(" The number of blocks is unknown (no schedule in the rows), so the M/T figures are left out.")
	}
	b.WriteString("\n\nScores are normalized per task: 0 is random guessing, 1 the full model. M is the number of blocks a pass affects. Where a pass has several seeds (random), a value is the mean over seeds and the range in brackets is the seeds' min–max. The median across tasks is taken per seed first.\n\n")
	for _, n := range notes {
		b.WriteString(n + "\n\n")
	}

	// Figures.
	b.WriteString("## Figures\n\n")
	type fig struct{ name, title string }
	figs := []fig{{"median", "median across tasks"}}
	used := map[string]bool{"median": true}
	for _, t := range tasks {
		// Task names that map to one file name ("a b" and "a_b", or a
		// task called median) get numbered, so no figure replaces another.
		name := fileSafe(t)
		for k := 2; used[name]; k++ {
			name = fmt.Sprintf("%s_%d", fileSafe(t), k)
		}
		used[name] = true
		figs = append(figs, fig{name, t})
	}
	for i, f := range figs {
		task, from := plot.Median, medianRows
		if i > 0 {
			task, from = tasks[i-1], rows
		}
		series := plot.Curves(from, task)
		if len(series) == 0 {
			fmt.Fprintf(&b, "No curve passes for %s.\n\n", f.title)
			continue
		}
		base := "scores_" + f.name
		if err := plot.Scores(filepath.Join(out, base), "normalized score: "+f.title, "affected blocks M", series); err != nil {
			return "", &WriteError{err}
		}
		fmt.Fprintf(&b, "![%s](%s.png)\n", f.title, base)
		if T > 0 {
			if err := plot.Scores(filepath.Join(out, base+"_fraction"), "normalized score: "+f.title, fmt.Sprintf("fraction of blocks affected M/T (T = %d)", T), plot.Fraction(series, T)); err != nil {
				return "", &WriteError{err}
			}
			fmt.Fprintf(&b, "![%s, against M/T](%s_fraction.png)\n", f.title, base)
		}
		b.WriteString("\n")
	}
	if sim != nil {
		if _, err := os.Stat(filepath.Join(dir, "similarity.png")); err == nil {
			b.WriteString("![cosine similarity of the residual-stream states](similarity.png)\n\n")
		}
	}

	// Tables.
	b.WriteString("## Normalized scores\n\n")
	for i, f := range figs {
		task, from := plot.Median, medianRows
		if i > 0 {
			task, from = tasks[i-1], rows
		}
		fmt.Fprintf(&b, "### %s\n\n", f.title)
		scoreTable(&b, plot.Curves(from, task))
	}
	probeTable(&b, results, tasks, chance)

	// Findings.
	b.WriteString("## The paper's findings, checked\n\n")
	findings := Findings(informative, T)
	b.WriteString("| # | finding | verdict |\n|---|---|---|\n")
	for _, f := range findings {
		fmt.Fprintf(&b, "| %d | %s | **%s** |\n", f.N, f.Claim, f.Verdict)
	}
	b.WriteString("\n")
	for _, f := range findings {
		fmt.Fprintf(&b, "### %d. %s\n\n**%s.** %s\n\nHow it is checked: %s\n\n", f.N, f.Claim, capital(string(f.Verdict)), capital(f.Evidence), f.Rule)
	}

	if sim != nil {
		similaritySection(&b, sim)
	}
	if err := os.WriteFile(filepath.Join(out, ReportFile), []byte(b.String()), 0o644); err != nil {
		return "", &WriteError{err}
	}
	committed = true
	if err := stage.Commit(&files); err != nil {
		return "", &WriteError{err}
	}
	return filepath.Join(dir, ReportFile), nil
}

// WriteError is a report that could not be written (exit 6 in the CLI).
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// similarityFiles are the files of package similarity the report reads.
var similarityFiles = []string{"similarity.csv", "block_influence.csv", "angular_distance.csv", "similarity.png", "similarity.svg"}

func capital(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// fileSafe makes a task name safe in a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

func taskNames(rows []plot.Row) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		if !seen[r.Task] {
			seen[r.Task] = true
			out = append(out, r.Task)
		}
	}
	sort.Strings(out)
	return out
}

func passNames(results []Result) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range results {
		if !seen[r.Pass] {
			seen[r.Pass] = true
			out = append(out, r.Pass)
		}
	}
	sort.Strings(out)
	return out
}

// scoreTable writes a pass × M table of the series.
func scoreTable(b *strings.Builder, series []plot.Series) {
	if len(series) == 0 {
		b.WriteString("No results.\n\n")
		return
	}
	msSet := map[float64]bool{}
	for _, s := range series {
		for _, p := range s.Points {
			msSet[p.X] = true
		}
	}
	var ms []float64
	for m := range msSet {
		ms = append(ms, m)
	}
	sort.Float64s(ms)
	b.WriteString("| pass |")
	for _, m := range ms {
		fmt.Fprintf(b, " M=%g |", m)
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---|", len(ms)))
	b.WriteString("\n")
	for _, s := range series {
		fmt.Fprintf(b, "| %s |", s.Label)
		at := map[float64]plot.Point{}
		for _, p := range s.Points {
			at[p.X] = p
		}
		for _, m := range ms {
			p, ok := at[m]
			switch {
			case !ok:
				b.WriteString(" |")
			case p.N > 1:
				fmt.Fprintf(b, " %s (%s–%s) |", fmtNum(p.Y), fmtNum(p.Lo), fmtNum(p.Hi))
			default:
				fmt.Fprintf(b, " %s |", fmtNum(p.Y))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// probeTable lists the single-block probes (skip-one, swap) by task, with
// their median across the tasks not at chance.
func probeTable(b *strings.Builder, results []Result, tasks []string, chance []ChanceTask) {
	atChance := map[string]bool{}
	for _, c := range chance {
		atChance[c.Task] = true
	}
	type key struct {
		pass, where string
	}
	scores := map[key]map[string][]float64{}
	var keys []key
	for _, r := range results {
		if r.Pass != "skip-one" && r.Pass != "swap" {
			continue
		}
		s, _, ok := r.Score()
		if !ok {
			continue
		}
		where := r.Schedule
		if idx, ok := r.ParamMap()["index"]; ok {
			where = "index " + idx
		}
		k := key{r.Pass, where}
		if scores[k] == nil {
			scores[k] = map[string][]float64{}
			keys = append(keys, k)
		}
		scores[k][r.Task] = append(scores[k][r.Task], s)
	}
	if len(keys) == 0 {
		return
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].pass != keys[j].pass {
			return keys[i].pass < keys[j].pass
		}
		a, b := probeIndex(keys[i].where), probeIndex(keys[j].where)
		if a != b {
			return a < b
		}
		return keys[i].where < keys[j].where
	})
	b.WriteString("### Single-block probes\n\n| probe | " + strings.Join(tasks, " | ") + " | median |\n|---|" + strings.Repeat("---|", len(tasks)+1) + "\n")
	for _, k := range keys {
		fmt.Fprintf(b, "| %s %s |", k.pass, k.where)
		var per []float64
		for _, t := range tasks {
			v, ok := scores[k][t]
			if !ok {
				b.WriteString(" |")
				continue
			}
			m := plot.Mean(v)
			if !atChance[t] {
				per = append(per, m)
			}
			fmt.Fprintf(b, " %s |", fmtNum(m))
		}
		fmt.Fprintf(b, " %s |\n", fmtNum(plot.MedianOf(per)))
	}
	b.WriteString("\n")
}

func probeIndex(where string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(where, "index "))
	if err != nil {
		return 1 << 30
	}
	return n
}

// similarityData is what the similarity files hold.
type similarityData struct {
	T          int
	Similarity [][]float64
	BI         []float64 // nil without block_influence.csv
	Spans      []span    // nil without angular_distance.csv
}

type span struct {
	n, start, end int
	distance      float64
}

// readSimilarity reads the similarity files, or returns nil when
// similarity.csv is absent.
func readSimilarity(dir string) (*similarityData, error) {
	rec, err := readCSV(filepath.Join(dir, "similarity.csv"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "similarity.csv")
	if len(rec) < 2 || len(rec[0]) != len(rec) {
		return nil, fmt.Errorf("%s: want a square matrix with a header row and column (,x0,...,xT)", path)
	}
	d := &similarityData{T: len(rec) - 2}
	for i, row := range rec[1:] {
		vals, err := floats(row[1:])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, i+2, err)
		}
		d.Similarity = append(d.Similarity, vals)
	}
	if rec, err := readCSV(filepath.Join(dir, "block_influence.csv")); err == nil {
		for i, row := range rec[1:] {
			if len(row) != 2 {
				return nil, fmt.Errorf("%s:%d: want block,bi", filepath.Join(dir, "block_influence.csv"), i+2)
			}
			v, err := strconv.ParseFloat(row[1], 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", filepath.Join(dir, "block_influence.csv"), i+2, err)
			}
			d.BI = append(d.BI, v)
		}
		if len(d.BI) != d.T {
			return nil, fmt.Errorf("%s: %d blocks, but similarity.csv has %d states (%d blocks): the files come from different runs; run painterc similarity again", filepath.Join(dir, "block_influence.csv"), len(d.BI), d.T+1, d.T)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if rec, err := readCSV(filepath.Join(dir, "angular_distance.csv")); err == nil {
		for i, row := range rec[1:] {
			vals, err := floats(row)
			if err != nil || len(vals) != 4 {
				return nil, fmt.Errorf("%s:%d: want n,start,end,distance", filepath.Join(dir, "angular_distance.csv"), i+2)
			}
			n, ok1 := blockIndex(vals[0], d.T)
			start, ok2 := blockIndex(vals[1], d.T-1)
			end, ok3 := blockIndex(vals[2], d.T-1)
			if !ok1 || !ok2 || !ok3 {
				return nil, fmt.Errorf("%s:%d: n, start and end must be whole numbers of blocks within the %d blocks of %s", filepath.Join(dir, "angular_distance.csv"), i+2, d.T, "similarity.csv")
			}
			d.Spans = append(d.Spans, span{n, start, end, vals[3]})
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return d, nil
}

func readCSV(path string) ([][]string, error) {
	data, err := safeio.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rec, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(rec) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	return rec, nil
}

func floats(s []string) ([]float64, error) {
	out := make([]float64, len(s))
	for i, v := range s {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// similaritySection summarizes the similarity files.
func similaritySection(b *strings.Builder, d *similarityData) {
	b.WriteString("## Layer similarity\n\n")
	fmt.Fprintf(b, "From `similarity.csv` (%d states, x0 = embedding output, xi = output of block i-1). ", d.T+1)
	if d.T >= 1 {
		var adj []float64
		lo, loAt := 2.0, 0
		for i := 0; i < d.T; i++ {
			v := d.Similarity[i][i+1]
			adj = append(adj, v)
			if v < lo {
				lo, loAt = v, i
			}
		}
		fmt.Fprintf(b, "Adjacent states have a median cosine of %s; the least similar pair is x%d, x%d (%s, across block %d). The first and last states: cos(x0, x%d) = %s.\n\n", fmtNum(plot.MedianOf(adj)), loAt, loAt+1, fmtNum(lo), loAt, d.T, fmtNum(d.Similarity[0][d.T]))
	}
	if d.BI != nil {
		type bi struct {
			block int
			v     float64
		}
		var all []bi
		for i, v := range d.BI {
			all = append(all, bi{i, v})
		}
		sort.SliceStable(all, func(i, j int) bool { return all[i].v < all[j].v })
		b.WriteString("Block Influence (ShortGPT; the lowest are the first to prune):\n\n| block | BI |\n|---|---|\n")
		for i, x := range all {
			if i == 8 {
				break
			}
			fmt.Fprintf(b, "| %d | %s |\n", x.block, strconv.FormatFloat(x.v, 'g', 4, 64))
		}
		b.WriteString("\n")
	}
	if d.Spans != nil {
		best := map[int]span{}
		for _, s := range d.Spans {
			if cur, ok := best[s.n]; !ok || s.distance < cur.distance {
				best[s.n] = s
			}
		}
		b.WriteString("Angular distance (Gromov et al.), the span of n blocks whose removal changes the last token least:\n\n| n | blocks | distance | command |\n|---|---|---|---|\n")
		for n := 1; n < d.T && n <= 8; n++ {
			s, ok := best[n]
			if !ok {
				continue
			}
			fmt.Fprintf(b, "| %d | %d-%d | %s | `painterc --pass=skip --layers %d-%d MODEL -o OUT` |\n", n, s.start, s.end, fmtNum(s.distance), s.start, s.end)
		}
		b.WriteString("\n")
	}
}
