package bench

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "copy the recorded benchmark tables into README.md")

// TestREADMEBenchTables: the README's benchmark tables are the records
// the benchmark scripts write (bench/score.md from scripts/bench-score.sh),
// byte for byte, so no number in them is typed by hand; -update copies a
// new record in.
func TestREADMEBenchTables(t *testing.T) {
	readmePath := filepath.Join("..", "README.md")
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for _, tc := range []struct{ marker, record, script string }{
		{"bench-score", "score.md", "scripts/bench-score.sh"},
	} {
		want, err := os.ReadFile(tc.record)
		if err != nil {
			t.Fatalf("%v: run %s to record it", err, tc.script)
		}
		begin := "<!-- " + tc.marker + ": bench/" + tc.record + ", written by " + tc.script + "; go test ./bench -run TestREADMEBenchTables -update -->\n"
		end := "<!-- /" + tc.marker + " -->"
		i, j := strings.Index(readme, begin), strings.Index(readme, end)
		if i < 0 || j < i {
			t.Errorf("README.md lacks the markers %q ... %q", strings.TrimSpace(begin), end)
			continue
		}
		got := readme[i+len(begin) : j]
		if got == string(want) {
			continue
		}
		if *update {
			readme = readme[:i+len(begin)] + string(want) + readme[j:]
			if err := os.WriteFile(readmePath, []byte(readme), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("README.md's %s table is not bench/%s; run go test ./bench -run TestREADMEBenchTables -update:\n%s", tc.marker, tc.record, cmp.Diff(string(want), got))
	}
}
