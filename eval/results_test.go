package eval

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestResultsJSON(t *testing.T) {
	mc := readTask(t, "arc.jsonl", `{"task": {"kind": "multiple_choice", "target_delimiter": ""}}
{"context": "a", "choices": ["b", "x"], "gold": 0}
{"context": "a", "choices": ["b", "x"], "gold": 1}
`)
	lam := readTask(t, "lambada.jsonl", `{"context": "ab", "target": "cd"}`)
	res := run(t, newModel(16), newTok(), Options{Config: map[string]any{"model": "fake", "schedule": "0-3"}}, mc, lam)
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// Key order follows lm-eval: alias first, each metric then its stderr.
	wantOrder := []string{`"results"`, `"arc"`, `"alias": "arc"`, `"acc,none": 0.5`, `"acc_stderr,none": 0.5`, `"acc_norm,none": 0.5`, `"acc_norm_stderr,none": 0.5`,
		`"lambada"`, `"alias": "lambada"`, `"acc,none": 1`, `"acc_stderr,none": "N/A"`, `"perplexity,none": `, `"perplexity_stderr,none": "N/A"`,
		`"n-samples"`, `"arc": {`, `"original": 2`, `"effective": 2`, `"config"`, `"model": "fake"`, `"total_evaluation_time_seconds": "`, `"painterc"`, `"main_metric": "acc,none"`}
	at := 0
	for _, w := range wantOrder {
		i := strings.Index(out[at:], w)
		if i < 0 {
			t.Fatalf("%s missing or out of order after byte %d in\n%s", w, at, out)
		}
		at += i + len(w)
	}
	var v struct {
		Results  map[string]map[string]any
		NSamples map[string]map[string]int `json:"n-samples"`
		Config   map[string]any
		Time     string `json:"total_evaluation_time_seconds"`
		Ours     map[string]struct {
			Kind       string
			Path       string
			MainMetric string   `json:"main_metric"`
			Baseline   *float64 `json:"baseline"`
			Notes      []string
		} `json:"painterc"`
	}
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if p := v.Results["lambada"]["perplexity,none"].(float64); math.Abs(p-math.Exp(-2*q)) > 1e-12 {
		t.Errorf("perplexity %v, want %v", p, math.Exp(-2*q))
	}
	if v.NSamples["lambada"]["original"] != 1 || v.Config["schedule"] != "0-3" || v.Time == "" {
		t.Errorf("decoded %+v", v)
	}
	if o := v.Ours["arc"]; o.Kind != "multiple_choice" || o.Path != "arc.jsonl" || o.Baseline == nil || *o.Baseline != 0.5 || o.Notes == nil {
		t.Errorf("painterc block %+v", o)
	}
}

func TestNonFiniteJSON(t *testing.T) {
	res := &Results{Tasks: []*TaskResult{{Name: "t", Metrics: []Metric{{Name: "perplexity", Filter: "none", Value: math.Inf(1)}}}}}
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"perplexity,none": "Infinity"`) {
		t.Errorf("got %s", buf.String())
	}
	s := Sample{{"task", "t"}, {"doc_id", 0}, {"loglikelihoods", []float64{-1, math.Inf(-1), math.NaN()}}}
	b, err := json.Marshal(s)
	if want := `{"task":"t","doc_id":0,"loglikelihoods":[-1,"-Infinity","NaN"]}`; err != nil || string(b) != want {
		t.Errorf("sample %s %v, want %s", b, err, want)
	}
}

func TestSamples(t *testing.T) {
	mc := readTask(t, "arc.jsonl", `{"task": {"kind": "multiple_choice", "target_delimiter": ""}}
{"context": "a", "choices": ["b", "x"], "gold": 0}
{"context": "ab", "choices": ["c"], "gold": 0}
`)
	roll := readTask(t, "wiki.jsonl", `{"text": "ab"}`)
	res := run(t, newModel(16), newTok(), Options{}, mc, roll)
	var buf bytes.Buffer
	if err := res.WriteSamples(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	// The numbers: q = −ln 2 = −0.6931471805599453, r = −ln 198.
	want := []string{
		`{"task":"arc","doc_id":0,"target":0,"loglikelihoods":[-0.6931471805599453,-5.288267030694535],"is_greedy":[true,false],"acc":1,"acc_norm":1}`,
		`{"task":"arc","doc_id":1,"target":0,"loglikelihoods":[-0.6931471805599453],"is_greedy":[true],"acc":1,"acc_norm":1}`,
		`{"task":"wiki","doc_id":0,"loglikelihood":-11.269681241949016,"words":1,"bytes":2,"tokens":3}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("samples:\n%s", buf.String())
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d\n got %s\nwant %s", i, lines[i], want[i])
		}
	}
	// The rolling text is <s> a b: BOS→<s> r, <s>→a r, a→b q.
	if !near(r, -5.288267030694535) || !near(2*r+q, -11.269681241949016) {
		t.Errorf("the numbers above are stale: q=%v r=%v", q, r)
	}
}

func TestTable(t *testing.T) {
	res := &Results{Tasks: []*TaskResult{
		{Name: "arc_challenge", Metrics: []Metric{
			{Name: "acc", Filter: "none", Value: 0.25, Stderr: 0.0125, HasStderr: true},
			{Name: "acc_norm", Filter: "none", Value: 0.3, Stderr: 0.01, HasStderr: true},
		}},
		{Name: "gsm8k", Metrics: []Metric{
			{Name: "exact_match", Filter: "strict-match", Value: 0.1, Stderr: 0.008, HasStderr: true},
			{Name: "exact_match", Filter: "flexible-extract", Value: 0.12346, Stderr: 0.009, HasStderr: true},
		}},
		{Name: "wikitext", Metrics: []Metric{{Name: "word_perplexity", Filter: "none", Value: 12.5}}},
	}}
	var buf bytes.Buffer
	if err := res.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	want := `|Tasks        |Filter          |Metric         |  Value|   |Stderr|
|-------------|----------------|---------------|------:|---|-----:|
|arc_challenge|none            |acc            | 0.2500|±  |0.0125|
|             |none            |acc_norm       | 0.3000|±  |0.0100|
|gsm8k        |flexible-extract|exact_match    | 0.1235|±  |0.0090|
|             |strict-match    |exact_match    | 0.1000|±  |0.0080|
|wikitext     |none            |word_perplexity|12.5000|±  |   N/A|
`
	if got := buf.String(); got != want {
		t.Errorf("table\n%s\nwant\n%s", got, want)
	}
}
