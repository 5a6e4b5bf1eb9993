package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/internal/clip"
	"github.com/painterc/painterc/schedule"
)

// Row is one line of results.jsonl: one variant scored on one task.
type Row struct {
	Pass     string
	Params   string
	Schedule string
	Affected int
	Seed     *int64
	Task     string
	// Category is the task file's category ("math", "semantic"), if its
	// header gives one; the report compares categories with it.
	Category string
	// Metrics in the task kind's order.
	Metrics []Value
	// Normalized maps a metric key to (score - baseline) / (identity score
	// - baseline), for the metrics where that makes sense (see Normalize);
	// NaN when the identity scores the baseline itself.
	Normalized []Norm
	// Main is the task's main metric and Baseline its random-guess score
	// (HasBaseline false when the task has none), which Normalized used.
	Main        string
	Baseline    float64
	HasBaseline bool
	// Docs is each document's value of the main metric, in document
	// order, where the main metric is a mean over documents (nil for a
	// perplexity, and for rows stored before painterc kept them): what a
	// paired comparison of two variants on the same documents needs.
	Docs []float64
	// Key is the content hash of what the score depends on (see Key).
	Key string
}

// Value is one metric of a row.
type Value struct {
	Key       string // "acc,none"
	Value     float64
	Stderr    float64
	HasStderr bool // false where lm-eval reports "N/A"; written as null
}

// Norm is one normalized metric.
type Norm struct {
	Key   string
	Value float64
}

// id is what names a row in a sweep: one row per (pass, params, task).
func (r *Row) id() string { return r.Pass + "\x00" + r.Params + "\x00" + r.Task }

// Label is the row's variant as painterc.pass writes it: "skip n=2".
func (r *Row) Label() string {
	if r.Params == "" {
		return r.Pass
	}
	return r.Pass + " " + r.Params
}

// Metric returns the metric with the given key.
func (r *Row) Metric(key string) (Value, bool) {
	for _, m := range r.Metrics {
		if m.Key == key {
			return m, true
		}
	}
	return Value{}, false
}

// NormalizedValue returns the normalized value of a metric.
func (r *Row) NormalizedValue(key string) (float64, bool) {
	for _, m := range r.Normalized {
		if m.Key == key {
			return m.Value, true
		}
	}
	return 0, false
}

// stderrKey is lm-eval's key for a metric's standard error:
// "acc,none" -> "acc_stderr,none".
func stderrKey(key string) string {
	name, filter, _ := strings.Cut(key, ",")
	return name + "_stderr," + filter
}

// values converts a task's eval metrics.
func values(tr *eval.TaskResult) []Value {
	out := make([]Value, len(tr.Metrics))
	for i, m := range tr.Metrics {
		out[i] = Value{Key: m.Key(), Value: m.Value, Stderr: m.Stderr, HasStderr: m.HasStderr}
	}
	return out
}

// Normalizes reports whether a metric is normalized: every metric except
// the perplexities and bits per byte. Those have no random-guess baseline
// on the task's scale (a task's baseline is its main metric's, an accuracy),
// and lower is better, so they stay raw; compare them as they are or plot
// their logarithm.
func Normalizes(key string) bool {
	name, _, _ := strings.Cut(key, ",")
	return !strings.Contains(name, "perplexity") && name != "bits_per_byte"
}

// Normalize fills r.Normalized from the identity's row for the same task:
// (score - baseline) / (identity - baseline) for each metric Normalizes
// accepts, so that 0 is random guessing and 1 the full model (the paper's
// normalization). Without a baseline nothing is normalized.
func Normalize(r *Row, identity *Row) {
	r.Normalized = nil
	if !r.HasBaseline || identity == nil {
		return
	}
	baseline := r.Baseline
	for _, m := range r.Metrics {
		if !Normalizes(m.Key) {
			continue
		}
		id, ok := identity.Metric(m.Key)
		if !ok {
			continue
		}
		v := math.NaN()
		if d := id.Value - baseline; d != 0 {
			v = (m.Value - baseline) / d
		}
		r.Normalized = append(r.Normalized, Norm{Key: m.Key, Value: v})
	}
}

// MarshalJSON writes the row with its keys in a fixed order, so that equal
// rows are equal bytes:
//
//	{"pass":"skip","params":"n=2","schedule":"0-2,6-7","affected":3,"seed":null,
//	 "task":"mc","metrics":{"acc,none":0.5,"acc_stderr,none":0.1},
//	 "normalized":{"acc,none":0.3},"main":"acc,none","baseline":0.25,"key":"..."}
func (r *Row) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	str := func(s string) {
		q, _ := json.Marshal(s)
		b.Write(q)
	}
	b.WriteString(`{"pass":`)
	str(r.Pass)
	b.WriteString(`,"params":`)
	str(r.Params)
	b.WriteString(`,"schedule":`)
	str(r.Schedule)
	b.WriteString(`,"affected":`)
	b.WriteString(strconv.Itoa(r.Affected))
	b.WriteString(`,"seed":`)
	if r.Seed == nil {
		b.WriteString("null")
	} else {
		b.WriteString(strconv.FormatInt(*r.Seed, 10))
	}
	b.WriteString(`,"task":`)
	str(r.Task)
	if r.Category != "" {
		b.WriteString(`,"category":`)
		str(r.Category)
	}
	b.WriteString(`,"metrics":{`)
	for i, m := range r.Metrics {
		if i > 0 {
			b.WriteByte(',')
		}
		str(m.Key)
		b.WriteByte(':')
		b.WriteString(number(m.Value))
		b.WriteByte(',')
		str(stderrKey(m.Key))
		b.WriteByte(':')
		if m.HasStderr {
			b.WriteString(number(m.Stderr))
		} else {
			b.WriteString("null")
		}
	}
	b.WriteString(`},"normalized":{`)
	for i, m := range r.Normalized {
		if i > 0 {
			b.WriteByte(',')
		}
		str(m.Key)
		b.WriteByte(':')
		b.WriteString(number(m.Value))
	}
	b.WriteString(`},"main":`)
	str(r.Main)
	b.WriteString(`,"baseline":`)
	if r.HasBaseline {
		b.WriteString(number(r.Baseline))
	} else {
		b.WriteString("null")
	}
	if len(r.Docs) > 0 {
		b.WriteString(`,"main_docs":[`)
		for i, x := range r.Docs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(number(x))
		}
		b.WriteByte(']')
	}
	b.WriteString(`,"key":`)
	str(r.Key)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// number writes a float as JSON; JSON has no NaN or infinities, so those
// are written as null (NaN: a normalization with no denominator) or as
// Python's bare words in a string, as eval's results JSON does.
func number(x float64) string {
	switch {
	case math.IsNaN(x):
		return "null"
	case math.IsInf(x, 1):
		return `"Infinity"`
	case math.IsInf(x, -1):
		return `"-Infinity"`
	}
	b, _ := json.Marshal(x)
	return string(b)
}

func parseNumber(raw json.RawMessage) (float64, bool, error) {
	s := string(bytes.TrimSpace(raw))
	switch s {
	case "null":
		return math.NaN(), false, nil
	case `"Infinity"`:
		return math.Inf(1), true, nil
	case `"-Infinity"`:
		return math.Inf(-1), true, nil
	case `"NaN"`:
		return math.NaN(), true, nil
	}
	var x float64
	if err := json.Unmarshal(raw, &x); err != nil {
		return 0, false, fmt.Errorf("%s is not a number", clip.String(s))
	}
	return x, true, nil
}

// UnmarshalJSON reads a row written by MarshalJSON, keeping the order of
// the metrics.
func (r *Row) UnmarshalJSON(data []byte) error {
	var f struct {
		Pass       *string         `json:"pass"`
		Params     *string         `json:"params"`
		Schedule   *string         `json:"schedule"`
		Affected   *int            `json:"affected"`
		Seed       *int64          `json:"seed"`
		Task       *string         `json:"task"`
		Category   string          `json:"category"`
		Metrics    json.RawMessage `json:"metrics"`
		Normalized json.RawMessage `json:"normalized"`
		Main       string          `json:"main"`
		Baseline   json.RawMessage `json:"baseline"`
		Docs       []float64       `json:"main_docs"`
		Key        *string         `json:"key"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	// In the order the row is written, so the error names the first
	// missing field, the same one every time.
	for _, field := range []struct {
		name string
		p    *string
	}{{"pass", f.Pass}, {"params", f.Params}, {"schedule", f.Schedule}, {"task", f.Task}, {"key", f.Key}} {
		if field.p == nil {
			return fmt.Errorf("no %q", field.name)
		}
	}
	if f.Affected == nil {
		return errors.New(`no "affected"`)
	}
	switch {
	case *f.Pass == "":
		return errors.New(`"pass" is empty`)
	case *f.Task == "":
		return errors.New(`"task" is empty`)
	case *f.Affected < 0:
		return fmt.Errorf(`"affected" is %d: want a number of blocks, 0 or more`, *f.Affected)
	}
	if *f.Schedule != "" {
		// The report sizes T by the blocks the schedules run.
		if _, err := schedule.Parse(*f.Schedule); err != nil {
			var pe *schedule.ParseError
			if errors.As(err, &pe) {
				return fmt.Errorf(`"schedule" is %s: column %d: %s`, clip.Quote(*f.Schedule), pe.Col, clip.String(pe.Msg))
			}
			return fmt.Errorf(`"schedule" is %s: %s`, clip.Quote(*f.Schedule), clip.String(err.Error()))
		}
	}
	*r = Row{Pass: *f.Pass, Params: *f.Params, Schedule: *f.Schedule, Affected: *f.Affected, Seed: f.Seed, Task: *f.Task, Category: f.Category, Main: f.Main, Docs: f.Docs, Key: *f.Key}
	if len(f.Baseline) > 0 {
		x, ok, err := parseNumber(f.Baseline)
		if err != nil {
			return fmt.Errorf("baseline: %v", err)
		}
		if ok {
			r.Baseline, r.HasBaseline = x, true
		}
	}
	metrics, err := orderedObject(f.Metrics)
	if err != nil {
		return fmt.Errorf("metrics: %v", err)
	}
	stderr := map[string]json.RawMessage{}
	for _, kv := range metrics {
		if strings.Contains(kv.key, "_stderr,") {
			stderr[kv.key] = kv.value
		}
	}
	for _, kv := range metrics {
		if strings.Contains(kv.key, "_stderr,") {
			continue
		}
		x, _, err := parseNumber(kv.value)
		if err != nil {
			return fmt.Errorf("metrics %s: %v", clip.Quote(kv.key), err)
		}
		v := Value{Key: kv.key, Value: x}
		if raw, ok := stderr[stderrKey(kv.key)]; ok {
			if v.Stderr, v.HasStderr, err = parseNumber(raw); err != nil {
				return fmt.Errorf("metrics %s: %v", clip.Quote(stderrKey(kv.key)), err)
			}
			if !v.HasStderr {
				v.Stderr = 0
			}
		}
		r.Metrics = append(r.Metrics, v)
	}
	norm, err := orderedObject(f.Normalized)
	if err != nil {
		return fmt.Errorf("normalized: %v", err)
	}
	for _, kv := range norm {
		x, _, err := parseNumber(kv.value)
		if err != nil {
			return fmt.Errorf("normalized %s: %v", clip.Quote(kv.key), err)
		}
		r.Normalized = append(r.Normalized, Norm{Key: kv.key, Value: x})
	}
	return nil
}

type keyValue struct {
	key   string
	value json.RawMessage
}

// orderedObject reads a JSON object's members in order.
func orderedObject(raw json.RawMessage) ([]keyValue, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var out []keyValue
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, keyValue{k, v})
	}
	return out, nil
}

// encodeRow is the row's line in results.jsonl, newline included.
func encodeRow(r *Row) []byte {
	b, _ := r.MarshalJSON()
	return append(b, '\n')
}
