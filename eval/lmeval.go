package eval

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// LMEvalVersion is the lm-evaluation-harness release eval conforms to (the
// one `make pyenv` pins): its request forming, its metrics, its results
// file and its samples files. Every results file records it.
const LMEvalVersion = "0.4.13"

// DefaultTaskVersion is a task's "versions" entry when its header gives no
// "version": lm-eval's task YAMLs declare `metadata: version: 1.0`.
const DefaultTaskVersion = 1.0

// lmDoc is what lm-eval's evaluator logs for one document: the document,
// its target, each request's arguments and responses, and per filter the
// filtered responses and the metrics (evaluator.py's `example`).
type lmDoc struct {
	doc     pyDoc
	target  any     // doc_to_target: gold's index, a target text, an answer
	args    [][]any // one list of arguments per request
	resps   []any   // one list of responses per request
	filters []lmFilter
}

type lmFilter struct {
	name     string
	filtered []any
	metrics  object // process_results' dict, in its order
}

// llResp is a loglikelihood response as lm-eval logs it, str()-ed.
func llResp(r LLResult) pyTuple {
	return pyTuple{pyStr(r.LogLikelihood), pyStr(r.IsGreedy)}
}

// sampleHashes are lm-eval's doc_hash, prompt_hash and target_hash of one
// logged document: the SHA-256 of json.dumps(doc, indent=2), of the first
// request's first argument, and of str(target).
func (d *lmDoc) hashes() (doc, prompt, target string, err error) {
	b, err := pyDumps(d.doc, true)
	if err != nil {
		return "", "", "", err
	}
	return hashString(string(b)), hashString(pyStr(d.args[0][0])), hashString(pyStr(d.target)), nil
}

// taskHash is lm-eval's task_hashes entry: the hash of every logged line's
// three hashes, concatenated in the lines' order (every document under
// the first filter, then under the next).
func (t *TaskResult) taskHash() (string, error) {
	var all strings.Builder
	for f := range t.lmFilters() {
		for i := range t.lm {
			dh, ph, th, err := t.lm[i].hashes()
			if err != nil {
				return "", fmt.Errorf("task %s: document %d: %v", t.Name, i, err)
			}
			if f < len(t.lm[i].filters) {
				all.WriteString(dh + ph + th)
			}
		}
	}
	return hashString(all.String()), nil
}

// lmFilters is the number of filters the task's documents went through.
func (t *TaskResult) lmFilters() int {
	if len(t.lm) == 0 {
		return 0
	}
	return len(t.lm[0].filters)
}

// WriteLMEvalSamples writes the task's lm-eval samples file (what lm-eval
// writes as samples_{task}_{date}.jsonl with --log_samples): one line per
// document and filter, every document under the first filter and then
// under the next (evaluator.py loops over filters outside documents), with doc_id, doc, target, arguments, resps,
// filtered_resps, filter, metrics, doc_hash, prompt_hash, target_hash and
// the metric values, spelled as Python's json.dumps spells them.
func (t *TaskResult) WriteLMEvalSamples(w io.Writer) error {
	var b bytes.Buffer
	for fi := range t.lmFilters() {
		for i := range t.lm {
			if err := t.lm[i].writeLine(&b, i, fi); err != nil {
				return fmt.Errorf("task %s: document %d: %v", t.Name, i, err)
			}
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeLine writes document i's line under filter fi.
func (d *lmDoc) writeLine(b *bytes.Buffer, i, fi int) error {
	dh, ph, th, err := d.hashes()
	if err != nil {
		return err
	}
	args := object{}
	for j, a := range d.args {
		arg := object{}
		for k, x := range a {
			arg = append(arg, Field{fmt.Sprintf("arg_%d", k), x})
		}
		args = append(args, Field{fmt.Sprintf("gen_args_%d", j), arg})
	}
	f := d.filters[fi]
	names := make([]any, len(f.metrics))
	for k, m := range f.metrics {
		names[k] = m.Key
	}
	line := object{
		{"doc_id", i}, {"doc", d.doc}, {"target", pyStr(d.target)}, {"arguments", args},
		{"resps", d.resps}, {"filtered_resps", f.filtered}, {"filter", f.name}, {"metrics", names},
		{"doc_hash", dh}, {"prompt_hash", ph}, {"target_hash", th},
	}
	s, err := pyDumps(append(line, f.metrics...), false)
	if err != nil {
		return err
	}
	b.Write(s)
	b.WriteByte('\n')
	return nil
}

// LMEvalSamplesName is the file name lm-eval gives a task's samples:
// samples_{task}_{date}.jsonl, date as its results file's (an ISO time
// with ':' replaced by '-').
func LMEvalSamplesName(task, date string) string {
	return fmt.Sprintf("samples_%s_%s.jsonl", task, date)
}

// SanitizeModelName is lm-eval's sanitize_model_name, which names the
// folder its files go to.
func SanitizeModelName(name string) string {
	return modelNameRE.ReplaceAllString(name, "__")
}

var modelNameRE = regexp.MustCompile(`["<>:/|\\?*\[\]]+`)

// lmevalConfig is the task as an lm-eval TaskConfig, the shape of its
// results file's "configs" entries: the fields that say how the task was
// scored (the task file stands for the dataset; no few-shot).
func (t *Task) lmevalConfig() object {
	metric := func(name, agg string) object {
		return object{{"metric", name}, {"aggregation", agg}, {"higher_is_better", higherIsBetter[name]}}
	}
	c := object{{"task", t.Name}, {"dataset_path", t.Path}}
	var metrics []any
	switch t.Kind {
	case multipleChoiceKind:
		c = append(c, Field{"output_type", "multiple_choice"}, Field{"target_delimiter", t.mc.delimiter})
		metrics = []any{metric("acc", "mean"), metric("acc_norm", "mean")}
	case loglikelihoodKind:
		c = append(c, Field{"output_type", "loglikelihood"}, Field{"target_delimiter", ""})
		metrics = []any{metric("perplexity", "perplexity"), metric("acc", "mean")}
	case rollingKind:
		c = append(c, Field{"output_type", "loglikelihood_rolling"})
		metrics = []any{metric("word_perplexity", "weighted_perplexity"), metric("byte_perplexity", "weighted_perplexity"), metric("bits_per_byte", "bits_per_byte")}
	case generateKind:
		g := t.gen
		ignore := make([]any, len(g.ignore))
		for i, re := range g.ignore {
			ignore[i] = re.String()
		}
		m := metric("exact_match", "mean")
		m = append(m, Field{"ignore_case", g.ignoreCase}, Field{"ignore_punctuation", false}, Field{"regexes_to_ignore", ignore})
		metrics = []any{m}
		c = append(c, Field{"output_type", "generate_until"},
			Field{"generation_kwargs", object{{"until", toAny(g.until)}, {"do_sample", false}, {"temperature", 0.0}, {"max_gen_toks", g.maxGenToks}}},
			Field{"filter_list", []any{
				object{{"name", "strict-match"}, {"filter", []any{object{{"function", "regex"}, {"regex_pattern", g.strict.String()}}, object{{"function", "take_first"}}}}},
				object{{"name", "flexible-extract"}, {"filter", []any{object{{"function", "regex"}, {"group_select", -1}, {"regex_pattern", g.flexible.String()}}, object{{"function", "take_first"}}}}},
			}})
	default:
		c = append(c, Field{"output_type", t.Kind.Name})
		metrics = []any{metric("acc", "mean")}
	}
	var version any = DefaultTaskVersion
	if t.Version != nil {
		version = t.Version
	}
	return append(c, Field{"num_fewshot", 0}, Field{"metric_list", metrics}, Field{"repeats", 1},
		Field{"should_decontaminate", false}, Field{"metadata", object{{"version", version}}})
}
