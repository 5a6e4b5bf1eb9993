package importers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Row is one record of a dataset file: its fields, undecoded, and where it
// came from.
type Row struct {
	Path   string
	Line   int // the line the record starts on, from 1
	Fields map[string]json.RawMessage

	prefix string // "choices." for the fields of a nested object
}

// RowError is a bad record: Path:Line names it and Field the field at
// fault ("" when the record as a whole is).
type RowError struct {
	Path  string
	Line  int
	Field string
	Msg   string
}

func (e *RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: field %q %s", e.Path, e.Line, e.Field, e.Msg)
}

func (r Row) errorf(field, format string, args ...any) error {
	return &RowError{Path: r.Path, Line: r.Line, Field: r.prefix + field, Msg: fmt.Sprintf(format, args...)}
}

// ReadRows reads a dataset file as the `datasets` library exports it: JSON
// Lines (Dataset.to_json's default; blank lines are skipped but counted) or
// one JSON array of objects (to_json(lines=False)). path names the file in
// errors.
func ReadRows(path string, r io.Reader) ([]Row, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	first, err := firstByte(br)
	if err != nil {
		return nil, err
	}
	var rows []Row
	if first == '[' {
		rows, err = readArray(path, br)
	} else {
		rows, err = readLines(path, br)
	}
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, &RowError{Path: path, Line: 1, Msg: "no records: the file is empty; give the dataset split exported as JSON Lines (Dataset.to_json)"}
	}
	return rows, nil
}

// firstByte peeks at the first byte that is not whitespace or a UTF-8
// byte-order mark.
func firstByte(br *bufio.Reader) (byte, error) {
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if err == io.EOF {
			return 0, nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return 0, err
		}
		if err != nil || len(b) < i {
			return 0, nil
		}
		switch b[i-1] {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b[i-1], nil
	}
}

func readLines(path string, br *bufio.Reader) ([]Row, error) {
	var rows []Row
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<30)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		row, err := decodeRow(path, line, b)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	return rows, nil
}

func decodeRow(path string, line int, b []byte) (Row, error) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(b, &f); err != nil || f == nil {
		what := "null"
		if err != nil {
			what = jsonProblem(b, err)
		}
		return Row{}, &RowError{Path: path, Line: line, Msg: "not a JSON object: " + what}
	}
	return Row{Path: path, Line: line, Fields: f}, nil
}

// jsonProblem describes a decoding error briefly.
func jsonProblem(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at column %d", se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "it is a JSON " + te.Value
	}
	return err.Error()
}

// readArray reads a JSON array of objects, keeping each element's line.
func readArray(path string, br *bufio.Reader) ([]Row, error) {
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, err
	}
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n")) }
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // '['
		return nil, &RowError{Path: path, Line: 1, Msg: "not a JSON array: " + err.Error()}
	}
	var rows []Row
	for dec.More() {
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, &RowError{Path: path, Line: lineAt(dec.InputOffset()), Msg: "malformed JSON: " + err.Error()}
		}
		// start is before the separator; the element starts after it.
		skip := bytes.IndexFunc(data[start:], func(r rune) bool { return !strings.ContainsRune(", \t\r\n", r) })
		row, err := decodeRow(path, lineAt(start+int64(max(skip, 0))), raw)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, &RowError{Path: path, Line: lineAt(dec.InputOffset()), Msg: "malformed JSON array: " + err.Error()}
	}
	return rows, nil
}

// has reports whether the row has field f (null counts as absent).
func (r Row) has(f string) bool {
	v, ok := r.Fields[f]
	return ok && string(v) != "null"
}

func (r Row) raw(f string) (json.RawMessage, error) {
	v, ok := r.Fields[f]
	if !ok || string(v) == "null" {
		return nil, r.errorf(f, "is missing; %s", r.shapeHint())
	}
	return v, nil
}

// shapeHint lists the fields a row has, for a missing-field message.
func (r Row) shapeHint() string {
	names := make([]string, 0, len(r.Fields))
	for k := range r.Fields {
		names = append(names, strconv.Quote(k))
	}
	slices.Sort(names)
	return "the record has " + strings.Join(names, ", ") + ": is this file the benchmark you named?"
}

// str reads a string field.
func (r Row) str(f string) (string, error) {
	v, err := r.raw(f)
	if err != nil {
		return "", err
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", r.errorf(f, "must be a string, not %s", jsonType(v))
	}
	return s, nil
}

// nonEmpty reads a string field that must not be empty.
func (r Row) nonEmpty(f string) (string, error) {
	s, err := r.str(f)
	if err == nil && s == "" {
		err = r.errorf(f, "is empty")
	}
	return s, err
}

// strings reads a list of strings.
func (r Row) strings(f string) ([]string, error) {
	v, err := r.raw(f)
	if err != nil {
		return nil, err
	}
	var ss []string
	if err := json.Unmarshal(v, &ss); err != nil {
		return nil, r.errorf(f, "must be a list of strings, not %s", jsonType(v))
	}
	return ss, nil
}

// index reads a label that must be one of 0..n-1, plus offset: `datasets`
// writes some labels as numbers and others as strings ("3"; WinoGrande's
// answer "1"/"2", which is offset 1). An empty string or -1 is what a test
// split without labels carries.
func (r Row) index(f string, n, offset int) (int, error) {
	v, err := r.raw(f)
	if err != nil {
		return 0, err
	}
	var i int
	var s string
	if json.Unmarshal(v, &i) != nil {
		if json.Unmarshal(v, &s) != nil {
			return 0, r.errorf(f, "must be an integer or a string holding one, not %s", jsonType(v))
		}
		if strings.TrimSpace(s) == "" {
			return 0, r.errorf(f, "is empty: this split has no labels (a test split?); convert the split lm-eval scores")
		}
		if i, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
			return 0, r.errorf(f, "is %q, not an integer", s)
		}
	}
	if i-offset < 0 || i-offset >= n {
		hint := ""
		if i == -1 {
			hint = " (-1 marks a split without labels, such as a test split; convert the split lm-eval scores)"
		}
		return 0, r.errorf(f, "is %d but there are %d options: it must be %d to %d%s", i, n, offset, n-1+offset, hint)
	}
	return i - offset, nil
}

func jsonType(v json.RawMessage) string {
	b := bytes.TrimSpace(v)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// object reads a field holding an object, as a Row whose fields are the
// object's, named "field.key" in errors.
func (r Row) object(f string) (Row, error) {
	v, err := r.raw(f)
	if err != nil {
		return Row{}, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil || m == nil {
		return Row{}, r.errorf(f, "must be an object, not %s", jsonType(v))
	}
	return Row{Path: r.Path, Line: r.Line, Fields: m, prefix: r.prefix + f + "."}, nil
}
