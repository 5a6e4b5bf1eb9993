package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/sweep"
	"github.com/painterc/painterc/testmodels"
)

// sweepSpec is the 4-block model the sweep tests score: N runs 1..0, so the
// default plan is the identity and 2 x 8 variants.
var sweepSpec = testmodels.Spec{Family: testmodels.Llama, Layers: 4, Vocab: len(scoreWords), Seed: 11}

// writeSweepFixture is writeScoreFixture plus a rolling-perplexity task,
// so that rows carry a metric that is not normalized.
func writeSweepFixture(t *testing.T) (model string, tasks []string) {
	t.Helper()
	model, mc := writeScoreFixture(t, sweepSpec)
	wiki := filepath.Join(filepath.Dir(model), "wiki.jsonl")
	writeFile(t, wiki, []byte(`{"task": {"name": "wiki", "kind": "rolling"}}
{"text": "the cat sat on the mat"}
{"text": "a big dog ran on the rug"}
`))
	return model, []string{mc, wiki}
}

func sweepArgs(model string, tasks []string, out string, more ...string) []string {
	args := []string{"sweep", model, "--out", out, "-q"}
	for _, t := range tasks {
		args = append(args, "--task", t)
	}
	return append(args, more...)
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	return strings.Split(strings.TrimSuffix(string(readFile(t, path)), "\n"), "\n")
}

func sortedFileLines(t *testing.T, path string) []string {
	l := fileLines(t, path)
	slices.Sort(l)
	return l
}

// TestSweepScoresLikeScore runs painterc sweep on ORT and checks its rows
// against painterc score of the same variants, its resume, and that two
// shards merged equal the single run.
func TestSweepScoresLikeScore(t *testing.T) {
	orttest.Require(t)
	model, tasks := writeSweepFixture(t)
	out := t.TempDir()
	r := cli(t, sweepArgs(model, tasks, out)...)
	mustSucceed(t, r)
	if !strings.HasPrefix(r.stdout, "17 variants: ") {
		t.Errorf("stdout %q", r.stdout)
	}
	rows, err := sweep.ReadResults(filepath.Join(out, sweep.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 34 {
		t.Fatalf("%d rows, want 17 variants x 2 tasks", len(rows))
	}
	byLabel := map[string]*sweep.Row{}
	for _, row := range rows {
		byLabel[row.Label()+" "+row.Task] = row
	}
	for _, v := range []struct {
		label string
		flags []string
	}{
		{"identity", nil},
		{"skip n=1", []string{"--pass=skip", "--n=1"}},
		{"looped-parallel n=0 loops=3", []string{"--pass=looped-parallel", "--n=0"}},
		{"random n=0 seed=2", []string{"--pass=random", "--n=0", "--seed=2"}},
	} {
		args := append([]string{"score", model, "--json", "--task", tasks[0], "--task", tasks[1]}, v.flags...)
		sr := cli(t, args...)
		mustSucceed(t, sr)
		var js struct {
			Results map[string]map[string]any `json:"results"`
		}
		if err := json.Unmarshal([]byte(sr.stdout), &js); err != nil {
			t.Fatal(err)
		}
		for _, task := range []string{"mc", "wiki"} {
			row := byLabel[v.label+" "+task]
			if row == nil {
				t.Fatalf("no row %s %s", v.label, task)
			}
			for _, m := range row.Metrics {
				if got, want := m.Value, js.Results[task][m.Key]; got != want {
					t.Errorf("%s %s %s: sweep %v, score %v", v.label, task, m.Key, got, want)
				}
			}
		}
	}
	id := byLabel["identity mc"]
	if n, ok := id.NormalizedValue("acc,none"); id.Metrics[0].Value != 1.0/3 && (!ok || n != 1) {
		t.Errorf("identity normalized acc %v", n)
	}
	if w := byLabel["skip n=1 wiki"]; len(w.Normalized) != 0 {
		t.Errorf("perplexities were normalized: %+v", w.Normalized)
	}

	// painterc report reads the directory as it is (wiki has only
	// perplexities, which are not normalized, so it plots mc alone).
	rr := cli(t, "report", out)
	mustSucceed(t, rr)
	if md := string(readFile(t, filepath.Join(out, "report.md"))); !strings.Contains(md, "34 result rows from `results.jsonl`: 1 tasks (mc)") {
		t.Errorf("report.md:\n%.300s", md)
	}

	// Rerunning finds every row.
	r = cli(t, sweepArgs(model, tasks, out)...)
	mustSucceed(t, r)
	if !strings.HasPrefix(r.stdout, "17 variants: 0 scored, 0 rows written (0 reusing an equal schedule's score), 34 already there;") {
		t.Errorf("rerun: %q", r.stdout)
	}

	// Two shards, merged, are the single run.
	sharded := t.TempDir()
	for _, s := range []string{"0/2", "1/2"} {
		mustSucceed(t, cli(t, sweepArgs(model, tasks, sharded, "--shard", s)...))
	}
	mr := cli(t, "sweep", "merge", sharded)
	mustSucceed(t, mr)
	if mr.stdout != "merged 2 shards: 34 rows in "+sharded+"/results.jsonl\n" {
		t.Errorf("merge: %q", mr.stdout)
	}
	if a, b := sortedFileLines(t, filepath.Join(out, sweep.ResultsFile)), sortedFileLines(t, filepath.Join(sharded, sweep.ResultsFile)); !slices.Equal(a, b) {
		t.Errorf("merged shards differ from the single run")
	}
}

// TestSweepBadInput: the CLI's exit codes and messages for a sweep that
// cannot run.
func TestSweepBadInput(t *testing.T) {
	orttest.Require(t)
	model, tasks := writeSweepFixture(t)
	other := writeModel(t, filepath.Join(t.TempDir(), "other.onnx"), testmodels.Spec{Family: testmodels.Llama, Layers: 4, Vocab: len(scoreWords), Seed: 12})
	writeFile(t, filepath.Join(filepath.Dir(other), "tokenizer.json"), readFile(t, filepath.Join(filepath.Dir(model), "tokenizer.json")))
	out := t.TempDir()
	mustSucceed(t, cli(t, sweepArgs(model, tasks, out, "--passes", "skip", "--n", "1")...))
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"N out of range", sweepArgs(model, tasks, t.TempDir(), "--n", "2..0"), exitSchedule,
			"painterc: --n 2..0: N = 2 is out of range for a model with 4 blocks: N must be in 0..1, so that the middle N+1..T-N-1 keeps at least one block (M = T-2N-1 >= 1)\n"},
		{"pass that does not apply", sweepArgs(model, tasks, t.TempDir(), "--passes", "skip,swap"), exitSchedule,
			"painterc: pass swap does not apply to a sweep over N: a sweep runs the strategies that rewrite the middle (skip, middle-repeat, reverse, random, parallel, looped-parallel)\n"},
		{"bad --n", sweepArgs(model, tasks, t.TempDir(), "--n", "1-3"), exitUsage,
			"painterc: --n \"1-3\": want a range A..B of whole numbers, e.g. --n 15..0, or one N\n"},
		{"bad --n list", sweepArgs(model, tasks, t.TempDir(), "--n", "1,x"), exitUsage,
			"painterc: --n \"1,x\": want a list of whole numbers, e.g. --n 12,8,4,1, or a range A..B\n"},
		{"--n list out of range", sweepArgs(model, tasks, t.TempDir(), "--n", "0,2"), exitSchedule,
			"painterc: --n 0,2: N = 2 is out of range for a model with 4 blocks: N must be in 0..1, so that the middle N+1..T-N-1 keeps at least one block (M = T-2N-1 >= 1)\n"},
		{"bad --shard", sweepArgs(model, tasks, t.TempDir(), "--shard", "2/2"), exitUsage,
			"painterc: --shard \"2/2\": want 0 <= i < n\n"},
		{"no --out", []string{"sweep", model, "--task", tasks[0]}, exitUsage,
			"painterc: no results directory: add --out DIR\n"},
		{"other model in DIR", sweepArgs(other, tasks, out, "--passes", "skip", "--n", "1"), exitOutput, ""},
		{"merge without shards", []string{"sweep", "merge", out}, exitUsage,
			"painterc: " + out + " has no shards (directories shard-I-of-N): nothing to merge\n"},
	} {
		r := cli(t, tc.args...)
		if r.code != tc.code {
			t.Errorf("%s: exit %d, want %d: %s", tc.name, r.code, tc.code, r.stderr)
		}
		if tc.msg != "" && r.stderr != tc.msg {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, r.stderr, tc.msg)
		}
		if tc.msg == "" && !strings.Contains(r.stderr, "holds results of another model") {
			t.Errorf("%s: %q", tc.name, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "results.csv")); err != nil {
		t.Error(err)
	}
}

// TestSweepInterruptResumes sends SIGTERM (what Slurm sends on preemption)
// to a painterc sweep scoring on ORT, then resumes it, and compares with an
// uninterrupted run.
func TestSweepInterruptResumes(t *testing.T) {
	orttest.Require(t)
	model, tasks := writeSweepFixture(t)
	args := func(out string) []string { return sweepArgs(model, tasks, out, "--seeds", "12") }
	ref := t.TempDir()
	mustSucceed(t, cli(t, args(ref)...))

	out := t.TempDir()
	js, _ := json.Marshal(childSpec{Args: args(out)})
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	results := filepath.Join(out, sweep.ResultsFile)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(results); bytes.Count(b, []byte("\n")) >= 6 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitInternal || !strings.HasSuffix(stderr.String(), "painterc: interrupted: the rows written so far are kept; rerun the same command to resume\n") {
		t.Fatalf("after SIGTERM: %v, stderr %q", err, stderr.String())
	}
	if n := len(fileLines(t, results)); n >= 2*(1+2*(5+12)) {
		t.Fatalf("the sweep had finished (%d rows) before SIGTERM", n)
	}
	mustSucceed(t, cli(t, args(out)...))
	if a, b := sortedFileLines(t, filepath.Join(ref, sweep.ResultsFile)), sortedFileLines(t, results); !slices.Equal(a, b) {
		t.Errorf("the resumed sweep differs from an uninterrupted one")
	}
}

// TestSweepDryRun prints the plan without a tokenizer, tasks or ORT.
func TestSweepDryRun(t *testing.T) {
	model := writeModel(t, filepath.Join(t.TempDir(), "m.onnx"), testmodels.Spec{Family: testmodels.Llama, Layers: 4, Seed: 1})
	r := cli(t, "sweep", model, "--dry-run", "--passes", "skip,random", "--seeds", "2", "--shard", "1/2")
	mustSucceed(t, r)
	want := `index  shard  variant            schedule  M
0      all    identity           0-3       0
1      1      skip n=1           0-1,3     1
2      0      skip n=0           0         3
3      1      random n=1 seed=0  0-3       1
4      0      random n=1 seed=1  0-3       1
5      1      random n=0 seed=0  0,2-1,3   3
6      0      random n=0 seed=1  0-1,3-2   3
7 variants for a model with 4 blocks; shard 1/2 runs 4 of them (the identity in every shard)
`
	if r.stdout != want {
		t.Errorf("dry run:\n%s\nwant:\n%s", r.stdout, want)
	}
	if r := cli(t, "sweep", model, "--dry-run", "--n", "3"); r.code != exitSchedule || !strings.Contains(r.stderr, "N = 3 is out of range for a model with 4 blocks") {
		t.Errorf("dry run with --n 3: exit %d, %s", r.code, r.stderr)
	}
}

// TestSweepStatus: painterc sweep status lists the shards, their rows and
// whether they are complete.
func TestSweepStatus(t *testing.T) {
	orttest.Require(t)
	model, tasks := writeSweepFixture(t)
	out := t.TempDir()
	for _, s := range []string{"0/2", "1/2"} {
		mustSucceed(t, cli(t, sweepArgs(model, tasks, out, "--passes", "skip", "--shard", s)...))
	}
	p := filepath.Join(out, "shard-1-of-2", sweep.ResultsFile)
	l := fileLines(t, p)
	writeFile(t, p, []byte(l[0]+"\n"))
	r := cli(t, "sweep", "status", out)
	mustSucceed(t, r)
	want := "directory" + strings.Repeat(" ", len(out)+15-len("directory")) + "what       rows  state\n" +
		out + "/shard-0-of-2  shard 0/2  4/4   complete\n" +
		out + "/shard-1-of-2  shard 1/2  1/4   stopped (resume it)\n"
	if r.stdout != want {
		t.Errorf("status:\n%s\nwant:\n%s", r.stdout, want)
	}
}
