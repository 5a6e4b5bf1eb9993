package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painterc/painterc/schedule"
)

// FuzzReadResults feeds arbitrary bytes to the report's results reader and
// what it accepts to the report's analyses: a refusal names the file and
// line and stays short; accepted rows never panic the analyses, and T is
// bounded by the schedule language.
func FuzzReadResults(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "results.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"pass": "skip", "params": "n=1", "schedule": "0,3", "affected": 2, "seed": 0, "task": "mc", "normalized": {"acc,none": 0.5}}` + "\n"))
	f.Add([]byte(`{"pass": "skip-one", "params": {"index": 2}, "schedule": "0-1,3", "affected": 1, "task": "mc", "metrics": {"acc,none": null}, "normalized": {"acc,none": "N/A"}}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		// The report reads its rows with sweep's reader, from a file.
		path := filepath.Join(t.TempDir(), "results.jsonl")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		results, err := ReadResults(path)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, path) || len(msg) > 2000 {
				t.Fatalf("message %.300q... (%d bytes)", msg, len(msg))
			}
			return
		}
		T := BlockCount(results)
		if T < 0 || T > schedule.MaxNumber+1 {
			t.Fatalf("T = %d", T)
		}
		Rows(results)
		Findings(results, T)
	})
}
