package main

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/painterc/painterc/internal/orttest"
)

// lmevalFixture is eval/testdata/lmeval/painter16/lmeval.json: what
// lm-eval 0.4.13 itself (--model hf on models/painter-16 as a Hugging Face
// folder) logged and reported for the first `limit` documents of every
// painter-16 task. scripts/referee/lmeval_referee.py --write-fixture wrote
// it.
type lmevalFixture struct {
	Manifest struct {
		Limit      int                `json:"limit"`
		Versions   map[string]string  `json:"versions"`
		Tolerances map[string]float64 `json:"tolerances"`
	} `json:"manifest"`
	Tasks map[string]struct {
		Kind     string         `json:"kind"`
		Docs     []lmevalDoc    `json:"docs"`
		Results  map[string]any `json:"results"`
		NSamples map[string]int `json:"n-samples"`
		TaskHash string         `json:"task_hash"`
	} `json:"tasks"`
}

// lmevalDoc is one document's values: each request's log-likelihood and
// greedy flag, or a generation and its answer under each filter.
type lmevalDoc struct {
	LL         []float64         `json:"ll"`
	Greedy     []bool            `json:"greedy"`
	Generation string            `json:"generation"`
	Filtered   map[string]string `json:"filtered"`
}

// readLMEvalSamples turns an lm-eval samples file (painterc's, written by
// --lm-eval-samples) into per-document values, as the referee script does
// with lm-eval's.
func readLMEvalSamples(t *testing.T, path, kind string) []lmevalDoc {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []lmevalDoc
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var s struct {
			DocID    int                 `json:"doc_id"`
			Resps    [][]json.RawMessage `json:"resps"`
			Filtered []json.RawMessage   `json:"filtered_resps"`
			Filter   string              `json:"filter"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for len(docs) <= s.DocID {
			docs = append(docs, lmevalDoc{})
		}
		d := &docs[s.DocID]
		switch kind {
		case "multiple_choice", "loglikelihood":
			d.LL, d.Greedy = nil, nil
			for _, r := range s.Filtered {
				var pair []string
				if err := json.Unmarshal(r, &pair); err != nil || len(pair) != 2 {
					t.Fatalf("%s: response %s is not [ll, greedy]", path, r)
				}
				ll, err := strconv.ParseFloat(pair[0], 64)
				if err != nil {
					t.Fatal(err)
				}
				d.LL, d.Greedy = append(d.LL, ll), append(d.Greedy, pair[1] == "True")
			}
		case "rolling":
			var v string
			if err := json.Unmarshal(s.Filtered[0], &v); err != nil {
				t.Fatal(err)
			}
			ll, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			d.LL = []float64{ll}
		case "generate":
			if err := json.Unmarshal(s.Resps[0][0], &d.Generation); err != nil {
				t.Fatal(err)
			}
			var v string
			if err := json.Unmarshal(s.Filtered[0], &v); err != nil {
				t.Fatal(err)
			}
			if d.Filtered == nil {
				d.Filtered = map[string]string{}
			}
			d.Filtered[s.Filter] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestLMEvalFixture holds painterc score, on the plain and the KV export
// of painter-16, to lm-eval 0.4.13's own numbers: every request's
// log-likelihood within 1e-4 and its greedy flag equal, every generation
// and extracted answer identical, acc and acc_norm equal (a document whose
// two best choices are within 1e-4 may differ; the fixture has none),
// perplexities within 1e-5 relative, n-samples equal, and task_hashes
// (documents, prompts and targets, hashed as lm-eval hashes them) equal.
func TestLMEvalFixture(t *testing.T) {
	orttest.Require(t)
	var fx lmevalFixture
	b, err := os.ReadFile(filepath.Join("..", "..", "eval", "testdata", "lmeval", "painter16", "lmeval.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	if fx.Manifest.Versions["lm_eval"] != "0.4.13" || len(fx.Tasks) < 8 {
		t.Fatalf("fixture from lm-eval %q with %d tasks; want 0.4.13 and every painter-16 task", fx.Manifest.Versions["lm_eval"], len(fx.Tasks))
	}
	llTol, tieTol, pplRel := fx.Manifest.Tolerances["ll_abs"], fx.Manifest.Tolerances["near_tie"], fx.Manifest.Tolerances["perplexity_rel"]
	dir := filepath.Join("..", "..", "models", "painter-16")
	for _, model := range []string{"model.onnx", filepath.Join("kv", "model.onnx")} {
		out := t.TempDir()
		results := filepath.Join(out, "results.json")
		args := []string{"score", filepath.Join(dir, model), "--limit", strconv.Itoa(fx.Manifest.Limit), "--output", results, "--lm-eval-samples", out}
		var names []string
		for name := range fx.Tasks {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			args = append(args, "--task", filepath.Join(dir, "tasks", name+".jsonl"))
		}
		mustSucceed(t, cli(t, args...))
		var got struct {
			Results    map[string]map[string]any `json:"results"`
			NSamples   map[string]map[string]int `json:"n-samples"`
			TaskHashes map[string]string         `json:"task_hashes"`
			Config     map[string]any            `json:"config"`
		}
		b, err := os.ReadFile(results)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.Config["lm_eval_version"] != "0.4.13" {
			t.Errorf("%s: config lm_eval_version %v", model, got.Config["lm_eval_version"])
		}
		files, _ := filepath.Glob(filepath.Join(out, "samples_*.jsonl"))
		worst, compared := 0.0, 0
		for _, name := range names {
			want := fx.Tasks[name]
			var path string
			for _, f := range files {
				if strings.HasPrefix(filepath.Base(f), "samples_"+name+"_20") {
					path = f
				}
			}
			if path == "" {
				t.Fatalf("%s: no samples file for %s among %v", model, name, files)
			}
			docs := readLMEvalSamples(t, path, want.Kind)
			if len(docs) != len(want.Docs) {
				t.Fatalf("%s %s: %d documents, lm-eval %d", model, name, len(docs), len(want.Docs))
			}
			ties := 0
			for i, w := range want.Docs {
				g := docs[i]
				if w.Filtered != nil {
					compared++
					if g.Generation != w.Generation || !mapsEqual(g.Filtered, w.Filtered) {
						t.Errorf("%s %s doc %d: generation %q %v, lm-eval %q %v", model, name, i, g.Generation, g.Filtered, w.Generation, w.Filtered)
					}
					continue
				}
				if len(g.LL) != len(w.LL) || !slices.Equal(g.Greedy, w.Greedy) {
					t.Errorf("%s %s doc %d: %d requests greedy %v, lm-eval %d greedy %v", model, name, i, len(g.LL), g.Greedy, len(w.LL), w.Greedy)
					continue
				}
				for j := range w.LL {
					compared++
					d := math.Abs(g.LL[j] - w.LL[j])
					worst = math.Max(worst, d)
					if d > llTol {
						t.Errorf("%s %s doc %d request %d: ll %.7f, lm-eval %.7f", model, name, i, j, g.LL[j], w.LL[j])
					}
				}
				if s := slices.Clone(w.LL); len(s) > 1 {
					slices.Sort(s)
					if s[len(s)-1]-s[len(s)-2] <= tieTol {
						ties++
					}
				}
			}
			for key, wv := range want.Results {
				if strings.Contains(key, "_stderr") {
					continue // perplexity's is a bootstrap: lm-eval's 100000 resamples, painterc's 1000
				}
				gv := got.Results[name][key]
				w, wok := wv.(float64)
				g, gok := gv.(float64)
				if !wok || !gok {
					t.Errorf("%s %s %s: %v, lm-eval %v", model, name, key, gv, wv)
					continue
				}
				switch {
				case strings.Contains(key, "perplexity") || strings.HasPrefix(key, "bits_per_byte"):
					if math.Abs(g-w) > pplRel*math.Abs(w) {
						t.Errorf("%s %s %s: %v, lm-eval %v", model, name, key, g, w)
					}
				case math.Abs(g-w) > float64(ties)/float64(len(want.Docs)):
					t.Errorf("%s %s %s: %v, lm-eval %v (%d near-ties)", model, name, key, g, w, ties)
				}
			}
			if !mapsEqual(got.NSamples[name], want.NSamples) {
				t.Errorf("%s %s: n-samples %v, lm-eval %v", model, name, got.NSamples[name], want.NSamples)
			}
			if got.TaskHashes[name] != want.TaskHash {
				t.Errorf("%s %s: task hash %s, lm-eval %s", model, name, got.TaskHashes[name], want.TaskHash)
			}
		}
		t.Logf("%s: %d requests against lm-eval 0.4.13, largest |Δ ll| %.2g", model, compared, worst)
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
