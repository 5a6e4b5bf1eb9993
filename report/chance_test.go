package report

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAtChanceTaskLeftOutOfMedians: a task whose full model scores at
// the baseline gets a note, keeps its own table, and leaves the median
// table and the findings exactly as if its rows were not there at all.
func TestAtChanceTaskLeftOutOfMedians(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var withChance, without []string
	for _, l := range strings.Split(strings.TrimSpace(string(src)), "\n") {
		if strings.Contains(l, `"task":"hellaswag_tiny"`) {
			// A baseline of 0.75 with stderr 0.1: the full model's 0.75 is
			// at chance. Every other row of the task keeps its scores.
			l = strings.Replace(l, `"baseline":null`, `"baseline":0.75`, 1)
			l = strings.Replace(l, `"metrics":{"acc,none":0.75}`, `"metrics":{"acc,none":0.75,"acc_stderr,none":0.1}`, 1)
			withChance = append(withChance, l)
			continue
		}
		withChance = append(withChance, l)
		without = append(without, l)
	}
	write := func(lines []string) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ResultsFile), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		path, err := Write(dir)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	got, ref := write(withChance), write(without)

	if !strings.Contains(got, "hellaswag_tiny is left out of every median and finding: the full model scores acc,none 0.750 against a random-guess baseline of 0.750 (stderr 0.100)") {
		t.Errorf("no at-chance note in the report:\n%s", got)
	}
	if !strings.Contains(got, "### hellaswag_tiny\n") {
		t.Error("the at-chance task lost its own table")
	}
	section := func(s, from, to string) string {
		i := strings.Index(s, from)
		j := strings.Index(s[i+len(from):], to)
		if i < 0 || j < 0 {
			t.Fatalf("no section %q..%q in\n%s", from, to, s)
		}
		return s[i : i+len(from)+j]
	}
	if d := cmp.Diff(section(ref, "### median across tasks", "###"), section(got, "### median across tasks", "###")); d != "" {
		t.Errorf("median table moved by an at-chance task (-without it +with it):\n%s", d)
	}
	verdicts := regexp.MustCompile(`(?m)^\| \d \| .* \| \*\*.*\*\* \|$`)
	if d := cmp.Diff(verdicts.FindAllString(ref, -1), verdicts.FindAllString(got, -1)); d != "" {
		t.Errorf("findings moved by an at-chance task:\n%s", d)
	}
	if got := AtChance(mustRead(t, filepath.Join("testdata", "results.jsonl"))); len(got) != 0 {
		t.Errorf("AtChance on the fixture (no baselines) = %v, want none", got)
	}
}

func mustRead(t *testing.T, path string) []Result {
	t.Helper()
	r, err := ReadResults(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
