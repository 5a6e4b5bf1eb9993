package report

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/painterc/painterc/sweep"
)

var update = flag.Bool("update", false, "rewrite testdata/report.golden.md")

// sweepDir copies testdata's synthetic sweep (results.jsonl, made so that
// every finding holds, and the similarity files) into a fresh directory.
func sweepDir(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	if files == nil {
		files = []string{"results.jsonl", "similarity.csv", "block_influence.csv", "angular_distance.csv"}
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestReportGolden: report.md for the fixed sweep equals
// testdata/report.golden.md (go test ./report -run Golden -update rewrites
// it), and every figure it links exists and decodes.
func TestReportGolden(t *testing.T) {
	dir := sweepDir(t)
	path, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.golden.md")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("report.md differs from %s (-want +got; -update rewrites it):\n%s", golden, d)
	}
	links := regexp.MustCompile(`\]\(([^)]+\.png)\)`).FindAllStringSubmatch(string(got), -1)
	if len(links) != 10 { // median and 4 tasks, each by M and M/T (no similarity.png in testdata)
		t.Errorf("%d figure links, want 10", len(links))
	}
	for _, l := range links {
		if l[1] == "similarity.png" {
			continue // written by painterc similarity, not by the report
		}
		b, err := os.ReadFile(filepath.Join(dir, l[1]))
		if err != nil {
			t.Errorf("linked figure: %v", err)
			continue
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: %v", l[1], err)
		}
		if _, err := os.Stat(filepath.Join(dir, strings.TrimSuffix(l[1], ".png")+".svg")); err != nil {
			t.Errorf("no SVG beside %s: %v", l[1], err)
		}
	}
	for n := 1; n <= 6; n++ {
		if !strings.Contains(string(got), "| "+string(rune('0'+n))+" | ") {
			t.Errorf("finding %d is not in the table", n)
		}
	}
}

// TestAllFindingsHold: the synthetic sweep is built so each finding holds.
func TestAllFindingsHold(t *testing.T) {
	res := load(t)
	for _, f := range Findings(res, BlockCount(res)) {
		if f.Verdict != Holds {
			t.Errorf("finding %d: %s (%s)", f.N, f.Verdict, f.Evidence)
		}
	}
}

func load(t *testing.T) []Result {
	t.Helper()
	res, err := ReadResults(filepath.Join("testdata", "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// edit returns a copy of res with f applied to every row, dropping those
// for which it returns false.
func edit(res []Result, f func(r *Result) bool) []Result {
	var out []Result
	for _, r := range res {
		acc, _ := r.NormalizedValue("acc,none")
		setAcc(&r, acc)
		if f(&r) {
			out = append(out, r)
		}
	}
	return out
}

// setAcc makes v the row's only normalized score, acc,none.
func setAcc(r *Result, v float64) {
	r.Normalized = []sweep.Norm{{Key: "acc,none", Value: v}}
}

func verdict(t *testing.T, res []Result, n int) Finding {
	t.Helper()
	for _, f := range Findings(res, BlockCount(res)) {
		if f.N == n {
			return f
		}
	}
	t.Fatalf("no finding %d", n)
	return Finding{}
}

// TestFindingsFlip: changing the data so a finding is false makes it "does
// not hold", and removing the passes it needs makes it "not enough data".
func TestFindingsFlip(t *testing.T) {
	res := load(t)
	set := func(pass string, v func(r *Result) float64) func(r *Result) bool {
		return func(r *Result) bool {
			if r.Pass == pass {
				setAcc(r, v(r))
			}
			return true
		}
	}
	drop := func(passes ...string) func(r *Result) bool {
		return func(r *Result) bool {
			for _, p := range passes {
				if r.Pass == p {
					return false
				}
			}
			return true
		}
	}
	for _, c := range []struct {
		name    string
		finding int
		f       func(r *Result) bool
		want    Verdict
	}{
		// 1: the middle blocks matter as much as block 0.
		{"skipping block 0 is harmless", 1, func(r *Result) bool {
			if r.Pass == "skip-one" && r.ParamMap()["index"] == "0" {
				setAcc(r, 0.99)
			}
			return true
		}, DoesNotHold},
		{"no skip-one probes", 1, drop("skip-one"), NotEnough},
		{"no probe of the last block", 1, func(r *Result) bool { return !(r.Pass == "skip-one" && r.ParamMap()["index"] == "7") }, NotEnough},
		// 2: middle repeat as good as the full model.
		{"middle repeat is best", 2, set("middle-repeat", func(*Result) float64 { return 1 }), DoesNotHold},
		{"no middle repeat", 2, drop("middle-repeat"), NotEnough},
		// 3: reverse beats random.
		{"reverse beats random", 3, set("reverse", func(*Result) float64 { return 0.99 }), DoesNotHold},
		{"skip beats reverse", 3, set("skip", func(r *Result) float64 { return 0.9 }), DoesNotHold},
		{"no reverse", 3, drop("reverse"), NotEnough},
		// 4: skip beats parallel.
		{"parallel is worse than skip", 4, set("parallel", func(*Result) float64 { return 0 }), DoesNotHold},
		{"no parallel", 4, drop("parallel"), NotEnough},
		// 5: looped parallel is the worst.
		{"looped parallel collapses", 5, set("looped-parallel", func(*Result) float64 { return -0.5 }), DoesNotHold},
		{"nothing to compare looped parallel with", 5, func(r *Result) bool { return r.Pass == "looped-parallel" }, NotEnough},
		// 6: semantic tasks suffer more from reordering than math ones.
		{"semantic tasks are the order-sensitive ones", 6, func(r *Result) bool {
			if (r.Pass == "reverse" || r.Pass == "random") && Category(*r) == "semantic" {
				setAcc(r, 0)
			}
			return true
		}, DoesNotHold},
		{"no semantic tasks", 6, func(r *Result) bool { return Category(*r) != "semantic" }, NotEnough},
		{"categories from the row override the name", 6, func(r *Result) bool {
			switch Category(*r) {
			case "math":
				r.Category = "semantic"
			case "semantic":
				r.Category = "math"
			}
			return true
		}, DoesNotHold},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := verdict(t, edit(res, c.f), c.finding)
			if f.Verdict != c.want {
				t.Errorf("finding %d: %s, want %s (%s)", c.finding, f.Verdict, c.want, f.Evidence)
			}
		})
	}
}

// TestFindingsEvidence: the evidence quotes the numbers the verdict rests
// on, computed by hand from the synthetic sweep.
func TestFindingsEvidence(t *testing.T) {
	res := load(t)
	// Finding 4 at M=1: parallel's scores are 1-0.1+offset for the four
	// tasks (offsets -0.02, 0.01, 0.02, -0.01): median of 0.88, 0.91, 0.92,
	// 0.89 is 0.9; skip's is 0.85.
	f := verdict(t, res, 4)
	if !strings.Contains(f.Evidence, "parallel > skip at 3 of 3 M") || !strings.Contains(f.Evidence, "M=1: 0.900 vs 0.850") {
		t.Errorf("finding 4 evidence: %s", f.Evidence)
	}
	// Finding 1: without block 0 the median of 0.18, 0.21, 0.22, 0.19 is 0.2.
	f = verdict(t, res, 1)
	if !strings.Contains(f.Evidence, "without block 0: 0.200; without block 7: 0.500") {
		t.Errorf("finding 1 evidence: %s", f.Evidence)
	}
}

// TestReadResults: report reads sweep's one row schema with sweep's
// reader; a row with the same key, pass, params and task as an earlier one
// supersedes it, a null (NaN) normalization is no score, and a row
// sweep would not write is refused with its line.
func TestReadResults(t *testing.T) {
	dir := t.TempDir()
	write := func(lines ...string) string {
		path := filepath.Join(dir, "results.jsonl")
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	res, err := ReadResults(write(
		`{"pass":"random","params":"n=2 seed=1 loops=3","schedule":"0-2,4,3,5-7","affected":3,"seed":1,"task":"a","metrics":{"acc,none":0.5,"acc_stderr,none":null},"normalized":{"acc,none":0.4},"main":"acc,none","baseline":0.25,"key":"k1"}`,
		``,
		`{"pass":"skip","params":"n=2","schedule":"0-2,6-7","affected":3,"seed":null,"task":"a","metrics":{},"normalized":{"acc,none":null},"main":"acc,none","baseline":0.25,"key":"k2"}`,
		`{"pass":"random","params":"n=2 seed=1 loops=3","schedule":"0-2,4,3,5-7","affected":3,"seed":1,"task":"a","metrics":{},"normalized":{"acc_norm,none":0.7,"acc,none":0.6},"main":"","baseline":0.25,"key":"k1"}`,
	))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Pass != "random" || res[1].Pass != "skip" {
		t.Fatalf("rows %+v", res)
	}
	if s, m, _ := res[0].Score(); s != 0.6 || m != "acc,none" {
		t.Errorf("Score = %v %s, want the first sorted key acc,none = 0.6", s, m)
	}
	if _, _, ok := res[1].Score(); ok {
		t.Errorf("a null normalization scored")
	}
	if v := res[0].Variant(); v != "loops=3" {
		t.Errorf("Variant = %q, want loops=3", v)
	}
	if v := res[1].Variant(); v != "" {
		t.Errorf("Variant of n=2 = %q, want none", v)
	}
	if T := BlockCount(res); T != 8 {
		t.Errorf("BlockCount = %d, want 8", T)
	}
	path := write(`{"pass":"skip","params":"n=2","schedule":"0-2,6-7","affected":3,"seed":null,"task":"a","metrics":{},"normalized":{},"main":"","baseline":null,"key":"k"}`, `{"pass":"skip","normalized":{}}`)
	if _, err = ReadResults(path); err == nil || err.Error() != path+`:2: not a results row: no "params"` {
		t.Errorf("error %v", err)
	}
	path = write(`{"pass":`)
	if _, err = ReadResults(path); err == nil || !strings.HasPrefix(err.Error(), path+":1: not a results row") {
		t.Errorf("error %v", err)
	}
	if _, err = ReadResults(filepath.Join(dir, "none.jsonl")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

// TestCategory: the documented rule.
func TestCategory(t *testing.T) {
	for task, want := range map[string]string{
		"gsm8k": "math", "arc_challenge": "math", "ARC-Easy": "math", "mathqa": "math",
		"lambada_openai": "semantic", "hellaswag": "semantic", "winogrande": "semantic", "wikitext": "semantic",
		"rte_tiny": "semantic", "mystery": "",
	} {
		if got := Category(Result{sweep.Row{Task: task}}); got != want {
			t.Errorf("Category(%s) = %q, want %q", task, got, want)
		}
	}
	if got := Category(Result{sweep.Row{Task: "gsm8k", Category: "semantic"}}); got != "semantic" {
		t.Errorf("a row's category should win: %q", got)
	}
}

// TestWriteWithoutSimilarity: the report stands without the similarity
// files, and an empty sweep is an error that names the file.
func TestWriteWithoutSimilarity(t *testing.T) {
	dir := sweepDir(t, "results.jsonl")
	path, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "## Layer similarity") || strings.Contains(string(b), "similarity.png") {
		t.Error("a report without similarity files mentions them")
	}
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, ResultsFile), nil, 0o644)
	if _, err := Write(empty); err == nil || !strings.Contains(err.Error(), "nothing to report") {
		t.Errorf("empty results: %v", err)
	}
	if _, err := Write(t.TempDir()); err == nil || !strings.Contains(err.Error(), ResultsFile) {
		t.Errorf("no results file: %v", err)
	}
}

// TestHeatmapLinked: when painterc similarity's heatmap is in DIR, the
// report links it, relatively.
func TestHeatmapLinked(t *testing.T) {
	dir := sweepDir(t)
	if err := os.WriteFile(filepath.Join(dir, "similarity.png"), []byte("png"), 0o644); err != nil {
		t.Fatal(err)
	}
	path, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "](similarity.png)") {
		t.Error("the heatmap is not linked")
	}
}

// TestFigureNamesDistinct: tasks whose names map to one file name (and a
// task named median) each get a figure of their own.
func TestFigureNamesDistinct(t *testing.T) {
	dir := t.TempDir()
	var rows strings.Builder
	for _, task := range []string{"a b", "a_b", "median"} {
		fmt.Fprintf(&rows, `{"pass": "identity", "params": "", "schedule": "0-3", "affected": 0, "task": %q, "normalized": {"acc,none": 1}, "key": "i"}`+"\n", task)
		fmt.Fprintf(&rows, `{"pass": "skip", "params": "n=1", "schedule": "0,3", "affected": 2, "task": %q, "normalized": {"acc,none": 0.5}, "key": "s"}`+"\n", task)
	}
	if err := os.WriteFile(filepath.Join(dir, ResultsFile), []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"scores_median", "scores_a_b", "scores_a_b_2", "scores_median_2"} {
		if _, err := os.Stat(filepath.Join(dir, name+".png")); err != nil {
			t.Errorf("%s.png: %v", name, err)
		}
		if !strings.Contains(string(md), "("+name+".png)") {
			t.Errorf("report.md does not link %s.png", name)
		}
	}
}
