package sweep_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/painterc/painterc/sweep"
)

// TestKubernetesJobShape checks docs/kubernetes/sweep-job.yaml without a
// cluster (none runs in CI): an Indexed Job whose completions match the
// --shard denominator, pods that take their shard from
// JOB_COMPLETION_INDEX, a merge of the same directory, and merge retry
// patterns that match the messages Merge really gives while it must wait.
func TestKubernetesJobShape(t *testing.T) {
	b, err := os.ReadFile("../docs/kubernetes/sweep-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := string(b)
	docs := strings.Split(y, "\n---\n")
	if len(docs) != 3 {
		t.Fatalf("%d YAML documents, want the PVC, the shards' Job and the merge Job", len(docs))
	}
	shards := docs[1]
	for _, want := range []string{"kind: Job", "completionMode: Indexed", "restartPolicy: Never", "- sweep"} {
		if !strings.Contains(shards, want) {
			t.Errorf("the shards' Job has no %q", want)
		}
	}
	completions := regexp.MustCompile(`(?m)^  completions: (\d+)`).FindStringSubmatch(shards)
	shard := regexp.MustCompile(`--shard=\$\(JOB_COMPLETION_INDEX\)/(\d+)`).FindStringSubmatch(shards)
	if completions == nil || shard == nil || completions[1] != shard[1] {
		t.Errorf("completions %v and --shard %v disagree", completions, shard)
	}
	out := regexp.MustCompile(`--out=(\S+)`).FindStringSubmatch(shards)
	if out == nil || !strings.Contains(docs[2], "painterc sweep merge "+out[1]) {
		t.Errorf("the merge Job does not merge the shards' --out %v", out)
	}
	if !strings.Contains(docs[0], "ReadWriteMany") {
		t.Errorf("the results volume must be ReadWriteMany: every shard pod writes to it")
	}

	// The merge Job waits while Merge's message matches one of its
	// patterns; each wait-worthy refusal must match one.
	patterns := regexp.MustCompile(`\*"([^"]+)"\*`).FindAllStringSubmatch(docs[2], -1)
	waits := func(msg string) bool {
		for _, p := range patterns {
			if strings.Contains(msg, p[1]) {
				return true
			}
		}
		return false
	}
	dir := t.TempDir()
	_, errNone := sweep.Merge(dir)
	shardOf(t, dir, 0, 2)
	_, errMissing := sweep.Merge(dir)
	os.MkdirAll(filepath.Join(dir, "shard-1-of-2"), 0o755)
	_, errNotStarted := sweep.Merge(dir)
	shardOf(t, dir, 1, 2)
	p := filepath.Join(dir, "shard-1-of-2", sweep.ResultsFile)
	b, _ = os.ReadFile(p)
	os.WriteFile(p, b[:len(b)/2], 0o644)
	_, errUnfinished := sweep.Merge(dir)
	for name, err := range map[string]error{"no shards": errNone, "missing": errMissing, "not started": errNotStarted, "unfinished": errUnfinished} {
		if err == nil || !waits(err.Error()) {
			t.Errorf("%s: the merge Job would not wait for %v", name, err)
		}
	}
	// A refusal that waiting cannot fix makes it fail.
	dup := t.TempDir()
	shardOf(t, dup, 0, 2)
	if _, err := sweep.Merge(dir, filepath.Join(dup, "shard-0-of-2")); err == nil || waits(err.Error()) {
		t.Errorf("duplicate shards: the merge Job would wait on %v", err)
	}
}

func shardOf(t *testing.T, out string, i, n int) {
	t.Helper()
	cfg := config(t, out)
	cfg.Plan = sweep.PlanOptions{Passes: []string{"skip"}}
	cfg.Shard = sweep.Shard{Index: i, Count: n}
	if _, err := sweep.Run(context.Background(), cfg, fake()); err != nil {
		t.Fatal(err)
	}
}
