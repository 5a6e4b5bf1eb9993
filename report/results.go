package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/painterc/painterc/internal/clip"
	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/plot"
	"github.com/painterc/painterc/schedule"
)

// Result is one line of a sweep's results.jsonl: a variant (a pass with
// its parameters, compiled to a schedule affecting Affected blocks, with a
// seed) scored on one task. Metrics are the raw scores, Normalized the
// scores rescaled so 0 = random guessing and 1 = the full model, both
// keyed "metric,filter" as lm-evaluation-harness does ("acc,none").
// Category is optional (see Category).
type Result struct {
	Pass       string             `json:"pass"`
	Params     json.RawMessage    `json:"params"`
	Schedule   string             `json:"schedule"`
	Affected   int                `json:"affected"`
	Seed       int64              `json:"seed"`
	Task       string             `json:"task"`
	Category   string             `json:"category"`
	Main       string             `json:"main"`
	Metrics    map[string]float64 `json:"-"`
	Normalized map[string]float64 `json:"-"`
	Key        string             `json:"key"`
	Line       int                `json:"-"`
}

// ReadResults reads a results.jsonl: one JSON object per line, blank lines
// ignored. Only pass, task and normalized are required. Metric values that
// are not numbers (null, "N/A") are left out. When several lines carry the
// same non-empty key for the same pass, seed and task, the last one wins,
// so a resumed sweep that appends a re-run supersedes the old line. (The
// sweep's key is a content hash of the schedule, so variants of different
// passes that run the same schedule share it and stay separate rows.)
func ReadResults(path string) ([]Result, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readResults(path, f)
}

func readResults(path string, r io.Reader) ([]Result, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var out []Result
	type rowID struct {
		key, pass, task string
		seed            int64
	}
	byKey := map[rowID]int{}
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var res Result
		var raw struct {
			Metrics    map[string]json.RawMessage `json:"metrics"`
			Normalized map[string]json.RawMessage `json:"normalized"`
		}
		if err := json.Unmarshal(b, &res); err != nil {
			return nil, fmt.Errorf("%s:%d: not a result row: %s", path, line, clip.String(err.Error()))
		}
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, fmt.Errorf("%s:%d: not a result row: %s", path, line, clip.String(err.Error()))
		}
		res.Line = line
		res.Metrics, res.Normalized = numbers(raw.Metrics), numbers(raw.Normalized)
		switch {
		case res.Pass == "":
			return nil, fmt.Errorf("%s:%d: the row has no \"pass\"", path, line)
		case res.Task == "":
			return nil, fmt.Errorf("%s:%d: the row has no \"task\"", path, line)
		}
		if err := checkResult(&res); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		id := rowID{res.Key, res.Pass, res.Task, res.Seed}
		if i, ok := byKey[id]; ok && res.Key != "" {
			out[i] = res
			continue
		}
		if res.Key != "" {
			byKey[id] = len(out)
		}
		out = append(out, res)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %v", path, line+1, err)
	}
	return out, nil
}

func numbers(m map[string]json.RawMessage) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		var x float64
		if json.Unmarshal(v, &x) == nil && !math.IsNaN(x) {
			out[k] = x
		}
	}
	return out
}

// ParamMap returns the row's parameters as key=value pairs. params may be
// a JSON object ({"n": 7, "loops": 3}) or a string ("n=7 loops=3");
// anything else gives none.
func (r Result) ParamMap() map[string]string {
	out := map[string]string{}
	var s string
	if json.Unmarshal(r.Params, &s) == nil {
		for _, f := range strings.Fields(s) {
			if k, v, ok := strings.Cut(f, "="); ok {
				out[k] = v
			}
		}
		return out
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(r.Params, &obj) == nil {
		for k, v := range obj {
			var str string
			if json.Unmarshal(v, &str) == nil {
				out[k] = str
			} else {
				out[k] = string(bytes.TrimSpace(v))
			}
		}
	}
	return out
}

// positional are the parameters that say where a pass acts or how it is
// seeded, not which variant of it runs: they do not make a separate line.
var positional = map[string]bool{"n": true, "layers": true, "seed": true, "index": true}

// Variant is the row's parameters that name a variant of its pass
// ("loops=3"), sorted, without n, layers, seed and index.
func (r Result) Variant() string {
	var kv []string
	for k, v := range r.ParamMap() {
		if !positional[k] {
			kv = append(kv, k+"="+v)
		}
	}
	sort.Strings(kv)
	return strings.Join(kv, " ")
}

// Score is the row's normalized score of the task's main metric: the
// row's "main" when it is normalized, else the only key of Normalized or,
// when there are several, the first in sorted order (metric says which; ok
// is false when there is none).
func (r Result) Score() (score float64, metric string, ok bool) {
	if len(r.Normalized) == 0 {
		return 0, "", false
	}
	if s, ok := r.Normalized[r.Main]; ok && r.Main != "" {
		return s, r.Main, true
	}
	keys := make([]string, 0, len(r.Normalized))
	for k := range r.Normalized {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return r.Normalized[keys[0]], keys[0], true
}

// Blocks returns the blocks the row's schedule runs, in order, or nil when
// it has none or it does not parse.
func (r Result) Blocks() []int {
	if r.Schedule == "" {
		return nil
	}
	s, err := schedule.Parse(r.Schedule)
	if err != nil {
		return nil
	}
	return s.Instances()
}

// Rows converts results to plot rows, leaving out those with no
// normalized score.
func Rows(results []Result) []plot.Row {
	var out []plot.Row
	for _, r := range results {
		s, _, ok := r.Score()
		if !ok {
			continue
		}
		out = append(out, plot.Row{Pass: r.Pass, Variant: r.Variant(), Affected: r.Affected, Seed: r.Seed, Task: r.Task, Score: s})
	}
	return out
}

// BlockCount infers T, the model's number of blocks, as the largest block
// index any row's schedule runs, plus one (every paper pass runs the last
// block). It returns 0 when no schedule parses.
func BlockCount(results []Result) int {
	T := 0
	for _, r := range results {
		for _, b := range r.Blocks() {
			T = max(T, b+1)
		}
	}
	return T
}

// Category says whether a task is "math" (math and reasoning: the paper
// finds these the most order-sensitive) or "semantic", or "" when neither.
// A row's own "category" field decides when set (the sweep may copy it
// from the task file's header); otherwise the task's name does: names
// containing gsm8k, math (mathqa too), arc, mmlu or asdiv are math, names
// containing lambada, hellaswag, winogrande, piqa, wiki, rte, sst, boolq
// or copa are semantic.
func Category(r Result) string {
	switch c := strings.ToLower(r.Category); c {
	case "math", "reasoning", "math/reasoning":
		return "math"
	case "semantic":
		return "semantic"
	case "":
	default:
		return ""
	}
	return categoryOf(r.Task)
}

var (
	mathNames     = []string{"gsm8k", "math", "arc", "mmlu", "asdiv"}
	semanticNames = []string{"lambada", "hellaswag", "winogrande", "piqa", "wiki", "rte", "sst", "boolq", "copa"}
)

func categoryOf(task string) string {
	t := strings.ToLower(task)
	for _, n := range mathNames {
		if strings.Contains(t, n) {
			return "math"
		}
	}
	for _, n := range semanticNames {
		if strings.Contains(t, n) {
			return "semantic"
		}
	}
	return ""
}

// fmtNum prints a score with three decimals.
func fmtNum(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}
