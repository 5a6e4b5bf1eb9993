package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painterc/painterc/schedule"
)

// FuzzReadResults feeds arbitrary bytes to the report's results reader (the
// sweep's, through ReadResults) and what it accepts to the report's
// analyses: a refusal names the file and stays short; accepted rows never
// panic the analyses, and T is bounded by the schedule language.
func FuzzReadResults(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "results.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	lines := strings.SplitAfter(string(seed), "\n")
	f.Add([]byte(strings.Join(lines[:min(3, len(lines))], "")))
	f.Add([]byte(strings.Replace(lines[0], `"schedule":"`, `"schedule":"99999,`, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		path := filepath.Join(t.TempDir(), ResultsFile)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		results, err := ReadResults(path)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, path+":") || len(msg) > 2000 {
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
