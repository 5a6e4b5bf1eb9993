package sweep_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/sweep"
	"github.com/painterc/painterc/sweep/sweeptest"
	"github.com/painterc/painterc/testmodels"
)

// The tasks the fake scorer "scores": it reads only their names, but Run
// loads and hashes the files as it would for a real scorer.
var taskFiles = []string{"../eval/testdata/arc_tiny.jsonl", "../eval/testdata/lambada_tiny.jsonl"}

var (
	modelOnce sync.Once
	modelDir  string
)

// model writes the 8-block Llama testmodel (seed 1, or another seed for
// "another model") once per test binary and returns its path.
func model(t testing.TB, seed int64) string {
	t.Helper()
	modelOnce.Do(func() {
		d, err := os.MkdirTemp("", "sweep-models-")
		if err != nil {
			panic(err)
		}
		modelDir = d
	})
	path := filepath.Join(modelDir, fmt.Sprintf("llama-%d.onnx", seed))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	m, err := testmodels.Default(testmodels.Spec{Family: testmodels.Llama, Layers: 8, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if err := onnx.Save(path, m, onnx.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMain(m *testing.M) {
	if os.Getenv("SWEEP_TEST_CHILD") != "" {
		os.Exit(child())
	}
	code := m.Run()
	if modelDir != "" {
		os.RemoveAll(modelDir)
	}
	os.Exit(code)
}

func config(t testing.TB, out string) sweep.Config {
	return sweep.Config{ModelPath: model(t, 1), TaskFiles: taskFiles, Out: out, Settings: (&sweeptest.Fake{}).Settings()}
}

func fake() *sweeptest.Fake { return &sweeptest.Fake{Identity: "0-7"} }

func run(t testing.TB, cfg sweep.Config, s sweep.Scorer) *sweep.Summary {
	t.Helper()
	sum, err := sweep.Run(context.Background(), cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// sortedLines returns a file's lines, sorted.
func sortedLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	slices.Sort(lines)
	return lines
}

func TestPlanDefaults(t *testing.T) {
	vs, err := sweep.Plan(8, sweep.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// identity + 4 N x (skip, middle-repeat, reverse, 3 random, parallel, looped-parallel)
	if len(vs) != 1+4*8 {
		t.Fatalf("%d variants, want 33", len(vs))
	}
	var got []string
	for _, v := range vs {
		seed := "-"
		if v.Seed != nil {
			seed = fmt.Sprint(*v.Seed)
		}
		got = append(got, fmt.Sprintf("%d %s [%s] %s M=%d seed=%s", v.Index, v.Pass, v.Params, v.Schedule, v.Affected, seed))
	}
	want := []string{
		"0 identity [] 0-7 M=0 seed=-",
		"1 skip [n=3] 0-3,5-7 M=1 seed=-",
		"2 skip [n=2] 0-2,6-7 M=3 seed=-",
		"3 skip [n=1] 0-1,7 M=5 seed=-",
		"4 skip [n=0] 0 M=7 seed=-",
		"5 middle-repeat [n=3] 0-7 M=1 seed=-",
		"6 middle-repeat [n=2] 0-2,4x3,6-7 M=3 seed=-",
	}
	if diff := cmp.Diff(want, got[:len(want)]); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	last := got[len(got)-1]
	if last != "32 looped-parallel [n=0 loops=3] 0,[1-7]x3 M=7 seed=-" {
		t.Errorf("last variant %q", last)
	}
	for _, g := range got {
		if strings.Contains(g, "random [n=2 seed=2]") {
			return
		}
	}
	t.Errorf("no random n=2 seed=2 in %q", got)
}

func TestPlanOptions(t *testing.T) {
	vs, err := sweep.Plan(8, sweep.PlanOptions{Passes: []string{"skip", "looped-parallel"}, NFrom: 1, NTo: 2, HasN: true, Loops: []int{2, 4}, Probes: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.Label()+" "+v.Schedule)
	}
	want := []string{
		"identity 0-7",
		"skip n=1 0-1,7", "skip n=2 0-2,6-7",
		"looped-parallel n=1 loops=2 0-1,[2-6]x2,7", "looped-parallel n=1 loops=4 0-1,[2-6]x4,7",
		"looped-parallel n=2 loops=2 0-2,[3-5]x2,6-7", "looped-parallel n=2 loops=4 0-2,[3-5]x4,6-7",
		"skip-one index=0 1-7", "skip-one index=1 0,2-7", "skip-one index=2 0-1,3-7", "skip-one index=3 0-2,4-7",
		"skip-one index=4 0-3,5-7", "skip-one index=5 0-4,6-7", "skip-one index=6 0-5,7", "skip-one index=7 0-6",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

// TestPlanNList: --n's list form walks its N in the order given, as
// the range form walks A to B.
func TestPlanNList(t *testing.T) {
	vs, err := sweep.Plan(12, sweep.PlanOptions{Passes: []string{"skip"}, NList: []int{4, 1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.Label()+" "+v.Schedule)
	}
	want := []string{"identity 0-11", "skip n=4 0-4,8-11", "skip n=1 0-1,11", "skip n=2 0-2,10-11"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

func TestPlanErrors(t *testing.T) {
	for _, tc := range []struct {
		T    int
		o    sweep.PlanOptions
		want string
	}{
		{8, sweep.PlanOptions{Passes: []string{"swap"}},
			"pass swap does not apply to a sweep over N: a sweep runs the strategies that rewrite the middle (skip, middle-repeat, reverse, random, parallel, looped-parallel)"},
		{8, sweep.PlanOptions{Passes: []string{"skip-one"}},
			"pass skip-one does not apply to a sweep over N: a sweep runs the strategies that rewrite the middle (skip, middle-repeat, reverse, random, parallel, looped-parallel); the skip-one probe of every block runs with --probes"},
		{8, sweep.PlanOptions{Passes: []string{"skp"}},
			`unknown pass "skp": the passes are identity, skip, middle-repeat, reverse, random, parallel, looped-parallel, skip-one, swap`},
		{8, sweep.PlanOptions{Passes: []string{"middle-repeat"}, NFrom: 4, NTo: 0, HasN: true},
			"--n 4..0: N = 4 is out of range for a model with 8 blocks: N must be in 0..3, so that the middle N+1..T-N-1 keeps at least one block (M = T-2N-1 >= 1)"},
		{8, sweep.PlanOptions{NFrom: 2, NTo: -1, HasN: true},
			"--n 2..-1: N = -1 is out of range for a model with 8 blocks: N must be in 0..3, so that the middle N+1..T-N-1 keeps at least one block (M = T-2N-1 >= 1)"},
		{8, sweep.PlanOptions{NList: []int{2, 4}},
			"--n 2,4: N = 4 is out of range for a model with 8 blocks: N must be in 0..3, so that the middle N+1..T-N-1 keeps at least one block (M = T-2N-1 >= 1)"},
		{8, sweep.PlanOptions{NList: []int{2, 1, 2}},
			"--n 2,1,2: N = 2 is listed twice: list each N once"},
		{1, sweep.PlanOptions{},
			"the model has 1 block(s): a sweep needs at least 2, so that some N leaves a middle to rewrite"},
		{8, sweep.PlanOptions{Passes: []string{"identity"}},
			"the plan holds only the identity: give at least one pass or --probes"},
		{8, sweep.PlanOptions{Seeds: -1},
			"--seeds -1: random needs at least 1 seed"},
		{8, sweep.PlanOptions{Loops: []int{3, 0}},
			"--loops 0: looped-parallel needs R >= 1"},
	} {
		_, err := sweep.Plan(tc.T, tc.o)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Plan(%d, %+v):\n got %v\nwant %s", tc.T, tc.o, err, tc.want)
		}
	}
}

func TestFullSweep(t *testing.T) {
	dir := t.TempDir()
	f := fake()
	var progress []sweep.Progress
	cfg := config(t, dir)
	cfg.Progress = func(p sweep.Progress) { progress = append(progress, p) }
	sum := run(t, cfg, f)
	if sum.Variants != 33 || sum.Rows != 66 || sum.Skipped != 0 {
		t.Errorf("summary %+v: want 33 variants, 66 rows", sum)
	}
	// middle-repeat, reverse and random at n=3 (M=1) run the identity's
	// schedule, so they reuse its score.
	if sum.Reused == 0 || int(f.Calls.Load()) != sum.Scored || sum.Scored >= 33 {
		t.Errorf("scored %d (%d calls), reused %d rows: want the same-schedule variants reused", sum.Scored, f.Calls.Load(), sum.Reused)
	}
	if len(progress) != 33 || progress[32].Done != 33 || progress[32].Total != 33 || progress[32].ETA != 0 {
		t.Errorf("progress: %d calls, last %+v", len(progress), progress[len(progress)-1])
	}
	if !progress[0].Scored || progress[5].Scored || progress[5].Variant.Label() != "middle-repeat n=3" {
		t.Errorf("progress: %+v, %+v: want the identity scored and middle-repeat n=3 (its schedule) not", progress[0], progress[5])
	}
	rows, err := sweep.ReadResults(filepath.Join(dir, sweep.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 66 {
		t.Fatalf("%d rows", len(rows))
	}
	seen := map[string]bool{}
	for _, r := range rows {
		id := r.Pass + " " + r.Params + " " + r.Task
		if seen[id] {
			t.Errorf("row %s twice", id)
		}
		seen[id] = true
		acc, _ := r.Metric("acc,none")
		if want := f.Value(r.Schedule, r.Task); acc.Value != want {
			t.Errorf("%s: acc %v, want %v", id, acc.Value, want)
		}
		norm, ok := r.NormalizedValue("acc,none")
		if want := (acc.Value - 0.25) / (0.9 - 0.25); !ok || norm != want {
			t.Errorf("%s: normalized %v, want %v", id, norm, want)
		}
		if _, ok := r.NormalizedValue("perplexity,none"); ok {
			t.Errorf("%s: perplexity was normalized", id)
		}
		if r.Pass == "identity" && norm != 1 {
			t.Errorf("identity normalized to %v", norm)
		}
	}
	csv, err := os.ReadFile(filepath.Join(dir, sweep.CSVFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if lines[0] != "pass,params,schedule,affected,seed,task,metric,value,stderr,normalized" || len(lines) != 1+66*2 {
		t.Errorf("csv: %d lines, header %q", len(lines), lines[0])
	}
	if !strings.HasPrefix(lines[1], "identity,,0-7,0,,arc_tiny,\"acc,none\",0.9,") || !strings.HasSuffix(lines[1], ",1") {
		t.Errorf("csv first row %q", lines[1])
	}

	// A second run finds every row and scores nothing.
	f2 := fake()
	sum = run(t, config(t, dir), f2)
	if f2.Calls.Load() != 0 || sum.Rows != 0 || sum.Skipped != 66 {
		t.Errorf("rerun scored %d, wrote %d rows, skipped %d", f2.Calls.Load(), sum.Rows, sum.Skipped)
	}
}

// TestKeyFormat pins the key to literals (computed with sha256sum over the
// text Key hashes): a change to the key's format would orphan every
// results.jsonl already written, so it must be a deliberate one (a new
// "painterc sweep key vN"). The settings are hashed sorted by name.
func TestKeyFormat(t *testing.T) {
	for _, tc := range []struct {
		settings map[string]string
		want     string
	}{
		// printf 'painterc sweep key v1\nmodel aa11\nschedule 0-2,6-7\ntask bb22\n' | sha256sum
		{nil, "d4b7e86f36fce783e70a9eb5d46b44e54d2d4fe2b119940c5df4d4219e087010"},
		// ... then 'setting "max_length" "64"\nsetting "scorer" "ort"\n'
		{map[string]string{"scorer": "ort", "max_length": "64"}, "87977197fff07a577bf55fb993d4f95b7424ae5dbc4484b57c7e09b4bf4f1734"},
	} {
		if got := sweep.Key("aa11", "0-2,6-7", "bb22", tc.settings); got != tc.want {
			t.Errorf("Key(settings %v) = %s, want %s", tc.settings, got, tc.want)
		}
	}
}

func TestRowFormat(t *testing.T) {
	dir := t.TempDir()
	cfg := config(t, dir)
	cfg.Plan = sweep.PlanOptions{Passes: []string{"skip", "random"}, NFrom: 2, NTo: 2, HasN: true, Seeds: 1}
	run(t, cfg, fake())
	b, err := os.ReadFile(filepath.Join(dir, sweep.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	key := sweep.Key(mustHash(t, cfg.ModelPath), "0-2,6-7", mustHashFile(t, taskFiles[0]), map[string]string{"scorer": "fake"})
	f := fake()
	acc := f.Value("0-2,6-7", "arc_tiny")
	want := fmt.Sprintf(`{"pass":"skip","params":"n=2","schedule":"0-2,6-7","affected":3,"seed":null,"task":"arc_tiny",`+
		`"metrics":{"acc,none":%v,"acc_stderr,none":%v,"perplexity,none":%v,"perplexity_stderr,none":null},`+
		`"normalized":{"acc,none":%v},"main":"acc,none","baseline":0.25,"key":%q}`,
		acc, jsonNum(t, sqrt(acc*(1-acc)/10)), jsonNum(t, exp(3*(1-acc))), jsonNum(t, (acc-0.25)/0.65), key)
	if lines[2] != want {
		t.Errorf("row:\n got %s\nwant %s", lines[2], want)
	}
	if !strings.Contains(lines[4], `"pass":"random","params":"n=2 seed=0",`) || !strings.Contains(lines[4], `"seed":0,`) {
		t.Errorf("random row %s", lines[4])
	}
	// Rows read back and written again are the same bytes.
	rows, err := sweep.ReadResults(filepath.Join(dir, sweep.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		got, _ := r.MarshalJSON()
		if string(got) != lines[i] {
			t.Errorf("round trip of line %d:\n got %s\nwant %s", i+1, got, lines[i])
		}
	}
}

func mustHash(t testing.TB, path string) string {
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h, err := sweep.HashModel(path, m)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustHashFile(t testing.TB, path string) string {
	h, err := sweep.HashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestHalfWrittenLine: a last line without its newline (a run killed while
// writing) is dropped and the row scored again.
func TestHalfWrittenLine(t *testing.T) {
	ref, dir := t.TempDir(), t.TempDir()
	run(t, config(t, ref), fake())
	full, err := os.ReadFile(filepath.Join(ref, sweep.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(full, []byte("\n"))
	torn := append(bytes.Join(lines[:10], nil), lines[10][:len(lines[10])/2]...)
	if err := os.WriteFile(filepath.Join(dir, sweep.ResultsFile), torn, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := run(t, config(t, dir), fake())
	if sum.Skipped != 10 || len(sum.Notes) != 1 || !strings.Contains(sum.Notes[0], "dropped a half-written last line") {
		t.Errorf("skipped %d, notes %q", sum.Skipped, sum.Notes)
	}
	if diff := cmp.Diff(sortedLines(t, filepath.Join(ref, sweep.ResultsFile)), sortedLines(t, filepath.Join(dir, sweep.ResultsFile))); diff != "" {
		t.Errorf("resumed results differ (-uninterrupted +resumed):\n%s", diff)
	}

	// A broken line that is not the last is not a crash's doing: refuse.
	bad := append(bytes.Join(lines[:3], nil), []byte("{\"pass\":\n")...)
	bad = append(bad, lines[3]...)
	os.WriteFile(filepath.Join(dir, sweep.ResultsFile), bad, 0o644)
	_, err = sweep.Run(context.Background(), config(t, dir), fake())
	if err == nil || !strings.HasSuffix(err.Error(), "results.jsonl:4: not a results row: unexpected end of JSON input") {
		t.Errorf("corrupt line: %v", err)
	}
}

// child is the test binary run as a sweep that the parent kills.
func child() int {
	cfg := sweep.Config{ModelPath: os.Getenv("SWEEP_TEST_MODEL"), TaskFiles: taskFiles, Out: os.Getenv("SWEEP_TEST_CHILD"), Settings: (&sweeptest.Fake{}).Settings()}
	if _, err := sweep.Run(context.Background(), cfg, &sweeptest.Fake{Identity: "0-7", Delay: 40 * time.Millisecond}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestKilledRunResumes kills a sweep (a child process) with SIGKILL after
// some rows, reruns it, and compares with a run never interrupted.
func TestKilledRunResumes(t *testing.T) {
	ref, dir := t.TempDir(), t.TempDir()
	run(t, config(t, ref), fake())
	want := sortedLines(t, filepath.Join(ref, sweep.ResultsFile))

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SWEEP_TEST_CHILD="+dir, "SWEEP_TEST_MODEL="+model(t, 1))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	results := filepath.Join(dir, sweep.ResultsFile)
	deadline := time.Now().Add(60 * time.Second)
	killedAt := 0
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(results)
		if n := bytes.Count(b, []byte("\n")); n >= 20 {
			cmd.Process.Signal(syscall.SIGKILL)
			killedAt = n
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	err := cmd.Wait()
	if killedAt == 0 {
		t.Fatalf("the child wrote fewer than 20 rows in 60s: %v %s", err, stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("the child was not killed (%v): it finished first? %s", err, stderr.String())
	}
	b, _ := os.ReadFile(results)
	if n := bytes.Count(b, []byte("\n")); n >= len(want) {
		t.Fatalf("the child had written all %d rows before it was killed", n)
	}
	t.Logf("killed after %d rows; %d on disk", killedAt, bytes.Count(b, []byte("\n")))
	f := fake()
	sum := run(t, config(t, dir), f)
	if sum.Skipped < killedAt {
		t.Errorf("the rerun skipped %d rows, but %d were on disk", sum.Skipped, killedAt)
	}
	if diff := cmp.Diff(want, sortedLines(t, results)); diff != "" {
		t.Errorf("resumed results differ (-uninterrupted +resumed):\n%s", diff)
	}
}

func TestShardsMergeEqualOneRun(t *testing.T) {
	ref, dir := t.TempDir(), t.TempDir()
	run(t, config(t, ref), fake())
	total := 0
	for i := range 3 {
		cfg := config(t, dir)
		cfg.Shard = sweep.Shard{Index: i, Count: 3}
		sum := run(t, cfg, fake())
		total += sum.Variants
	}
	if total != 33+2 { // the identity runs in every shard
		t.Errorf("the shards ran %d variants, want 35", total)
	}
	ms, err := sweep.Merge(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ms.Shards != 3 || ms.Rows != 66 || len(ms.Notes) != 0 {
		t.Errorf("merge %+v", ms)
	}
	if diff := cmp.Diff(sortedLines(t, filepath.Join(ref, sweep.ResultsFile)), sortedLines(t, filepath.Join(dir, sweep.ResultsFile))); diff != "" {
		t.Errorf("merged results differ from one run (-one +merged):\n%s", diff)
	}
	a, _ := os.ReadFile(filepath.Join(ref, sweep.CSVFile))
	b, _ := os.ReadFile(filepath.Join(dir, sweep.CSVFile))
	if !bytes.Equal(a, b) {
		t.Errorf("merged results.csv differs from one run's")
	}
	// The merged file is in CompareRows order: identity first, then by
	// params as numbers.
	rows, _ := sweep.ReadResults(filepath.Join(dir, sweep.ResultsFile))
	if rows[0].Pass != "identity" || rows[2].Label() != "skip n=0" || rows[4].Label() != "skip n=1" {
		t.Errorf("merged order starts %s, %s, %s", rows[0].Label(), rows[2].Label(), rows[4].Label())
	}
	// Merging again gives the same bytes.
	first, _ := os.ReadFile(filepath.Join(dir, sweep.ResultsFile))
	if _, err := sweep.Merge(dir); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dir, sweep.ResultsFile))
	if !bytes.Equal(first, again) {
		t.Errorf("a second merge changed results.jsonl")
	}
}

func shard(t *testing.T, out string, seed int64, i, n int) {
	t.Helper()
	cfg := config(t, out)
	cfg.ModelPath = model(t, seed)
	cfg.Plan = sweep.PlanOptions{Passes: []string{"skip"}}
	cfg.Shard = sweep.Shard{Index: i, Count: n}
	run(t, cfg, fake())
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	t.Run("other model in DIR", func(t *testing.T) {
		dir := t.TempDir()
		run(t, config(t, dir), fake())
		cfg := config(t, dir)
		cfg.ModelPath = model(t, 2)
		_, err := sweep.Run(ctx, cfg, fake())
		want := fmt.Sprintf("%s holds results of another model (%s, hash %.12s) than %s (hash %.12s): use another --out directory", dir, model(t, 1), mustHash(t, model(t, 1)), model(t, 2), mustHash(t, model(t, 2)))
		if err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("other model in DIR without its manifest", func(t *testing.T) {
		dir := t.TempDir()
		run(t, config(t, dir), fake())
		os.Remove(filepath.Join(dir, sweep.ManifestFile))
		cfg := config(t, dir)
		cfg.ModelPath = model(t, 2)
		_, err := sweep.Run(ctx, cfg, fake())
		want := dir + "/results.jsonl: row 1 (identity on arc_tiny) was scored with another model, task file or settings than this run's (its key differs): use another --out directory"
		if err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("other settings in DIR", func(t *testing.T) {
		dir := t.TempDir()
		run(t, config(t, dir), fake())
		cfg := config(t, dir)
		cfg.Settings = map[string]string{"scorer": "fake", "limit": "5"}
		_, err := sweep.Run(ctx, cfg, fake())
		want := dir + " holds results scored with other settings (scorer=fake) than this run's (limit=5 scorer=fake): use another --out directory"
		if err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("pass that does not apply", func(t *testing.T) {
		cfg := config(t, t.TempDir())
		cfg.Plan = sweep.PlanOptions{Passes: []string{"middle-repeat"}, NFrom: 5, NTo: 3, HasN: true}
		_, err := sweep.Run(ctx, cfg, fake())
		want := "--n 5..3: N = 5 is out of range for a model with 8 blocks: N must be in 0..3, so that the middle N+1..T-N-1 keeps at least one block (M = T-2N-1 >= 1)"
		if err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("duplicate shard index", func(t *testing.T) {
		dir, other := t.TempDir(), t.TempDir()
		for i := range 3 {
			shard(t, dir, 1, i, 3)
		}
		shard(t, other, 1, 1, 3)
		_, err := sweep.Merge(dir, filepath.Join(other, "shard-1-of-3"))
		want := fmt.Sprintf("two shards with index 1 of 3: %s/shard-1-of-3 and %s/shard-1-of-3", dir, other)
		if err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("missing shards", func(t *testing.T) {
		dir := t.TempDir()
		shard(t, dir, 1, 1, 4)
		shard(t, dir, 1, 2, 4)
		_, err := sweep.Merge(dir)
		want := fmt.Sprintf("missing shards 0, 3 of 4 (expected %s/shard-0-of-4, %s/shard-3-of-4): run them, or copy their directories here, before merging", dir, dir)
		if err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("shards of different splits", func(t *testing.T) {
		dir := t.TempDir()
		shard(t, dir, 1, 0, 2)
		shard(t, dir, 1, 1, 3)
		_, err := sweep.Merge(dir)
		want := fmt.Sprintf("shards of different splits: %s/shard-0-of-2 is shard 0/2 but %s/shard-1-of-3 is shard 1/3", dir, dir)
		if err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("shards of different models", func(t *testing.T) {
		dir, other := t.TempDir(), t.TempDir()
		shard(t, dir, 1, 0, 2)
		shard(t, other, 2, 1, 2)
		_, err := sweep.Merge(dir, filepath.Join(other, "shard-1-of-2"))
		want := fmt.Sprintf("shard 1 does not go with shard 0 (%s/shard-0-of-2): %s/shard-1-of-2 holds results of another model (%s, hash %.12s) than %s (hash %.12s): use another --out directory",
			dir, other, model(t, 2), mustHash(t, model(t, 2)), model(t, 1), mustHash(t, model(t, 1)))
		if err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("unfinished shard", func(t *testing.T) {
		dir := t.TempDir()
		shard(t, dir, 1, 0, 2)
		shard(t, dir, 1, 1, 2)
		p := filepath.Join(dir, "shard-1-of-2", sweep.ResultsFile)
		b, _ := os.ReadFile(p)
		lines := bytes.SplitAfter(b, []byte("\n"))
		os.WriteFile(p, bytes.Join(lines[:3], nil), 0o644)
		_, err := sweep.Merge(dir)
		want := fmt.Sprintf("shard 1 (%s/shard-1-of-2) has 3 of its 6 rows: it has not finished; rerun it (it resumes where it stopped) before merging", dir)
		if err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("two runs into one DIR", func(t *testing.T) {
		dir := t.TempDir()
		started := make(chan struct{})
		release := make(chan struct{})
		done := make(chan error)
		go func() {
			_, err := sweep.Run(ctx, config(t, dir), &blocking{Fake: fake(), started: started, release: release})
			done <- err
		}()
		<-started
		_, err := sweep.Run(ctx, config(t, dir), fake())
		close(release)
		if err := <-done; err != nil {
			t.Error(err)
		}
		want := dir + "/results.jsonl is being written by another painterc sweep: wait for it, or give this run another --out or --shard"
		if err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})
}

// blocking is a Fake whose first Score waits for release.
type blocking struct {
	*sweeptest.Fake
	started, release chan struct{}
	once             sync.Once
}

func (b *blocking) Score(ctx context.Context, v sweep.Variant, tasks []*evalTask) (*evalResults, error) {
	b.once.Do(func() { close(b.started); <-b.release })
	return b.Fake.Score(ctx, v, tasks)
}

// TestHashModelExternalData: the model's hash covers its external data
// file, so a changed weight changes every key.
func TestHashModelExternalData(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	m, err := testmodels.Default(testmodels.Spec{Family: testmodels.Llama, Layers: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := onnx.Save(path, m, onnx.SaveOptions{ExternalData: true}); err != nil {
		t.Fatal(err)
	}
	data := path + ".data"
	if _, err := os.Stat(data); err != nil {
		t.Fatal(err)
	}
	before := mustHash(t, path)
	onnxBytes, _ := os.ReadFile(path)
	b, _ := os.ReadFile(data)
	b[len(b)/2] ^= 1
	if err := os.WriteFile(data, b, 0o644); err != nil {
		t.Fatal(err)
	}
	after := mustHash(t, path)
	if before == after {
		t.Errorf("changing the external data left the model's hash %s", before)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, onnxBytes) {
		t.Fatal("the .onnx file changed")
	}
	if plain := mustHashFile(t, path); plain == after {
		t.Errorf("the model's hash is the .onnx file's alone")
	}
}

// TestRunningShard: while a shard's run holds its lock, Status says it is
// running and Merge refuses to merge it.
func TestRunningShard(t *testing.T) {
	dir := t.TempDir()
	shardOf(t, dir, 0, 2)
	// Shard 1 is running (blocked in its first Score) while the test looks.
	started, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		cfg := config(t, dir)
		cfg.Plan = sweep.PlanOptions{Passes: []string{"skip"}}
		cfg.Shard = sweep.Shard{Index: 1, Count: 2}
		_, err := sweep.Run(context.Background(), cfg, &blocking{Fake: fake(), started: started, release: release})
		done <- err
	}()
	<-started
	st, err := sweep.Status(dir)
	_, merr := sweep.Merge(dir)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].Running || !st[1].Running || st[1].Shard == nil || *st[1].Shard != (sweep.Shard{Index: 1, Count: 2}) {
		t.Errorf("status %+v", st)
	}
	want := fmt.Sprintf("shard 1 (%s/shard-1-of-2) is still running: merge when it has finished", dir)
	if merr == nil || merr.Error() != want {
		t.Errorf("merge while running:\n got %v\nwant %s", merr, want)
	}
}
