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
	// Main is the main metric's key; Baseline its random-guess score when
	// HasBaseline (from the header, else the kind's default).
	Main        string
	Baseline    float64
	HasBaseline bool
	// Notes are what eval noticed, such as truncated requests.
	Notes []string
	// Samples holds one log per scored document.
	Samples []Sample
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

// MarshalJSON writes lm-eval's results shape:
//
//	{"results": {TASK: {"alias": TASK, "acc,none": x, "acc_stderr,none": s, ...}},
//	 "n-samples": {TASK: {"original": n, "effective": m}},
//	 "config": {...},
//	 "total_evaluation_time_seconds": "12.5",
//	 "painterc": {TASK: {"kind", "path", "main_metric", "baseline", "notes"}}}
//
// A standard error lm-eval cannot give is "N/A", as there. The "painterc"
// key is ours: what normalizing a score needs, which lm-eval's shape has no
// place for.
func (r *Results) MarshalJSON() ([]byte, error) {
	var res, ns, ours object
	for _, t := range r.Tasks {
		m := object{{"alias", t.Name}}
		for _, x := range t.Metrics {
			m = append(m, Field{x.Key(), x.Value})
			var se any = "N/A"
			if x.HasStderr {
				se = x.Stderr
			}
			m = append(m, Field{x.Name + "_stderr," + x.Filter, se})
		}
		res = append(res, Field{t.Name, m})
		ns = append(ns, Field{t.Name, object{{"original", t.Original}, {"effective", t.Effective}}})
		var base any
		if t.HasBaseline {
			base = t.Baseline
		}
		notes := t.Notes
		if notes == nil {
			notes = []string{}
		}
		ours = append(ours, Field{t.Name, object{{"kind", t.Kind}, {"path", t.Path}, {"main_metric", t.Main}, {"baseline", base}, {"notes", notes}}})
	}
	cfg := r.Config
	if cfg == nil {
		cfg = map[string]any{}
	}
	top := object{
		{"results", orEmpty(res)},
		{"n-samples", orEmpty(ns)},
		{"config", cfg},
		{"total_evaluation_time_seconds", strconv.FormatFloat(r.Seconds, 'f', -1, 64)},
		{"painterc", orEmpty(ours)},
	}
	return top.MarshalJSON()
}

func orEmpty(o object) object {
	if o == nil {
		return object{}
	}
	return o
}

// WriteJSON writes the results as indented JSON, as lm-eval writes its
// results file.
func (r *Results) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
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
