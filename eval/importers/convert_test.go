package importers

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/painterc/painterc/eval"
)

var update = flag.Bool("update", false, "rewrite testdata/*/want.jsonl from the converters")

// convertFile converts testdata/<bench>/<file> with the named benchmark.
func convertFile(t *testing.T, bench, file string) *TaskFile {
	t.Helper()
	b, err := Lookup(bench)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", bench, file)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := ReadRows(path, f)
	if err != nil {
		t.Fatal(err)
	}
	tf, err := b.Convert(rows, path)
	if err != nil {
		t.Fatal(err)
	}
	return tf
}

// TestConvertGolden converts every benchmark's hand-written sample and
// compares the task file with testdata/<bench>/want.jsonl byte for byte.
// scripts/check_importers.py checked each want.jsonl against the requests
// the pinned lm-eval forms from input.jsonl with its own task YAMLs.
func TestConvertGolden(t *testing.T) {
	for _, b := range Benchmarks() {
		t.Run(b.Name, func(t *testing.T) {
			tf := convertFile(t, b.Name, "input.jsonl")
			var got bytes.Buffer
			if err := tf.Write(&got); err != nil {
				t.Fatal(err)
			}
			want := filepath.Join("testdata", b.Name, "want.jsonl")
			if *update {
				if err := os.WriteFile(want, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			w, err := os.ReadFile(want)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(w), got.String()); d != "" {
				t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", want, d)
			}
		})
	}
}

// TestTaskFileShape checks the header every converted file must have: the
// benchmark's name and kind, a category, a description naming the input
// and the lm-eval version, and for multiple choice the mean chance.
func TestTaskFileShape(t *testing.T) {
	tf := convertFile(t, "arc_easy", "input.jsonl")
	h := tf.Header
	if h.Name != "arc_easy" || h.Kind != "multiple_choice" || h.Category != "semantic" {
		t.Errorf("header %+v", h)
	}
	// 4, 3 and 5 choices: chance is (1/4 + 1/3 + 1/5) / 3.
	if h.Baseline == nil || *h.Baseline != 0.261111 {
		t.Errorf("baseline %v, want 0.261111", h.Baseline)
	}
	if !strings.Contains(h.Description, "input.jsonl") || !strings.Contains(h.Description, "lm-eval "+LMEvalVersion) {
		t.Errorf("description %q names neither the input nor lm-eval %s", h.Description, LMEvalVersion)
	}
	var buf bytes.Buffer
	tf.Write(&buf)
	first, _, _ := strings.Cut(buf.String(), "\n")
	var m map[string]map[string]any
	if err := json.Unmarshal([]byte(first), &m); err != nil || len(m) != 1 || m["task"] == nil {
		t.Fatalf("first line %s is not {\"task\": {...}}", first)
	}
}

// TestOutputLoads: every converted file is a task file the scorer reads,
// with the benchmark's kind and every document. WinoGrande's partial
// evaluation (contexts + continuation) is left out until eval's loader
// takes that shape.
func TestOutputLoads(t *testing.T) {
	for _, b := range Benchmarks() {
		if b.Name == "winogrande" {
			continue
		}
		t.Run(b.Name, func(t *testing.T) {
			tf := convertFile(t, b.Name, "input.jsonl")
			var buf bytes.Buffer
			if err := tf.Write(&buf); err != nil {
				t.Fatal(err)
			}
			task, err := eval.ReadTask(b.Name+".jsonl", &buf)
			if err != nil {
				t.Fatal(err)
			}
			if task.Name != b.Name || task.Kind.Name != b.Header.Kind || len(task.Docs) != len(tf.Docs) {
				t.Errorf("loaded %s, kind %s, %d documents; want %s, %s, %d", task.Name, task.Kind.Name, len(task.Docs), b.Name, b.Header.Kind, len(tf.Docs))
			}
		})
	}
}
