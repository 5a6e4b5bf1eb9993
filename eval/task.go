package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/painterc/painterc/internal/clip"
	"github.com/painterc/painterc/internal/safeio"
)

// Task is a parsed task file.
type Task struct {
	Name string
	Kind *Kind
	Path string
	// Baseline is the random-guess score of the main metric, used to
	// normalize (0 = random guessing, 1 = the full model). HasBaseline is
	// false when the header gives none; Run then uses the kind's default
	// (see docs/tasks.md), if it has one.
	Baseline    float64
	HasBaseline bool
	// Metric is the main metric's key, "name,filter".
	Metric string
	// Description and Category are the header's, if any.
	Description, Category string
	// Version is the header's "version" (a number or a string), lm-eval's
	// task version; nil when it gives none.
	Version any
	// Options holds the header's kind-specific options as written.
	Options map[string]json.RawMessage
	Docs    []Doc

	// Kind-specific settings, filled by the kind's configure.
	mc  mcConfig
	gen genConfig
}

// Doc is one document of a task file. Which fields are set depends on the
// kind.
type Doc struct {
	Line int // the line of the file it came from, from 1
	// Raw is the line as written: lm-eval's samples log the document and
	// hash it as the datasets library reads it, keys in the file's order.
	Raw []byte

	Context string   // multiple_choice, loglikelihood, generate
	Choices []string // multiple_choice (the contexts, for partial evaluation)
	// Contexts and Continuation are a partial-evaluation multiple_choice
	// document's (WinoGrande): option i is (Contexts[i], delimiter +
	// Continuation). Contexts is nil for the context+choices shape.
	Contexts     []string
	Continuation string
	Gold         int    // multiple_choice
	Target       string // loglikelihood
	Text         string // rolling, classification
	// Words and Bytes are a rolling document's page_words and page_bytes,
	// the counts its perplexities divide by, when HasWords and HasBytes;
	// otherwise they are counted on Text.
	Words, Bytes       int
	HasWords, HasBytes bool
	Pair               string // classification: text_pair, when HasPair
	HasPair            bool
	Label              int    // classification
	Answer             string // generate
}

// commonOptions are the header keys every kind reads. "description" is
// for people, and "category" groups tasks ("math", "semantic", ...) so a
// report can compare them, as the paper compares math with semantic tasks.
var commonOptions = []string{"name", "kind", "baseline", "metric", "description", "category", "version"}

// LoadTask reads and validates a task file (see docs/tasks.md).
func LoadTask(path string) (*Task, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadTask(path, f)
}

// ReadTask parses a task file from r; path names it in errors and, without
// a header name, gives the task its name (the base name less extension).
func ReadTask(path string, r io.Reader) (*Task, error) {
	t := &Task{Path: path}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<30)
	line := 0
	var header map[string]json.RawMessage
	headerLine := 0
	first := true
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark
		}
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("%s:%d: %s", path, line, invalidUTF8(b))
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		var f docFields
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("%s:%d: not a JSON object: %s", path, line, jsonProblem(b, err))
		}
		if f == nil {
			return nil, fmt.Errorf("%s:%d: not a JSON object: null", path, line)
		}
		if first {
			first = false
			if h, ok := f["task"]; ok && len(f) == 1 {
				if err := json.Unmarshal(h, &header); err != nil || header == nil {
					return nil, fmt.Errorf("%s:%d: the header's \"task\" must be an object, not %s", path, line, jsonType(h))
				}
				headerLine = line
				if err := t.configure(header); err != nil {
					return nil, fmt.Errorf("%s:%d: %v", path, line, err)
				}
				continue
			}
			if err := t.configure(nil); err != nil {
				return nil, err
			}
		}
		if t.Kind == nil {
			// No header, or one without a kind: the first document says.
			k, err := inferKind(f)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, line, err)
			}
			t.Kind = k
			if err := t.configureKind(header); err != nil {
				at := headerLine
				if at == 0 {
					at = line
				}
				return nil, fmt.Errorf("%s:%d: %v", path, at, err)
			}
		}
		d := Doc{Line: line, Raw: slices.Clone(b)}
		err := f.needAll(t.Kind)
		if err == nil {
			err = t.Kind.parse(t, &d, f)
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		t.Docs = append(t.Docs, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %v", path, line+1, err)
	}
	if first {
		return nil, fmt.Errorf("%s: the file is empty: a task file holds an optional header line and one JSON document per line", path)
	}
	if len(t.Docs) == 0 {
		return nil, fmt.Errorf("%s:%d: the header is the only line: the task has no documents", path, headerLine)
	}
	return t, nil
}

// configure reads the header (nil when the file has none).
func (t *Task) configure(h map[string]json.RawMessage) error {
	t.Name = strings.TrimSuffix(filepath.Base(t.Path), filepath.Ext(t.Path))
	f := docFields(h)
	if _, ok := h["name"]; ok {
		s, err := f.str("name")
		if err != nil {
			return fmt.Errorf("header: %v", err)
		}
		if s == "" {
			return errors.New("header: field \"name\" is empty")
		}
		t.Name = s
	}
	if _, ok := h["kind"]; ok {
		s, err := f.str("kind")
		if err != nil {
			return fmt.Errorf("header: %v", err)
		}
		k, err := LookupKind(s)
		if err != nil {
			return fmt.Errorf("header: %v", err)
		}
		t.Kind = k
	}
	if _, ok := h["baseline"]; ok {
		v, err := f.num("baseline")
		if err != nil {
			return fmt.Errorf("header: %v", err)
		}
		t.Baseline, t.HasBaseline = v, true
	}
	if v, ok := h["version"]; ok {
		switch {
		case isType(v, '"'):
			t.Version, _ = f.str("version")
		case isType(v, '0'):
			x, err := f.num("version")
			if err != nil {
				return fmt.Errorf("header: %v", err)
			}
			t.Version = x
		default:
			return fmt.Errorf("header: field \"version\" must be a number or a string, not %s", jsonType(v))
		}
	}
	if t.Kind == nil {
		// The kind comes from the first document; its options are checked
		// then.
		return nil
	}
	return t.configureKind(h)
}

// configureKind reads the header options that depend on the kind.
func (t *Task) configureKind(h map[string]json.RawMessage) error {
	k := t.Kind
	var names []string
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	opts := map[string]json.RawMessage{}
	for _, name := range names {
		if slices.Contains(commonOptions, name) {
			continue
		}
		if !slices.Contains(k.Options, name) {
			known := append(slices.Clone(commonOptions), k.Options...)
			return fmt.Errorf("header: unknown option %s for kind %s: its options are %s", clip.Quote(name), k.Name, strings.Join(known, ", "))
		}
		opts[name] = h[name]
	}
	t.Options = opts
	for key, dst := range map[string]*string{"description": &t.Description, "category": &t.Category} {
		if _, ok := h[key]; ok {
			v, err := docFields(h).str(key)
			if err != nil {
				return fmt.Errorf("header: %v", err)
			}
			*dst = v
		}
	}
	t.Metric = k.Main
	if _, ok := h["metric"]; ok {
		s, err := docFields(h).str("metric")
		if err != nil {
			return fmt.Errorf("header: %v", err)
		}
		if !strings.Contains(s, ",") {
			s += ",none"
		}
		if !slices.Contains(k.Metrics, s) {
			return fmt.Errorf("header: option \"metric\": %s reports no metric %s: its metrics are %s", k.Name, clip.Quote(s), strings.Join(k.Metrics, ", "))
		}
		t.Metric = s
	}
	if k.configure != nil {
		if err := k.configure(t, opts); err != nil {
			return fmt.Errorf("header: %v", err)
		}
	}
	return nil
}

// docFields is a document (or header) as JSON fields.
type docFields map[string]json.RawMessage

// needAll checks that the document has every field its kind requires (or
// every one of its other shape, AltFields), so each kind's parse reads
// them without checking.
func (f docFields) needAll(k *Kind) error {
	fields := k.Fields
	if k.AltFields != nil && !f.hasAll(k.Fields) && f.hasAny(k.AltFields, k.Fields) {
		fields = k.AltFields
	}
	for _, name := range fields {
		if _, ok := f[name]; !ok {
			has := strings.Join(quoteAll(k.Fields), ", ")
			if k.AltFields != nil {
				has += ", or " + strings.Join(quoteAll(k.AltFields), ", ")
			}
			return fmt.Errorf("missing field %q (a %s document has %s)", name, k.Name, has)
		}
	}
	return nil
}

func (f docFields) hasAll(names []string) bool {
	for _, name := range names {
		if _, ok := f[name]; !ok {
			return false
		}
	}
	return true
}

// hasAny reports whether f has one of names that is not among except.
func (f docFields) hasAny(names, except []string) bool {
	for _, name := range names {
		if _, ok := f[name]; ok && !slices.Contains(except, name) {
			return true
		}
	}
	return false
}

func (f docFields) str(name string) (string, error) {
	var s string
	if err := json.Unmarshal(f[name], &s); err != nil || !isType(f[name], '"') {
		return "", fmt.Errorf("field %q must be a string, not %s", name, jsonType(f[name]))
	}
	return s, nil
}

func (f docFields) int(name string) (int, error) {
	v := f[name]
	var x float64
	if !isType(v, '0') || json.Unmarshal(v, &x) != nil {
		return 0, fmt.Errorf("field %q must be an integer, not %s", name, jsonType(v))
	}
	if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
		return 0, fmt.Errorf("field %q must be an integer, not %s", name, clip.String(string(v)))
	}
	return int(x), nil
}

func (f docFields) num(name string) (float64, error) {
	v := f[name]
	var x float64
	if !isType(v, '0') || json.Unmarshal(v, &x) != nil {
		return 0, fmt.Errorf("field %q must be a number, not %s", name, jsonType(v))
	}
	return x, nil
}

func (f docFields) bool(name string) (bool, error) {
	v := f[name]
	var x bool
	if !isType(v, 't') || json.Unmarshal(v, &x) != nil {
		return false, fmt.Errorf("field %q must be true or false, not %s", name, jsonType(v))
	}
	return x, nil
}

func (f docFields) strs(name string) ([]string, error) {
	v := f[name]
	var raw []json.RawMessage
	if !isType(v, '[') || json.Unmarshal(v, &raw) != nil {
		return nil, fmt.Errorf("field %q must be a list of strings, not %s", name, jsonType(v))
	}
	out := make([]string, len(raw))
	for i, r := range raw {
		if !isType(r, '"') || json.Unmarshal(r, &out[i]) != nil {
			return nil, fmt.Errorf("field %q must be a list of strings: item %d is %s", name, i, jsonType(r))
		}
	}
	return out, nil
}

// isType reports whether v is JSON of the kind its first byte names:
// '"' string, '0' number, 't' boolean, '[' array.
func isType(v json.RawMessage, kind byte) bool {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return false
	}
	c := v[0]
	switch kind {
	case '0':
		return c == '-' || (c >= '0' && c <= '9')
	case 't':
		return c == 't' || c == 'f'
	}
	return c == kind
}

// jsonType names the JSON type of v for an error message.
func jsonType(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch c := v[0]; {
	case c == '"':
		return "a string"
	case c == '[':
		return "a list"
	case c == '{':
		return "an object"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	default:
		return "a number"
	}
}

// invalidUTF8 says where a line stops being UTF-8. A task file is UTF-8
// text: encoding/json would turn each bad byte into U+FFFD without a word,
// and the scores would then be of text nobody wrote, so the file is
// refused (docs/tasks.md).
func invalidUTF8(b []byte) string {
	at := 0
	for at < len(b) {
		r, n := utf8.DecodeRune(b[at:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		at += n
	}
	return fmt.Sprintf("invalid UTF-8 at byte %d of the line (0x%02x): task files are UTF-8 text; convert the file (for example with iconv -f latin1 -t utf-8) or fix the bytes", at+1, b[at])
}

// jsonProblem describes why a line is not a JSON object.
func jsonProblem(b []byte, err error) string {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return "it is " + jsonType(b)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}
