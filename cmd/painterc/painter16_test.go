package main

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/painterc/painterc/internal/orttest"
)

// TestPainter16MatchesTorch: painterc score on the shipped model and its
// tasks gives the per-choice log-likelihoods (and greedy flags) that the
// training script's own torch evaluation recorded for the first 50
// documents of each multiple-choice and loglikelihood task
// (models/painter-16/testdata/torch_loglik.jsonl, written by
// scripts/eval_torch.py), within 1e-4, for the plain and the KV export.
func TestPainter16MatchesTorch(t *testing.T) {
	orttest.Require(t)
	dir := filepath.Join("..", "..", "models", "painter-16")
	type key struct {
		task        string
		doc, choice int
	}
	type torchRow struct {
		Task     string  `json:"task"`
		Doc      int     `json:"doc"`
		Choice   int     `json:"choice"`
		LogLik   float64 `json:"loglik"`
		IsGreedy bool    `json:"is_greedy"`
	}
	f, err := os.Open(filepath.Join(dir, "testdata", "torch_loglik.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[key]torchRow{}
	tasks := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r torchRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		want[key{r.Task, r.Doc, r.Choice}] = r
		tasks[r.Task] = true
	}
	if len(want) < 1000 || len(tasks) < 5 {
		t.Fatalf("torch reference has %d rows over %d tasks; want the first 50 documents of every shipped task", len(want), len(tasks))
	}
	for _, model := range []string{"model.onnx", filepath.Join("kv", "model.onnx")} {
		args := []string{"score", filepath.Join(dir, model), "--tokenizer", filepath.Join(dir, "tokenizer.json"), "--limit", "50"}
		for task := range tasks {
			args = append(args, "--task", filepath.Join(dir, "tasks", task+".jsonl"))
		}
		samples := filepath.Join(t.TempDir(), "samples.jsonl")
		args = append(args, "--log-samples", samples)
		mustSucceed(t, cli(t, args...))
		sf, err := os.Open(samples)
		if err != nil {
			t.Fatal(err)
		}
		seen, worst := 0, 0.0
		ss := bufio.NewScanner(sf)
		ss.Buffer(nil, 1<<20)
		for ss.Scan() {
			// multiple_choice rows list every choice; loglikelihood rows
			// carry one request.
			var s struct {
				Task   string          `json:"task"`
				DocID  int             `json:"doc_id"`
				LLs    []float64       `json:"loglikelihoods"`
				Greedy []bool          `json:"-"`
				LL     *float64        `json:"loglikelihood"`
				Flag   json.RawMessage `json:"is_greedy"`
			}
			if err := json.Unmarshal(ss.Bytes(), &s); err != nil {
				t.Fatal(err)
			}
			if s.LL != nil {
				var g bool
				if err := json.Unmarshal(s.Flag, &g); err != nil {
					t.Fatal(err)
				}
				s.LLs, s.Greedy = []float64{*s.LL}, []bool{g}
			} else if err := json.Unmarshal(s.Flag, &s.Greedy); err != nil {
				t.Fatal(err)
			}
			for c, ll := range s.LLs {
				w, ok := want[key{s.Task, s.DocID, c}]
				if !ok {
					t.Fatalf("%s: no torch row for %s doc %d choice %d", model, s.Task, s.DocID, c)
				}
				seen++
				d := math.Abs(ll - w.LogLik)
				worst = math.Max(worst, d)
				if d > 1e-4 || s.Greedy[c] != w.IsGreedy {
					t.Errorf("%s: %s doc %d choice %d: painterc %.6f greedy %v, torch %.6f greedy %v", model, s.Task, s.DocID, c, ll, s.Greedy[c], w.LogLik, w.IsGreedy)
				}
			}
		}
		sf.Close()
		if seen != len(want) {
			t.Errorf("%s: compared %d requests, torch recorded %d", model, seen, len(want))
		}
		t.Logf("%s: %d requests, largest difference from torch %.2g", model, seen, worst)
	}
}
