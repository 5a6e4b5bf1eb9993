package sweep

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/painterc/painterc/internal/clip"
	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/passes"
)

// passOrder is a pass's place in the registry (identity first), the first
// sort key of merged results.
func passOrder(name string) int {
	for i, p := range passes.All {
		if p.Name == name {
			return i
		}
	}
	return len(passes.All)
}

// naturalCompare compares strings with runs of digits compared as numbers,
// so that "n=2" sorts before "n=10".
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			x, y := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Compare(len(x), len(y)); c != 0 {
				return c
			}
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digits(s string) int {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// CompareRows is the deterministic order of merged results: pass (in the
// registry's order), params (numbers as numbers), seed, task.
func CompareRows(a, b *Row) int {
	if c := cmp.Compare(passOrder(a.Pass), passOrder(b.Pass)); c != 0 {
		return c
	}
	if c := naturalCompare(a.Params, b.Params); c != 0 {
		return c
	}
	sa, sb := int64(math.MinInt64), int64(math.MinInt64)
	if a.Seed != nil {
		sa = *a.Seed
	}
	if b.Seed != nil {
		sb = *b.Seed
	}
	if c := cmp.Compare(sa, sb); c != 0 {
		return c
	}
	return strings.Compare(a.Task, b.Task)
}

func sortedRows(rows []*Row) []*Row {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, CompareRows)
	return out
}

// ReadResults reads a results.jsonl (a torn last line is left out): the one
// reader of the one row schema, which package report uses too. A missing
// file holds no rows.
func ReadResults(path string) ([]*Row, error) { return readRows(path) }

// csvFloat writes a CSV cell: shortest round-trip form, "inf"/"-inf", and
// an empty cell for NaN (no value).
func csvFloat(x float64) string {
	switch {
	case math.IsNaN(x):
		return ""
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// CSV returns rows as a tidy table: one line per row and metric, with the
// columns pass,params,schedule,affected,seed,task,metric,value,stderr,
// normalized (empty cells where there is none).
func CSV(rows []*Row) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"pass", "params", "schedule", "affected", "seed", "task", "metric", "value", "stderr", "normalized"})
	for _, r := range rows {
		seed := ""
		if r.Seed != nil {
			seed = strconv.FormatInt(*r.Seed, 10)
		}
		for _, m := range r.Metrics {
			se, norm := "", ""
			if m.HasStderr {
				se = csvFloat(m.Stderr)
			}
			if v, ok := r.NormalizedValue(m.Key); ok {
				norm = csvFloat(v)
			}
			w.Write([]string{r.Pass, r.Params, r.Schedule, strconv.Itoa(r.Affected), seed, r.Task, m.Key, csvFloat(m.Value), se, norm})
		}
	}
	w.Flush()
	return b.Bytes()
}

func writeCSV(path string, rows []*Row) error {
	return onnx.WriteFileAtomic(path, CSV(rows), true)
}

// MergeSummary is what Merge did.
type MergeSummary struct {
	Shards int
	Rows   int
	Notes  []string
}

var shardDirRE = regexp.MustCompile(`^shard-(\d+)-of-(\d+)$`)

// shardOfName reads the shard a directory named shard-I-of-N is for.
func shardOfName(name string) (Shard, error) {
	m := shardDirRE.FindStringSubmatch(name)
	i, err1 := strconv.Atoi(m[1])
	n, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil || n < 1 || n > MaxShards || i >= n {
		return Shard{}, fmt.Errorf("the name says shard %s of %s, which no sweep writes (at most %d shards, numbered from 0): rename or remove the directory", clip.String(m[1]), clip.String(m[2]), MaxShards)
	}
	return Shard{Index: i, Count: n}, nil
}

// WriteError is a merge that could not write its files (exit 6 in the
// CLI); every other merge error is about its inputs.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

type shardIn struct {
	dir  string
	man  *Manifest
	rows []*Row
}

// Merge merges the shards of a sweep into dir/results.jsonl (and
// results.csv and sweep.json), in CompareRows order. The shards are the
// directories dir/shard-I-of-N, plus any extra directories given (a shard
// copied back from elsewhere); each shard's manifest says which it is.
// Merge refuses two shards with the same index, shards of different
// models, settings, task files or plans, a missing or unfinished shard, and
// a dir that holds an unsharded run's results. The identity, which every
// shard scores, is kept once (shard 0's), and every row is normalized
// against it.
func Merge(dir string, extra ...string) (*MergeSummary, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var dirs []string
	named := map[string]Shard{} // the shard each dir/shard-I-of-N says it is
	for _, e := range entries {
		if e.IsDir() && shardDirRE.MatchString(e.Name()) {
			d := filepath.Join(dir, e.Name())
			sh, err := shardOfName(e.Name())
			if err != nil {
				return nil, fmt.Errorf("%s: %v", d, err)
			}
			dirs = append(dirs, d)
			named[d] = sh
		}
	}
	dirs = append(dirs, extra...)
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%s has no shards (directories shard-I-of-N): nothing to merge", dir)
	}
	var shards []*shardIn
	for _, d := range dirs {
		man, err := readManifest(d)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s has no %s: it is not a sweep shard (or its run never started)", d, ManifestFile)
		}
		if err != nil {
			return nil, err
		}
		if man.Shard == nil {
			return nil, fmt.Errorf("%s holds an unsharded run, not a shard", d)
		}
		if sh, ok := named[d]; ok && sh != *man.Shard {
			return nil, fmt.Errorf("%s is named for shard %s, but its %s says it is shard %s: rename the directory to %s, or rerun the shard", d, sh, ManifestFile, man.Shard, filepath.Base(man.Shard.Dir(dir)))
		}
		shards = append(shards, &shardIn{dir: d, man: man})
	}
	first := shards[0]
	n := first.man.Shard.Count
	byIndex := map[int]*shardIn{}
	for _, s := range shards {
		if c := s.man.Shard.Count; c != n {
			return nil, fmt.Errorf("shards of different splits: %s is shard %s but %s is shard %s", first.dir, first.man.Shard, s.dir, s.man.Shard)
		}
		if o := byIndex[s.man.Shard.Index]; o != nil {
			return nil, fmt.Errorf("two shards with index %d of %d: %s and %s", s.man.Shard.Index, n, o.dir, s.dir)
		}
		byIndex[s.man.Shard.Index] = s
	}
	var missing, where []string
	for i := range n {
		if byIndex[i] == nil {
			missing = append(missing, strconv.Itoa(i))
			where = append(where, Shard{Index: i, Count: n}.Dir(dir))
		}
	}
	if len(missing) > 0 {
		word := "shard"
		if len(missing) > 1 {
			word = "shards"
		}
		if len(missing) > 10 {
			// Name the first few: a sweep may have thousands of shards.
			more := fmt.Sprintf("... (%d in all)", len(missing))
			missing = append(missing[:10:10], more)
			where = append(where[:10:10], "...")
		}
		return nil, fmt.Errorf("missing %s %s of %d (expected %s): run them, or copy their directories here, before merging", word, strings.Join(missing, ", "), n, strings.Join(where, ", "))
	}
	ref := byIndex[0]
	for i := 1; i < n; i++ {
		s := byIndex[i]
		if err := sameScoring(s.dir, s.man, ref.man); err != nil {
			return nil, fmt.Errorf("shard %d does not go with shard 0 (%s): %v", i, ref.dir, err)
		}
		if s.man.PlanHash != ref.man.PlanHash || settingsText(s.man.Tasks) != settingsText(ref.man.Tasks) {
			return nil, fmt.Errorf("shards planned differently: %s (%d variants, tasks %s) and %s (%d variants, tasks %s) were run with other passes, N ranges, seeds or tasks", ref.dir, ref.man.Variants, taskNames(ref.man.Tasks), s.dir, s.man.Variants, taskNames(s.man.Tasks))
		}
	}
	if have, err := readManifest(dir); err == nil {
		if err := sameScoring(dir, have, ref.man); err != nil {
			return nil, err
		}
		if have.MergedShards == 0 {
			return nil, fmt.Errorf("%s holds the results of an unsharded run, which merging would overwrite: merge shards in a directory of their own", dir)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	// The merge's outputs must land on none of its inputs (a shard given
	// as DIR itself, a hard link) and on no link.
	var files safeio.Files
	for i := range n {
		files.Input(fmt.Sprintf("the results of shard %d", i), filepath.Join(byIndex[i].dir, ResultsFile))
		files.Input(fmt.Sprintf("the manifest of shard %d", i), filepath.Join(byIndex[i].dir, ManifestFile))
	}
	if err := files.OutputIn(dir, ResultsFile, CSVFile, ManifestFile); err != nil {
		return nil, err
	}

	sum := &MergeSummary{Shards: n}
	ids := map[string]*Row{}
	var all []*Row
	for i := range n {
		s := byIndex[i]
		path := filepath.Join(s.dir, ResultsFile)
		if busy(path) {
			return nil, fmt.Errorf("shard %d (%s) is still running: merge when it has finished", i, s.dir)
		}
		rows, err := readRows(path)
		if err != nil {
			return nil, err
		}
		distinct := map[string]bool{}
		for _, r := range rows {
			distinct[r.id()] = true
		}
		if len(distinct) < s.man.RowsPlanned {
			return nil, fmt.Errorf("shard %d (%s) has %d of its %d rows: it has not finished; rerun it (it resumes where it stopped) before merging", i, s.dir, len(distinct), s.man.RowsPlanned)
		}
		for _, r := range rows {
			old := ids[r.id()]
			if old == nil {
				ids[r.id()] = r
				all = append(all, r)
				continue
			}
			if old.Key != r.Key {
				return nil, fmt.Errorf("%s %s on %s appears twice with different keys (in %s): the shards do not belong together", r.Pass, r.Params, r.Task, s.dir)
			}
			if r.Pass == "identity" && !bytes.Equal(encodeRow(metricsOnly(old)), encodeRow(metricsOnly(r))) {
				sum.Notes = append(sum.Notes, fmt.Sprintf("shard %d scored the identity on %s differently from shard 0 (nondeterministic scoring?); shard 0's scores are kept", i, r.Task))
			}
		}
	}
	identity := map[string]*Row{}
	for _, r := range all {
		if r.Pass == "identity" {
			identity[r.Task] = r
		}
	}
	for _, r := range all {
		Normalize(r, identity[r.Task])
	}
	all = sortedRows(all)
	var b bytes.Buffer
	for _, r := range all {
		b.Write(encodeRow(r))
	}
	man := *ref.man
	man.Shard = nil
	man.MergedShards = n
	man.RowsPlanned = len(all)
	// The three files appear together or not at all.
	stage, err := safeio.NewStage(dir)
	if err != nil {
		return nil, &WriteError{err}
	}
	err = onnx.WriteFileAtomic(stage.Path(ResultsFile), b.Bytes(), true)
	if err == nil {
		err = writeCSV(stage.Path(CSVFile), all)
	}
	if err == nil {
		err = writeManifest(stage.Folder(), &man)
	}
	if err != nil {
		stage.Abort()
		return nil, &WriteError{err}
	}
	if err := stage.Commit(&files); err != nil {
		return nil, &WriteError{err}
	}
	sum.Rows = len(all)
	return sum, nil
}

// metricsOnly is r less what is not a score, for comparing two scorings.
func metricsOnly(r *Row) *Row { return &Row{Metrics: r.Metrics} }

func taskNames(m map[string]string) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

// Merged is how many shards a merge joined into dir's own results: 0 when
// dir holds an unsharded run's results or none.
func Merged(dir string) (int, error) {
	man, err := readManifest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return man.MergedShards, nil
}

// ShardStatus is how far one results directory has got.
type ShardStatus struct {
	Dir     string
	Shard   *Shard // nil for an unsharded run or a merge
	Rows    int    // distinct rows on disk
	Planned int    // rows when complete
	Running bool   // a run holds its lock now
	Merged  int    // shards a merge joined, when it is one
}

// Status reports dir's own results (an unsharded run or a merge) and each
// dir/shard-I-of-N, in directory order.
func Status(dir string) ([]ShardStatus, error) {
	dirs := []string{dir}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() && shardDirRE.MatchString(e.Name()) {
			dirs = append(dirs, filepath.Join(dir, e.Name()))
		}
	}
	var out []ShardStatus
	for _, d := range dirs {
		man, err := readManifest(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		path := filepath.Join(d, ResultsFile)
		rows, err := readRows(path)
		if err != nil {
			return nil, err
		}
		distinct := map[string]bool{}
		for _, r := range rows {
			distinct[r.id()] = true
		}
		out = append(out, ShardStatus{Dir: d, Shard: man.Shard, Rows: len(distinct), Planned: man.RowsPlanned, Running: busy(path), Merged: man.MergedShards})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no sweep (no %s in it or in shard-I-of-N directories)", dir, ManifestFile)
	}
	return out, nil
}
