package sweep_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/painterc/painterc/eval/ortmodel"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/sweep"
	"github.com/painterc/painterc/sweep/sweeptest"
)

// wordTok is a tokenizer for the testmodels' 64-token vocabulary: each
// whitespace-separated word hashes to one of the ids 3..63; 1 is BOS and
// 2 EOS.
type wordTok struct{}

func (wordTok) Encode(text string, addSpecial bool) ([]int, error) {
	var ids []int
	if addSpecial {
		ids = append(ids, 1)
	}
	for _, w := range strings.Fields(text) {
		h := fnv.New32a()
		h.Write([]byte(w))
		ids = append(ids, 3+int(h.Sum32()%61))
	}
	return ids, nil
}
func (wordTok) Decode(ids []int) string { return fmt.Sprint(ids) }
func (wordTok) Prefix() int             { return 1 }
func (wordTok) BOS() (int, bool)        { return 1, true }
func (wordTok) EOS() []int              { return []int{2} }
func (wordTok) VocabSize() int          { return 64 }

// writeBenchTasks writes a multiple-choice task of docs documents and a
// rolling one, in words wordTok encodes.
func writeBenchTasks(tb testing.TB, dir string, docs int) []string {
	words := strings.Fields("the cat sat on a mat while big dogs ran over small red hills near old blue rivers and green fields")
	w := func(i, n int) string {
		var s []string
		for k := range n {
			s = append(s, words[(i*7+k*3)%len(words)])
		}
		return strings.Join(s, " ")
	}
	var mc, roll strings.Builder
	mc.WriteString(`{"task": {"name": "mc", "kind": "multiple_choice", "baseline": 0.25}}` + "\n")
	roll.WriteString(`{"task": {"name": "roll", "kind": "rolling"}}` + "\n")
	for i := range docs {
		fmt.Fprintf(&mc, `{"context": %q, "choices": [%q, %q, %q, %q], "gold": %d}`+"\n", w(i, 24), w(i+1, 3), w(i+2, 4), w(i+3, 2), w(i+4, 3), i%4)
		fmt.Fprintf(&roll, `{"text": %q}`+"\n", w(i, 48))
	}
	paths := []string{filepath.Join(dir, "mc.jsonl"), filepath.Join(dir, "roll.jsonl")}
	for i, s := range []string{mc.String(), roll.String()} {
		if err := os.WriteFile(paths[i], []byte(s), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return paths
}

// BenchmarkSweepOverhead runs the default sweep of the 8-block testmodel
// (33 variants, 2 tasks of 16 documents) on ONNX Runtime and reports the
// run's wall time over the time spent inside Scorer.Score ("wall/score"):
// everything the sweep adds (loading and hashing, planning, the fsynced
// rows, the manifest and the CSV) is the excess over 1. The goal is at
// most 1.1. It also reports the sweep's own time per variant with a fake
// scorer that takes no time ("overhead-us/variant").
func BenchmarkSweepOverhead(b *testing.B) {
	orttest.Require(b)
	path := model(b, 1)
	tasks := writeBenchTasks(b, b.TempDir(), 16)
	m, err := onnx.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	var wall, score time.Duration
	for b.Loop() {
		cfg := sweep.Config{ModelPath: path, Model: m, TaskFiles: tasks, Out: b.TempDir(), Settings: sweep.ORTSettings(2048, 0, "wordtok")}
		s := &sweep.ORTScorer{Model: m, Tokenizer: wordTok{}, ORT: ortmodel.Options{Threads: 1}}
		sum, err := sweep.Run(context.Background(), cfg, s)
		if err != nil {
			b.Fatal(err)
		}
		wall += sum.Wall
		score += sum.ScoreTime
	}
	b.ReportMetric(float64(wall)/float64(score), "wall/score")
	b.ReportMetric(float64(score.Milliseconds())/float64(b.N)/33, "score-ms/variant")

	fake := &sweeptest.Fake{Identity: "0-7"}
	var fwall time.Duration
	n := 0
	for range 3 {
		cfg := sweep.Config{ModelPath: path, Model: m, TaskFiles: tasks, Out: b.TempDir(), Settings: fake.Settings()}
		sum, err := sweep.Run(context.Background(), cfg, fake)
		if err != nil {
			b.Fatal(err)
		}
		fwall += sum.Wall - sum.ScoreTime
		n += sum.Variants
	}
	b.ReportMetric(float64(fwall.Microseconds())/float64(n), "overhead-us/variant")
}

// TestOverheadDocs: docs/sweep.md quotes the sweep overhead the README's
// Performance table records; the two must name the same number.
func TestOverheadDocs(t *testing.T) {
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	readme := regexp.MustCompile(`\| sweep wall time / the sum of its variants' scoring times \| ([0-9.]+)× \|`).FindStringSubmatch(read(filepath.Join("..", "README.md")))
	doc := regexp.MustCompile("`make bench` run in the README's Performance table gave ([0-9.]+)\\.").FindStringSubmatch(strings.ReplaceAll(read(filepath.Join("..", "docs", "sweep.md")), "\n", " "))
	if readme == nil || doc == nil {
		t.Fatalf("README.md (%v) or docs/sweep.md (%v) no longer quotes the sweep overhead where this test looks", readme != nil, doc != nil)
	}
	if readme[1] != doc[1] {
		t.Errorf("README.md says %s, docs/sweep.md %s: quote one run", readme[1], doc[1])
	}
}
