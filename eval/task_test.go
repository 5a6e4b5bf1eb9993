package eval

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painterc/painterc/internal/fault"
)

func readTask(t *testing.T, path, content string) *Task {
	t.Helper()
	task, err := ReadTask(path, strings.NewReader(content))
	if err != nil {
		t.Fatalf("ReadTask: %v", err)
	}
	return task
}

func TestLookupKind(t *testing.T) {
	names := []string{}
	for _, k := range All {
		got, err := LookupKind(k.Name)
		if err != nil || got != k {
			t.Errorf("LookupKind(%q) = %v, %v", k.Name, got, err)
		}
		if k.Doc == "" || len(k.Fields) == 0 || len(k.Metrics) == 0 || k.parse == nil || k.run == nil {
			t.Errorf("kind %s is incomplete", k.Name)
		}
		found := false
		for _, m := range k.Metrics {
			found = found || m == k.Main
		}
		if !found {
			t.Errorf("kind %s: main metric %q is not among its metrics %v", k.Name, k.Main, k.Metrics)
		}
		names = append(names, k.Name)
	}
	want := "multiple_choice loglikelihood rolling generate classification"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("kinds = %s, want %s", got, want)
	}
	_, err := LookupKind("mc")
	if want := `unknown task kind "mc": the kinds are multiple_choice, loglikelihood, rolling, generate, classification`; err == nil || err.Error() != want {
		t.Errorf("LookupKind(mc) = %v, want %s", err, want)
	}
}

// Without a header, the kind comes from the first document's fields and
// the name from the file name.
func TestInferKind(t *testing.T) {
	for _, c := range []struct{ doc, kind string }{
		{`{"context": "a", "choices": ["b"], "gold": 0}`, "multiple_choice"},
		{`{"context": "a", "target": "b"}`, "loglikelihood"},
		{`{"text": "a"}`, "rolling"},
		{`{"context": "a", "answer": "b"}`, "generate"},
		// text and label fit rolling too; classification needs more of them.
		{`{"text": "a", "label": 1}`, "classification"},
		{`{"text": "a", "text_pair": "b", "label": 1, "id": 7}`, "classification"},
	} {
		task := readTask(t, "dir/my.task.jsonl", c.doc+"\n")
		if task.Kind.Name != c.kind || task.Name != "my.task" {
			t.Errorf("%s: kind %s name %s, want %s my.task", c.doc, task.Kind.Name, task.Name, c.kind)
		}
		if task.Metric != task.Kind.Main {
			t.Errorf("%s: metric %s, want the kind's main %s", c.doc, task.Metric, task.Kind.Main)
		}
	}
}

func TestHeader(t *testing.T) {
	task := readTask(t, "x.jsonl", `{"task": {"name": "arc", "kind": "multiple_choice", "baseline": 0.25, "metric": "acc_norm", "target_delimiter": ": "}}

{"context": "Q", "choices": ["a", "b"], "gold": 1, "extra": [1, 2]}
{"context": "R", "choices": ["c"], "gold": 0}
`)
	if task.Name != "arc" || task.Kind.Name != "multiple_choice" || !task.HasBaseline || task.Baseline != 0.25 || task.Metric != "acc_norm,none" || task.mc.delimiter != ": " {
		t.Errorf("header read as %+v", task)
	}
	if len(task.Docs) != 2 || task.Docs[0].Line != 3 || task.Docs[1].Line != 4 || task.Docs[0].Gold != 1 {
		t.Errorf("docs = %+v", task.Docs)
	}
	// A header without a kind: the kind comes from the first document, and
	// the header's options are checked against it.
	task = readTask(t, "g.jsonl", `{"task": {"max_gen_toks": 3}}
{"context": "Q", "answer": "#### 1"}
`)
	if task.Kind.Name != "generate" || task.gen.maxGenToks != 3 || task.Name != "g" {
		t.Errorf("kindless header read as %+v", task)
	}
	if task.HasBaseline {
		t.Error("no baseline given, but HasBaseline")
	}
	// A byte-order mark, CRLF line ends, and a main metric chosen in a
	// header whose kind comes from the first document.
	task = readTask(t, "w.jsonl", "\xef\xbb\xbf{\"task\": {\"metric\": \"bits_per_byte\"}}\r\n{\"text\": \"a\"}\r\n")
	if task.Kind.Name != "rolling" || task.Metric != "bits_per_byte,none" || len(task.Docs) != 1 || task.Docs[0].Text != "a" {
		t.Errorf("BOM/CRLF file read as %+v", task)
	}
}

func TestGenerateDefaults(t *testing.T) {
	task := readTask(t, "g.jsonl", `{"context": "Q", "answer": "#### 1"}`)
	c := task.gen
	if strings.Join(c.until, "|") != "Question:|</s>|<|im_end|>" || c.maxGenToks != 256 || !c.ignoreCase {
		t.Errorf("defaults %+v", c)
	}
	if c.strict.String() != `#### (\-?[0-9\.\,]+)` || c.flexible.String() != `(-?[$0-9.,]{2,})|(-?[0-9]+)` || len(c.ignore) != 4 {
		t.Errorf("default regexes %v %v %v", c.strict, c.flexible, c.ignore)
	}
}

// Every bad input gets an error naming the file, the line and the field.
func TestBadTaskFiles(t *testing.T) {
	const mc = `{"task": {"kind": "multiple_choice"}}` + "\n"
	for _, c := range []struct{ name, content, want string }{
		{"empty", "", "t.jsonl: the file is empty: a task file holds an optional header line and one JSON document per line"},
		{"blank lines", "\n  \n", "t.jsonl: the file is empty: a task file holds an optional header line and one JSON document per line"},
		{"header only", mc, "t.jsonl:1: the header is the only line: the task has no documents"},
		{"malformed", mc + `{"context": "a", "choices": ["b"], "gold": 0}` + "\n" + `{"context": "a",` + "\n", "t.jsonl:3: not a JSON object: unexpected end of JSON input (at byte 16)"},
		{"bad syntax", `{"text": "a"} x`, "t.jsonl:1: not a JSON object: invalid character 'x' after top-level value (at byte 15)"},
		{"not an object", `["a"]`, "t.jsonl:1: not a JSON object: it is a list"},
		{"null line", "null", "t.jsonl:1: not a JSON object: null"},
		{"header not object", `{"task": "mc"}`, `t.jsonl:1: the header's "task" must be an object, not a string`},
		{"unknown kind", `{"task": {"kind": "mcq"}}`, `t.jsonl:1: header: unknown task kind "mcq": the kinds are multiple_choice, loglikelihood, rolling, generate, classification`},
		{"kind not string", `{"task": {"kind": 3}}`, `t.jsonl:1: header: field "kind" must be a string, not a number`},
		{"empty name", `{"task": {"name": ""}}`, `t.jsonl:1: header: field "name" is empty`},
		{"baseline string", `{"task": {"baseline": "0.25"}}`, `t.jsonl:1: header: field "baseline" must be a number, not a string`},
		{"unknown option", `{"task": {"kind": "generate", "untill": ["Q"]}}` + "\n" + `{"context": "", "answer": ""}`, `t.jsonl:1: header: unknown option "untill" for kind generate: its options are name, kind, baseline, metric, description, category, version, until, max_gen_toks, answer_regex, flexible_regex, regexes_to_ignore, ignore_case`},
		{"option for inferred kind", `{"task": {"target_delimiter": ""}}` + "\n" + `{"text": "a"}`, `t.jsonl:1: header: unknown option "target_delimiter" for kind rolling: its options are name, kind, baseline, metric, description, category, version`},
		{"unknown metric", `{"task": {"kind": "rolling", "metric": "acc"}}`, `t.jsonl:1: header: option "metric": rolling reports no metric "acc,none": its metrics are word_perplexity,none, byte_perplexity,none, bits_per_byte,none`},
		{"cannot infer", `{"question": "a"}`, `t.jsonl:1: cannot tell the task kind from the first document's fields: add a header line {"task": {"kind": ...}} or give the fields of one kind: multiple_choice {"context", "choices", "gold"}; multiple_choice {"contexts", "continuation", "gold"}; loglikelihood {"context", "target"}; rolling {"text"}; generate {"context", "answer"}; classification {"text", "label"}`},
		{"ambiguous", `{"context": "a", "target": "b", "answer": "c"}`, `t.jsonl:1: the first document fits the kinds loglikelihood and generate equally well: add a header line {"task": {"kind": ...}}`},
		{"missing field", mc + `{"context": "a", "gold": 0}`, `t.jsonl:2: missing field "choices" (a multiple_choice document has "context", "choices", "gold", or "contexts", "continuation", "gold")`},
		{"partial: missing continuation", mc + `{"contexts": ["a", "b"], "gold": 0}`, `t.jsonl:2: missing field "continuation" (a multiple_choice document has "context", "choices", "gold", or "contexts", "continuation", "gold")`},
		{"partial: both shapes", mc + `{"contexts": ["a", "b"], "continuation": "c", "context": "a", "choices": ["x"], "gold": 0}`, `t.jsonl:2: the document has both "contexts" (partial evaluation) and "context"/"choices": give one shape, context+choices or contexts+continuation`},
		{"partial: empty contexts", mc + `{"contexts": [], "continuation": "c", "gold": 0}`, `t.jsonl:2: field "contexts" is empty: a multiple_choice document needs at least one context`},
		{"partial: empty context", mc + `{"contexts": ["a", ""], "continuation": "c", "gold": 0}`, `t.jsonl:2: field "contexts": context 1 is empty: acc_norm divides by a context's length`},
		{"partial: gold out of range", mc + `{"contexts": ["a", "b"], "continuation": "c", "gold": 2}`, `t.jsonl:2: field "gold" is 2 but there are 2 contexts: it must be 0 to 1`},
		{"page_words negative", `{"text": "a", "page_words": -1}`, `t.jsonl:1: field "page_words" is -1: a count cannot be negative`},
		{"page_bytes not a number", `{"text": "a", "page_bytes": "5"}`, `t.jsonl:1: field "page_bytes" must be an integer, not a string`},
		{"missing on a later line", `{"context": "a", "target": "b"}` + "\n" + `{"context": "a"}`, `t.jsonl:2: missing field "target" (a loglikelihood document has "context", "target")`},
		{"gold out of range", mc + `{"context": "a", "choices": ["b", "c"], "gold": 2}`, `t.jsonl:2: field "gold" is 2 but there are 2 choices: it must be 0 to 1`},
		{"gold negative", mc + `{"context": "a", "choices": ["b", "c"], "gold": -1}`, `t.jsonl:2: field "gold" is -1 but there are 2 choices: it must be 0 to 1`},
		{"gold fraction", mc + `{"context": "a", "choices": ["b", "c"], "gold": 0.5}`, `t.jsonl:2: field "gold" must be an integer, not 0.5`},
		{"gold string", mc + `{"context": "a", "choices": ["b", "c"], "gold": "1"}`, `t.jsonl:2: field "gold" must be an integer, not a string`},
		{"empty choices", mc + `{"context": "a", "choices": [], "gold": 0}`, `t.jsonl:2: field "choices" is empty: a multiple_choice document needs at least one choice`},
		{"empty choice", mc + `{"context": "a", "choices": ["b", ""], "gold": 0}`, `t.jsonl:2: field "choices": choice 1 is empty: acc_norm divides by a choice's length`},
		{"choices not list", mc + `{"context": "a", "choices": "b", "gold": 0}`, `t.jsonl:2: field "choices" must be a list of strings, not a string`},
		{"choice not string", mc + `{"context": "a", "choices": ["b", 3], "gold": 0}`, `t.jsonl:2: field "choices" must be a list of strings: item 1 is a number`},
		{"context null", mc + `{"context": null, "choices": ["b"], "gold": 0}`, `t.jsonl:2: field "context" must be a string, not null`},
		{"text number", `{"text": 5}`, `t.jsonl:1: field "text" must be a string, not a number`},
		{"label negative", `{"text": "a", "label": -1}`, `t.jsonl:1: field "label" is -1: a label is a class index, at least 0`},
		{"label bool", `{"text": "a", "label": true}`, `t.jsonl:1: field "label" must be an integer, not a boolean`},
		{"pair number", `{"text": "a", "label": 0, "text_pair": 1}`, `t.jsonl:1: field "text_pair" must be a string, not a number`},
		{"answer object", `{"context": "a", "answer": {}}`, `t.jsonl:1: field "answer" must be a string, not an object`},
		{"max_gen_toks zero", `{"task": {"kind": "generate", "max_gen_toks": 0}}`, `t.jsonl:1: header: option "max_gen_toks" is 0: it must be at least 1`},
		{"until not list", `{"task": {"kind": "generate", "until": 3}}`, `t.jsonl:1: header: option "until" must be a list of strings, not a number`},
		{"ignore_case string", `{"task": {"kind": "generate", "ignore_case": "yes"}}`, `t.jsonl:1: header: option "ignore_case" must be true or false, not a string`},
		{"lookbehind", `{"task": {"kind": "generate", "answer_regex": "(?<=#### )\\d+"}}`, "t.jsonl:1: header: option \"answer_regex\": \"(?<=#### )\\\\d+\" is not a regular expression Go's RE2 can take (it has no lookaround or backreferences): error parsing regexp: invalid named capture: `(?<=#### )\\d+`"},
		{"backreference", `{"task": {"kind": "generate", "regexes_to_ignore": [",", "(a)\\1"]}}`, "t.jsonl:1: header: option \"regexes_to_ignore\" item 1: \"(a)\\\\1\" is not a regular expression Go's RE2 can take (it has no lookaround or backreferences): error parsing regexp: invalid escape sequence: `\\1`"},
		{"delimiter number", `{"task": {"kind": "multiple_choice", "target_delimiter": 1}}`, `t.jsonl:1: header: field "target_delimiter" must be a string, not a number`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadTask("t.jsonl", strings.NewReader(c.content))
			if err == nil {
				t.Fatalf("no error, want %s", c.want)
			}
			if err.Error() != c.want {
				t.Errorf("error\n got %s\nwant %s", err, c.want)
			}
		})
	}
}

func TestLoadTask(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "lambada.jsonl")
	if err := os.WriteFile(p, []byte(`{"context": "ab", "target": "cd"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	task, err := LoadTask(p)
	if err != nil || task.Name != "lambada" || task.Path != p || len(task.Docs) != 1 {
		t.Fatalf("LoadTask = %+v, %v", task, err)
	}
	if _, err := LoadTask(filepath.Join(dir, "none.jsonl")); err == nil || !strings.Contains(err.Error(), "none.jsonl: no such file") {
		t.Errorf("missing file: %v", err)
	}
}

// tooBig is Run's error for a text whose tokens the model has no logit for.
const tooBig = `task t: t.jsonl:1: encoding "abcd": token id 3 ("a") is past the model's vocabulary of 3 (the tokenizer has 100 ids): the model has no logit for it, so the tokenizer does not belong to this model or the text spells out a token the model lacks`

// Run's own checks: every token the model scores must have a logit.
func TestRunChecks(t *testing.T) {
	task := readTask(t, "t.jsonl", `{"context": "ab", "target": "cd"}`)
	m := newModel(8)
	m.V = 3
	_, err := Run(context.Background(), m, newTok(), []*Task{task}, Options{})
	if want := tooBig; err == nil || err.Error() != want {
		t.Errorf("vocab mismatch: %v, want %s", err, want)
	}
	// More tokenizer ids than logits is no error while the text stays
	// within the model's ids (Gemma 3's tokenizer has one id past its
	// model's 262144, <image_soft_token>).
	m = newModel(8)
	m.V = 90
	if _, err := Run(context.Background(), m, newTok(), []*Task{task}, Options{}); err != nil {
		t.Errorf("tokenizer larger than the model, text inside it: %v", err)
	}
	m = newModel(8)
	_, err = Run(context.Background(), m, newTok(), []*Task{task}, Options{Limit: -1})
	if want := "limit -1: the limit must be at least 0 (0 means every document)"; err == nil || err.Error() != want {
		t.Errorf("negative limit: %v, want %s", err, want)
	}
	// A classifier's outputs are classes, not tokens: no vocabulary check.
	cls := readTask(t, "c.jsonl", `{"text": "a", "label": 0}`)
	m = newModel(8)
	m.V = 3
	if _, err := Run(context.Background(), m, newTok(), []*Task{cls}, Options{}); err != nil {
		t.Errorf("classifier: %v", err)
	}
	m.V = 3
	_, err = Run(context.Background(), m, newTok(), []*Task{cls, task}, Options{})
	if want := tooBig; err == nil || err.Error() != want {
		t.Errorf("vocab mismatch with a classification task first: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, newModel(8), newTok(), []*Task{task}, Options{}); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
	other := readTask(t, "other/t.jsonl", `{"context": "ab", "target": "cd"}`)
	_, err = Run(context.Background(), newModel(8), newTok(), []*Task{task, other}, Options{})
	if want := `two tasks are named t (t.jsonl and other/t.jsonl): results are keyed by name, so give one a header "name"`; err == nil || err.Error() != want {
		t.Errorf("duplicate names: %v, want %s", err, want)
	}
	m = newModel(8)
	// A model with a bigger vocabulary than the tokenizer's is normal
	// (padded embeddings).
	m.V = 128
	if _, err := Run(context.Background(), m, newTok(), []*Task{task}, Options{}); err != nil {
		t.Errorf("padded vocabulary: %v", err)
	}
}

// failingModel is a model whose every LogLikelihood call fails, as ONNX
// Runtime does when it cannot run the graph.
type failingModel struct{ *fakeModel }

func (failingModel) LogLikelihood(context.Context, []LLRequest, Progress) ([]LLResult, error) {
	return nil, errors.New("ORT: node 7 (MatMul): shapes do not match")
}

// TestRunErrorKinds: Run's errors say whose fault they are, so the CLI can
// pick the exit code: the tokenizer of another model and a document the
// model cannot score are input errors, the model failing is a runtime
// error, and the message keeps the task's name.
func TestRunErrorKinds(t *testing.T) {
	task := readTask(t, "t.jsonl", `{"context": "ab", "target": "cd"}`)
	small := newModel(8)
	small.V = 3
	cls := readTask(t, "c.jsonl", "{\"text\": \"a\", \"label\": 0}\n{\"text\": \"b\", \"label\": 5}")
	for _, tc := range []struct {
		name  string
		model Model
		task  *Task
		opts  Options
		kind  fault.Kind
		want  string
	}{
		{"tokenizer of another model", small, task, Options{}, fault.Input, tooBig},
		{"negative limit", newModel(8), task, Options{Limit: -1}, fault.Input, "limit -1: the limit must be at least 0 (0 means every document)"},
		{"label past the model's classes", newModel(8), cls, Options{}, fault.Input, "task c: c.jsonl:2: field \"label\" is 5 but the model has 3 classes: it must be 0 to 2"},
		{"model fails", failingModel{newModel(8)}, task, Options{}, fault.Runtime, "task t: ORT: node 7 (MatMul): shapes do not match"},
	} {
		_, err := Run(context.Background(), tc.model, newTok(), []*Task{tc.task}, tc.opts)
		if err == nil || err.Error() != tc.want || fault.KindOf(err) != tc.kind {
			t.Errorf("%s: error %v (kind %v), want %q of kind %v", tc.name, err, fault.KindOf(err), tc.want, tc.kind)
		}
	}
}

// The example files in testdata, one per kind, load as documented.
func TestExampleFiles(t *testing.T) {
	for _, c := range []struct {
		file, name, kind, metric string
		docs                     int
	}{
		{"arc_tiny.jsonl", "arc_tiny", "multiple_choice", "acc_norm,none", 2},
		{"lambada_tiny.jsonl", "lambada_tiny", "loglikelihood", "acc,none", 2},
		{"wiki_tiny.jsonl", "wiki_tiny", "rolling", "word_perplexity,none", 1},
		{"gsm8k_tiny.jsonl", "gsm8k_tiny", "generate", "exact_match,strict-match", 1},
		{"rte_tiny.jsonl", "rte_tiny", "classification", "acc,none", 2},
	} {
		task, err := LoadTask(filepath.Join("testdata", c.file))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if task.Name != c.name || task.Kind.Name != c.kind || task.Metric != c.metric || len(task.Docs) != c.docs {
			t.Errorf("%s: %s %s %s %d docs, want %s %s %s %d", c.file, task.Name, task.Kind.Name, task.Metric, len(task.Docs), c.name, c.kind, c.metric, c.docs)
		}
	}
}
