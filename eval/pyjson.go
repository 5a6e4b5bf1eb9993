package eval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// lm-eval hashes and logs values as Python's json.dumps and str() write
// them, so matching its task_hashes and samples files byte for byte needs
// Python's spelling: floats as repr() writes them, booleans as True/False
// inside str(), non-ASCII left as is (ensure_ascii=False), ", " and ": "
// between items, or a newline and indent with indent=2. This file is that
// spelling, for the values eval logs: object (ordered), []any, []string,
// string, int, float64, bool, nil, pyTuple and documents read from a task
// file (pyDoc).

// pyTuple is a Python tuple of str() values, which json.dumps writes as a
// list: lm-eval's sanitized responses ("-1.5", "True").
type pyTuple []string

// pyDoc is one task-file document, its keys in the file's order, as the
// datasets library hands it to lm-eval.
type pyDoc json.RawMessage

// pyRepr is Python's repr of a float: the shortest string that reads back
// the same, in exponent form below 1e-4 and from 1e16 up, always with a
// ".0" or an exponent.
func pyRepr(x float64) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "Infinity"
	case math.IsInf(x, -1):
		return "-Infinity"
	}
	if x == 0 {
		if math.Signbit(x) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(x)
	if abs < 1e-4 || abs >= 1e16 {
		s := strconv.FormatFloat(x, 'e', -1, 64) // 1e-05, 1.5e+16
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		if len(exp) < 2 {
			exp = strings.Repeat("0", 2-len(exp)) + exp
		}
		return mant + "e" + string(sign) + exp
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyStr is Python's str() of a logged value.
func pyStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if math.IsInf(x, 1) {
			return "inf"
		} else if math.IsInf(x, -1) {
			return "-inf"
		} else if math.IsNaN(x) {
			return "nan"
		}
		return pyRepr(x)
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(x)
	}
	return fmt.Sprint(v)
}

// pyQuote is json.dumps of a string with ensure_ascii=False.
func pyQuote(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// pyDumps is json.dumps(v, ensure_ascii=False), with indent=2 when indent.
func pyDumps(v any, indent bool) ([]byte, error) {
	var b bytes.Buffer
	if err := pyWrite(&b, v, indent, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func pyWrite(b *bytes.Buffer, v any, indent bool, depth int) error {
	// Separators: ", " and ": " on one line; "," then newline and indent
	// with indent=2.
	open := func(c byte, n int) {
		b.WriteByte(c)
		if indent && n > 0 {
			b.WriteString("\n" + strings.Repeat("  ", depth+1))
		}
	}
	sep := func() {
		if indent {
			b.WriteString(",\n" + strings.Repeat("  ", depth+1))
		} else {
			b.WriteString(", ")
		}
	}
	closeWith := func(c byte, n int) {
		if indent && n > 0 {
			b.WriteString("\n" + strings.Repeat("  ", depth))
		}
		b.WriteByte(c)
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		pyQuote(b, x)
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		b.WriteString(pyRepr(x))
	case pyNumber:
		b.WriteString(string(x))
	case object:
		open('{', len(x))
		for i, f := range x {
			if i > 0 {
				sep()
			}
			pyQuote(b, f.Key)
			b.WriteString(": ")
			if err := pyWrite(b, f.Value, indent, depth+1); err != nil {
				return err
			}
		}
		closeWith('}', len(x))
	case []any:
		open('[', len(x))
		for i, y := range x {
			if i > 0 {
				sep()
			}
			if err := pyWrite(b, y, indent, depth+1); err != nil {
				return err
			}
		}
		closeWith(']', len(x))
	case []string:
		return pyWrite(b, toAny(x), indent, depth)
	case pyTuple:
		return pyWrite(b, toAny([]string(x)), indent, depth)
	case pyDoc:
		d, err := pyParse(json.RawMessage(x))
		if err != nil {
			return err
		}
		return pyWrite(b, d, indent, depth)
	default:
		return fmt.Errorf("no Python spelling for %T", v)
	}
	return nil
}

func toAny[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// pyNumber is a number from a task file as Python reads it back: an
// integer literal as written, anything else as the float's repr.
type pyNumber string

// pyParse reads JSON keeping the objects' key order, as Python's dicts do.
func pyParse(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := pyParseValue(dec)
	if err != nil {
		return nil, fmt.Errorf("reading a document back: %v", err)
	}
	return v, nil
}

func pyParseValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := object{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := pyParseValue(dec)
				if err != nil {
					return nil, err
				}
				key := k.(string)
				// A repeated key keeps its first place and its last value,
				// as a Python dict built from the pairs does.
				replaced := false
				for i := range o {
					if o[i].Key == key {
						o[i].Value, replaced = v, true
					}
				}
				if !replaced {
					o = append(o, Field{key, v})
				}
			}
			_, err := dec.Token()
			return o, err
		case '[':
			l := []any{}
			for dec.More() {
				v, err := pyParseValue(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			return l, err
		}
	case json.Number:
		s := string(t)
		if !strings.ContainsAny(s, ".eE") {
			return pyNumber(s), nil
		}
		f, err := t.Float64()
		if err != nil {
			return nil, err
		}
		return pyNumber(pyRepr(f)), nil
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("unexpected %v", tok)
}

// hashString is lm-eval's hash_string: the SHA-256 of the UTF-8 text, in
// hex.
func hashString(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
