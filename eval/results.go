package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Results is what Run returns: every task's metrics, sample counts and
// per-document logs.
type Results struct {
	Tasks []*TaskResult
	// Config is the caller's description of the run (model, schedule...),
	// written as the JSON's "config".
	Config map[string]any
	// Seconds is the wall time of the whole evaluation.
	Seconds float64
	// Start is when it began (lm-eval's "date", in Unix seconds).
	Start time.Time
	// ModelName and GitHash are Options'; MaxLength is the model's.
	ModelName string
	GitHash   string
	MaxLength int
}

// TaskResult is one task's outcome.
type TaskResult struct {
	Name string
	Kind string
	Path string
	// Metrics in the kind's order (Kind.Metrics).
	Metrics []Metric
	// Original counts the task's documents, Effective those scored (fewer
	// under Options.Limit).
	Original, Effective int
	// Version is the header's "version" (nil: DefaultTaskVersion).
	Version any
	// config is lm-eval's TaskConfig for the task, as its results file's
	// "configs" holds it.
	config object
	// Main is the main metric's key; Baseline its random-guess score when
	// HasBaseline (from the header, else the kind's default).
	Main        string
	Baseline    float64
	HasBaseline bool
	// Notes are what eval noticed, such as truncated requests.
	Notes []string
	// Samples holds one log per scored document.
	Samples []Sample
	// lm holds what lm-eval's evaluator logs per document, for its
	// samples files and task_hashes (nil for a kind lm-eval lacks).
	lm []lmDoc
}

// Metric returns the metric with the given key ("acc,none").
func (r *TaskResult) Metric(key string) (Metric, bool) {
	for _, m := range r.Metrics {
		if m.Key() == key {
			return m, true
		}
	}
	return Metric{}, false
}

// Sample is one document's log: fields in order, written as one JSON
// object. It always starts with "task" and "doc_id".
type Sample []Field

// Field is one key and value of a Sample or JSON object.
type Field struct {
	Key   string
	Value any
}

// Get returns the value of key, or nil.
func (s Sample) Get(key string) any {
	for _, f := range s {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

// MarshalJSON writes the fields in order.
func (s Sample) MarshalJSON() ([]byte, error) { return object(s).MarshalJSON() }

// object is a JSON object that keeps its key order.
type object []Field

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.Key)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(jsonable(f.Value))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f.Key, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// jsonFloat writes a float as JSON, and a non-finite one as the string
// Python's json would write bare ("Infinity", "-Infinity", "NaN"), since
// JSON has no such numbers.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsNaN(x):
		return []byte(`"NaN"`), nil
	case math.IsInf(x, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(x)
}

func jsonable(v any) any {
	switch x := v.(type) {
	case float64:
		return jsonFloat(x)
	case []float64:
		out := make([]jsonFloat, len(x))
		for i, y := range x {
			out[i] = jsonFloat(y)
		}
		return out
	case []float32:
		out := make([]jsonFloat, len(x))
		for i, y := range x {
			out[i] = jsonFloat(y)
		}
		return out
	}
	return v
}

// MarshalJSON writes lm-eval 0.4.13's results file (evaluator.py and
// loggers/evaluation_tracker.py), keys in its order:
//
//	{"results": {TASK: {"name", "alias", "sample_len", "acc,none": x, "acc_stderr,none": s, ...}},
//	 "group_subtasks": {}, "configs": {TASK: {...}}, "versions": {TASK: 1.0},
//	 "n-shot": {TASK: 0}, "higher_is_better": {TASK: {"acc": true}},
//	 "n-samples": {TASK: {"original": n, "effective": m}},
//	 "config": {..., "lm_eval_version": "0.4.13"}, "git_hash", "date",
//	 "lm_eval_version", "max_length", "task_hashes", "model_source",
//	 "model_name", "model_name_sanitized", "total_evaluation_time_seconds",
//	 "painterc": {TASK: {"kind", "path", "main_metric", "baseline", "notes"}}}
//
// Numbers are spelled as Python's json writes them (1.0, not 1), so that
// lm-eval's own code reads the same types back. A standard error lm-eval
// cannot give is "N/A", as there; a non-finite value is the string
// "Infinity", "-Infinity" or "NaN", since JSON has no such numbers. lm-eval
// 0.4.13 keeps start_time and end_time out of the file (they are not
// fields of its config tracker), so eval does too. The "painterc" key is
// ours: what normalizing a score needs, which lm-eval's shape has no place
// for.
func (r *Results) MarshalJSON() ([]byte, error) {
	o, err := r.lmevalObject()
	if err != nil {
		return nil, err
	}
	return pyDumps(o, false)
}

func (r *Results) lmevalObject() (object, error) {
	var res, configs, versions, nshot, hib, ns, hashes, ours object
	for _, t := range r.Tasks {
		m := object{{"name", t.Name}, {"alias", t.Name}, {"sample_len", t.Effective}}
		better := object{}
		for _, x := range t.Metrics {
			m = append(m, Field{x.Key(), finite(x.Value)})
			var se any = "N/A"
			if x.HasStderr {
				se = finite(x.Stderr)
			}
			m = append(m, Field{x.Name + "_stderr," + x.Filter, se})
			if !slices.ContainsFunc(better, func(f Field) bool { return f.Key == x.Name }) {
				better = append(better, Field{x.Name, higherIsBetter[x.Name]})
			}
		}
		res = append(res, Field{t.Name, m})
		cfg := t.config
		if cfg == nil {
			cfg = object{{"task", t.Name}}
		}
		configs = append(configs, Field{t.Name, cfg})
		var v any = DefaultTaskVersion
		if t.Version != nil {
			v = t.Version
		}
		versions = append(versions, Field{t.Name, v})
		nshot = append(nshot, Field{t.Name, 0})
		hib = append(hib, Field{t.Name, better})
		ns = append(ns, Field{t.Name, object{{"original", t.Original}, {"effective", t.Effective}}})
		if t.lm != nil {
			h, err := t.taskHash()
			if err != nil {
				return nil, err
			}
			hashes = append(hashes, Field{t.Name, h})
		}
		var base any
		if t.HasBaseline {
			base = finite(t.Baseline)
		}
		notes := toAny(t.Notes)
		ours = append(ours, Field{t.Name, object{{"kind", t.Kind}, {"path", t.Path}, {"main_metric", t.Main}, {"baseline", base}, {"notes", notes}}})
	}
	cfg := object{}
	keys := make([]string, 0, len(r.Config))
	for k := range r.Config {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, err := pyValue(r.Config[k])
		if err != nil {
			return nil, fmt.Errorf("config %q: %v", k, err)
		}
		cfg = append(cfg, Field{k, v})
	}
	if r.Config["lm_eval_version"] == nil {
		cfg = append(cfg, Field{"lm_eval_version", LMEvalVersion})
	}
	var gitHash any
	if r.GitHash != "" {
		gitHash = r.GitHash
	}
	var date any
	if !r.Start.IsZero() {
		date = float64(r.Start.UnixNano()) / 1e9
	}
	return object{
		{"results", orEmpty(res)},
		{"group_subtasks", object{}},
		{"configs", orEmpty(configs)},
		{"versions", orEmpty(versions)},
		{"n-shot", orEmpty(nshot)},
		{"higher_is_better", orEmpty(hib)},
		{"n-samples", orEmpty(ns)},
		{"config", cfg},
		{"git_hash", gitHash},
		{"date", date},
		{"lm_eval_version", LMEvalVersion},
		{"max_length", r.MaxLength},
		{"task_hashes", orEmpty(hashes)},
		{"model_source", "painterc"},
		{"model_name", r.ModelName},
		{"model_name_sanitized", SanitizeModelName(r.ModelName)},
		{"total_evaluation_time_seconds", strconv.FormatFloat(r.Seconds, 'f', -1, 64)},
		{"painterc", orEmpty(ours)},
	}, nil
}

// higherIsBetter is lm-eval's higher_is_better for each metric eval
// reports.
var higherIsBetter = map[string]bool{
	"acc": true, "acc_norm": true, "exact_match": true,
	"perplexity": false, "word_perplexity": false, "byte_perplexity": false, "bits_per_byte": false,
}

// finite spells a non-finite float as a string (JSON has no such numbers).
func finite(x float64) any {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "Infinity"
	case math.IsInf(x, -1):
		return "-Infinity"
	}
	return x
}

// pyValue turns a caller's config value into one pyDumps writes.
func pyValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, int:
		return x, nil
	case float64:
		return finite(x), nil
	case int64:
		return int(x), nil
	case []string:
		return toAny(x), nil
	}
	return nil, fmt.Errorf("a %T has no place in the results file", v)
}

func orEmpty(o object) object {
	if o == nil {
		return object{}
	}
	return o
}

// WriteJSON writes the results file as lm-eval writes it: json.dumps with
// indent=2 and ensure_ascii=False.
func (r *Results) WriteJSON(w io.Writer) error {
	o, err := r.lmevalObject()
	if err != nil {
		return err
	}
	b, err := pyDumps(o, true)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteSamples writes every task's per-document logs, one JSON object a
// line, tasks in order.
func (r *Results) WriteSamples(w io.Writer) error {
	for _, t := range r.Tasks {
		for _, s := range t.Samples {
			b, err := json.Marshal(s)
			if err != nil {
				return fmt.Errorf("task %s: %v", t.Name, err)
			}
			b = append(b, '\n')
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteTable writes a Markdown table like lm-eval's: one row per metric,
// tasks in order, each task's metrics sorted by key as lm-eval sorts them,
// values and standard errors to four decimals.
func (r *Results) WriteTable(w io.Writer) error {
	rows := [][]string{{"Tasks", "Filter", "Metric", "Value", "", "Stderr"}}
	for _, t := range r.Tasks {
		ms := slices.Clone(t.Metrics)
		slices.SortStableFunc(ms, func(a, b Metric) int { return strings.Compare(a.Key(), b.Key()) })
		name := t.Name
		for _, m := range ms {
			se := "N/A"
			if m.HasStderr {
				se = fmt.Sprintf("%.4f", m.Stderr)
			}
			rows = append(rows, []string{name, m.Filter, m.Name, fmt.Sprintf("%.4f", m.Value), "±", se})
			name = ""
		}
	}
	right := []bool{false, false, false, true, false, true}
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], pyLen(c), 3)
		}
	}
	var b strings.Builder
	line := func(row []string) {
		b.WriteByte('|')
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-pyLen(c))
			if right[i] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
			b.WriteByte('|')
		}
		b.WriteByte('\n')
	}
	line(rows[0])
	b.WriteByte('|')
	for i := range width {
		if right[i] {
			b.WriteString(strings.Repeat("-", width[i]-1) + ":")
		} else {
			b.WriteString(strings.Repeat("-", width[i]))
		}
		b.WriteByte('|')
	}
	b.WriteByte('\n')
	for _, row := range rows[1:] {
		line(row)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DocValues returns each scored document's value of a metric that is a
// mean over documents ("acc,none", "acc_norm,none",
// "exact_match,strict-match"), in document order, from the samples; ok
// is false when the metric is not such a mean or a sample lacks it (a
// perplexity). A paired
// comparison of two variants on the same documents needs these: their
// difference is less noisy than either score.
func (r *TaskResult) DocValues(key string) ([]float64, bool) {
	name, filter, _ := strings.Cut(key, ",")
	if len(r.Samples) == 0 {
		return nil, false
	}
	out := make([]float64, len(r.Samples))
	for i, s := range r.Samples {
		v := s.Get(name)
		if o, ok := v.(object); ok { // per filter, as generate logs exact_match
			v = Sample(o).Get(filter)
		} else if filter != "none" {
			return nil, false
		}
		switch v := v.(type) {
		case float64:
			out[i] = v
		case bool:
			out[i] = b2f(v)
		default:
			return nil, false
		}
	}
	if m, ok := r.Metric(key); !ok || math.Abs(mean(out)-m.Value) > 1e-9 {
		return nil, false // not the mean of the samples' values
	}
	return out, true
}
