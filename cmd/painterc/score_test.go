package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
	"github.com/painterc/painterc/tokenizer"
)

// scoreWords is the vocabulary of the word-level tokenizer the score tests
// use: every word one id, so the expected requests can be read off the text.
var scoreWords = []string{"<s>", "</s>", "<unk>", "the", "cat", "dog", "sat", "ran", "on", "mat", "rug", "a", "big", "small", "bird", "flew"}

// writeScoreFixture writes a Llama testmodel with a word-level
// tokenizer.json beside it and a multiple-choice task, and returns the
// model's path and the task's.
func writeScoreFixture(t *testing.T, spec testmodels.Spec) (model, task string) {
	t.Helper()
	return writeScoreFixtureIn(t, t.TempDir(), spec)
}

// writeScoreFixtureIn is writeScoreFixture into dir (model.onnx, its
// tokenizer files and mc.jsonl).
func writeScoreFixtureIn(t *testing.T, dir string, spec testmodels.Spec) (model, task string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	model = writeModel(t, filepath.Join(dir, "model.onnx"), spec)
	vocab := map[string]int{}
	for i, w := range scoreWords {
		vocab[w] = i
	}
	tj := map[string]any{
		"version": "1.0",
		"added_tokens": []map[string]any{
			{"id": 0, "content": "<s>", "special": true, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
			{"id": 1, "content": "</s>", "special": true, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
		},
		"normalizer":    nil,
		"pre_tokenizer": map[string]any{"type": "WhitespaceSplit"},
		"post_processor": map[string]any{"type": "TemplateProcessing",
			"single":         []any{map[string]any{"SpecialToken": map[string]any{"id": "<s>", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}},
			"pair":           []any{map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "B", "type_id": 1}}},
			"special_tokens": map[string]any{"<s>": map[string]any{"id": "<s>", "ids": []int{0}, "tokens": []string{"<s>"}}}},
		"decoder": map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": false},
		"model":   map[string]any{"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"},
	}
	data, err := json.Marshal(tj)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := `{"bos_token": "<s>", "eos_token": "</s>"}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	task = filepath.Join(dir, "mc.jsonl")
	docs := `{"task": {"name": "mc", "kind": "multiple_choice"}}
{"context": "the cat sat on the", "choices": ["mat", "rug", "big dog"], "gold": 0}
{"context": "a small bird", "choices": ["flew", "ran on the mat"], "gold": 1}
{"context": "", "choices": ["the dog ran", "cat"], "gold": 0}
`
	if err := os.WriteFile(task, []byte(docs), 0o644); err != nil {
		t.Fatal(err)
	}
	return model, task
}

// referenceLogLik is the oracle: the plain-Go forward pass of the model in
// schedule sched on the tokens of context+continuation, with the log-softmax
// in float64, summed over the continuation's positions.
func referenceLogLik(t *testing.T, spec testmodels.Spec, sched schedule.Schedule, ctx, cont []int) float64 {
	t.Helper()
	seq := append(append([]int(nil), ctx...), cont...)
	in := seq[:len(seq)-1]
	n := int64(len(in))
	ids, mask, pos := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, id := range in {
		ids[i], mask[i], pos[i] = int64(id), 1, int64(i)
	}
	feeds := map[string]testmodels.Tensor{
		"input_ids":      {Shape: []int64{1, n}, Int: ids},
		"attention_mask": {Shape: []int64{1, n}, Int: mask},
		"position_ids":   {Shape: []int64{1, n}, Int: pos},
	}
	if spec.KVCache { // empty pasts
		full, err := spec.WithDefaults()
		if err != nil {
			t.Fatal(err)
		}
		for k := range testmodels.Instances(sched) {
			for _, kind := range []string{"key", "value"} {
				feeds[fmt.Sprintf("past_key_values.%d.%s", k, kind)] = testmodels.Tensor{
					Shape: []int64{1, int64(full.KVHeads), 0, int64(full.HeadDim())}, Float: []float32{}}
			}
		}
	}
	out, err := testmodels.Reference(spec, sched, feeds)
	if err != nil {
		t.Fatal(err)
	}
	logits := out["logits"]
	V := int(logits.Shape[2])
	ll := 0.0
	for k := len(ctx) - 1; k < len(in); k++ {
		row := logits.Float[k*V : (k+1)*V]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		sum := 0.0
		for _, v := range row {
			sum += math.Exp(float64(v) - mx)
		}
		ll += float64(row[seq[k+1]]) - mx - math.Log(sum)
	}
	return ll
}

// TestScoreMatchesReference scores a multiple-choice task with painterc
// score, on the model and on a variant compiled in memory, and checks each
// choice's log-likelihood against the plain-Go reference forward pass,
// and acc against the argmax of those reference values; for the
// TorchScript-style Llama and its genai and dynamo layouts.
func TestScoreMatchesReference(t *testing.T) {
	orttest.Require(t)
	for _, spec := range []testmodels.Spec{
		{Family: testmodels.Llama, Layers: 4, Vocab: len(scoreWords), Seed: 11},
		// The genai builder and torch dynamo layouts compute the same
		// function from the same weights (docs/layouts.md).
		{Family: testmodels.Llama, GenAI: true, KVCache: true, Layers: 4, Vocab: len(scoreWords), Seed: 11},
		{Family: testmodels.Llama, Dynamo: true, Layers: 4, Vocab: len(scoreWords), Seed: 11},
	} {
		scoreMatchesReference(t, spec)
	}
}

func scoreMatchesReference(t *testing.T, spec testmodels.Spec) {
	t.Helper()
	model, task := writeScoreFixture(t, spec)
	tok, err := tokenizer.Load(filepath.Join(filepath.Dir(model), "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	encode := func(s string) []int {
		ids, err := tok.Encode(s, true)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	type doc struct {
		ctx     string
		choices []string
	}
	docs := []doc{{"the cat sat on the", []string{"mat", "rug", "big dog"}}, {"a small bird", []string{"flew", "ran on the mat"}}, {"", []string{"the dog ran", "cat"}}}
	for _, v := range []struct {
		flags []string
		sched string
	}{
		{nil, "0-3"},
		{[]string{"--schedule=0,[1-2]x2,3"}, "0,[1-2]x2,3"},
		{[]string{"--pass=reverse", "--n=0"}, "0,3-1"},
	} {
		sched, err := schedule.Parse(v.sched)
		if err != nil {
			t.Fatal(err)
		}
		samples := filepath.Join(t.TempDir(), "samples.jsonl")
		args := append([]string{"score", model, "--task", task, "--log-samples", samples, "--output", filepath.Join(t.TempDir(), "r.json")}, v.flags...)
		r := cli(t, args...)
		mustSucceed(t, r)
		if !strings.Contains(r.stdout, "|mc   |none  |acc     |") {
			t.Errorf("%s: table:\n%s", v.sched, r.stdout)
		}
		f, err := os.Open(samples)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for i := 0; sc.Scan(); i++ {
			var s struct {
				DocID int       `json:"doc_id"`
				LLs   []float64 `json:"loglikelihoods"`
				Acc   float64   `json:"acc"`
			}
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				t.Fatal(err)
			}
			d := docs[s.DocID]
			best, bestLL := -1, math.Inf(-1)
			for c, choice := range d.choices {
				// lm-eval's requests: the joint encoding minus the context's;
				// an empty context is [BOS] and the choice is encoded alone.
				var ctx, cont []int
				if d.ctx == "" {
					ctx, cont = []int{0}, encode(choice)[1:]
				} else {
					ctx = encode(d.ctx)
					cont = encode(d.ctx + " " + choice)[len(ctx):]
				}
				want := referenceLogLik(t, spec, sched, ctx, cont)
				if math.Abs(s.LLs[c]-want) > 1e-4 {
					t.Errorf("%s doc %d choice %q: log-likelihood %.6f, reference %.6f", v.sched, s.DocID, choice, s.LLs[c], want)
				}
				if want > bestLL {
					best, bestLL = c, want
				}
			}
			gold := map[int]int{0: 0, 1: 1, 2: 0}[s.DocID]
			if wantAcc := map[bool]float64{true: 1, false: 0}[best == gold]; s.Acc != wantAcc {
				t.Errorf("%s doc %d: acc %v, want %v", v.sched, s.DocID, s.Acc, wantAcc)
			}
		}
		f.Close()
	}
}

// TestScoreBadInput: each mistake is named before any scoring happens.
func TestScoreBadInput(t *testing.T) {
	spec := testmodels.Spec{Family: testmodels.Llama, Layers: 2, Vocab: len(scoreWords)}
	model, task := writeScoreFixture(t, spec)
	dir := filepath.Dir(model)
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"context": "the", "choices": ["cat"], "gold": 3}`+"\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"score", model}, exitUsage, "no task: add --task FILE.jsonl (see docs/tasks.md)"},
		{[]string{"score", model, "--task", bad}, exitUsage, bad + ":1: field \"gold\" is 3 but there are 1 choices: it must be 0 to 0"},
		{[]string{"score", model, "--task", task, "--tokenizer", filepath.Join(dir, "none.json")}, exitUsage, "none.json"},
		{[]string{"score", model, "--task", task, "--output", filepath.Join(dir, "no", "r.json")}, exitOutput, "--output " + filepath.Join(dir, "no", "r.json") + ": cannot create files in " + filepath.Join(dir, "no")},
		{[]string{"score", model, "--task", task, "--pass=skip-one"}, exitSchedule, "skip-one needs --index I"},
	} {
		r := cli(t, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args[2:], r.code, r.stderr, tc.code, tc.want)
		}
	}
}

// TestScoreTokenizerOfAnotherModel: a tokenizer whose text holds ids past
// the model's vocabulary belongs to another model. That is the user's
// input to fix, so score exits 2 (usage), not 7 (runtime): the exit code
// comes from the kind eval gives the error. The refusal names the first
// such token (a tokenizer merely larger than the model, as Gemma 3's, is
// no error: eval's TestRunChecks).
func TestScoreTokenizerOfAnotherModel(t *testing.T) {
	orttest.Require(t)
	model, task := writeScoreFixture(t, testmodels.Spec{Family: testmodels.Llama, Layers: 2, Vocab: 8})
	r := cli(t, "score", model, "--task", task)
	want := fmt.Sprintf("mc.jsonl:2: encoding \"the cat sat on the mat\": token id 8 (\"on\") is past the model's vocabulary of 8 (the tokenizer has %d ids): the model has no logit for it, so the tokenizer does not belong to this model or the text spells out a token the model lacks\n", len(scoreWords))
	if r.code != exitUsage || !strings.HasSuffix(r.stderr, want) {
		t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, exitUsage, want)
	}
}
