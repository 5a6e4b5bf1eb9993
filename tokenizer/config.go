package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// fileJSON is tokenizer.json with its components left raw, so that each is
// decoded with its own path for error messages.
type fileJSON struct {
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	Model         json.RawMessage  `json:"model"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Decoder       json.RawMessage  `json:"decoder"`
}

type addedTokenJSON struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized *bool  `json:"normalized"`
	Special    bool   `json:"special"`
}

// configError is an error about one place in a file.
type configError struct {
	file string
	path string
	msg  string
}

func (e *configError) Error() string {
	if e.path == "" {
		return e.file + ": " + e.msg
	}
	return e.file + ": " + e.path + ": " + e.msg
}

// jsonError turns an encoding/json error into one that names the file and,
// where json knows it, the byte offset. base is the offset of the decoded
// value inside the file.
func jsonError(file, path string, data []byte, base int64, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off := base + se.Offset
		if se.Error() == "unexpected end of JSON input" {
			return &configError{file: file, msg: fmt.Sprintf("malformed JSON: the file ends early, at byte offset %d (is it truncated?)", off)}
		}
		return &configError{file: file, msg: fmt.Sprintf("malformed JSON at byte offset %d (%s): %v", off, lineCol(data, off-1), se)}
	case errors.As(err, &te):
		where := path
		if te.Field != "" {
			if where != "" {
				where += "."
			}
			where += te.Field
		}
		return &configError{file: file, path: where, msg: fmt.Sprintf("expected a JSON %s, found %s (byte offset %d)", jsonKind(te.Type.Kind().String()), te.Value, base+te.Offset)}
	}
	return &configError{file: file, path: path, msg: err.Error()}
}

// lineCol says where byte offset off of data is, as "line L, column C"
// (1-based, columns in bytes).
func lineCol(data []byte, off int64) string {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "int32", "uint32", "uint64", "float64", "float32":
		return "number"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	case "bool":
		return "boolean"
	}
	return k
}

// decoder decodes component objects of one file, tracking where each raw
// value sits in the file so that errors can give offsets.
type decoder struct {
	file string
	data []byte
}

// offset finds where raw lies inside the file (raw is always a sub-slice).
func (d *decoder) offset(raw []byte) int64 {
	if len(raw) == 0 || len(d.data) == 0 {
		return 0
	}
	// raw aliases d.data when it came from json.RawMessage over d.data:
	// encoding/json copies RawMessage, so search instead.
	if i := bytes.Index(d.data, raw[:min(len(raw), 64)]); i >= 0 {
		return int64(i)
	}
	return 0
}

func (d *decoder) decode(path string, raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return jsonError(d.file, path, d.data, d.offset(raw), err)
	}
	return nil
}

func (d *decoder) errf(path, format string, args ...any) error {
	return &configError{file: d.file, path: path, msg: fmt.Sprintf(format, args...)}
}

// isNull reports whether a raw component is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// typeOf reads the "type" field of a component.
func (d *decoder) typeOf(path string, raw json.RawMessage) (string, error) {
	var t struct {
		Type *string `json:"type"`
	}
	if err := d.decode(path, raw, &t); err != nil {
		return "", err
	}
	if t.Type == nil {
		return "", d.errf(path, `no "type" field`)
	}
	return *t.Type, nil
}

func unsupported(d *decoder, path, typ string, supported map[string]bool) error {
	names := make([]string, 0, len(supported))
	for n := range supported {
		names = append(names, n)
	}
	sort.Strings(names)
	return d.errf(path, "type %q is not supported (supported: %s)", typ, strings.Join(names, ", "))
}

// pattern is the {"String": s} or {"Regex": r} object of Split and Replace.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

func (d *decoder) pattern(path string, p patternJSON) (matcher, error) {
	switch {
	case p.String != nil:
		return stringMatcher(*p.String), nil
	case p.Regex != nil:
		if m, ok := knownScanner(*p.Regex); ok {
			return m, nil
		}
		m, err := compileRegex(*p.Regex)
		if err != nil {
			return nil, d.errf(path+".Regex", "cannot compile %q: %v", *p.Regex, err)
		}
		return m, nil
	}
	return nil, d.errf(path, `needs "String" or "Regex"`)
}

// tokenConfig is what tokenizer_config.json contributes.
type tokenConfig struct {
	BOS, EOS, UNK, PAD string
	hasBOS, hasEOS     bool
	AddBOS, AddEOS     *bool
	Class              string
	CleanUp            *bool
	AdditionalSpecial  []string
}

// specialName reads a token given as a string or as {"content": ...}.
func specialName(raw json.RawMessage) (string, bool) {
	if isNull(raw) {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var o struct {
		Content *string `json:"content"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Content != nil {
		return *o.Content, true
	}
	return "", false
}

func parseTokenConfig(file string, data []byte) (*tokenConfig, error) {
	var raw struct {
		BOS        json.RawMessage   `json:"bos_token"`
		EOS        json.RawMessage   `json:"eos_token"`
		UNK        json.RawMessage   `json:"unk_token"`
		PAD        json.RawMessage   `json:"pad_token"`
		AddBOS     *bool             `json:"add_bos_token"`
		AddEOS     *bool             `json:"add_eos_token"`
		Class      string            `json:"tokenizer_class"`
		CleanUp    *bool             `json:"clean_up_tokenization_spaces"`
		Additional []json.RawMessage `json:"additional_special_tokens"`
	}
	d := &decoder{file: file, data: data}
	if err := d.decode("", data, &raw); err != nil {
		return nil, err
	}
	c := &tokenConfig{AddBOS: raw.AddBOS, AddEOS: raw.AddEOS, Class: raw.Class, CleanUp: raw.CleanUp}
	c.BOS, c.hasBOS = specialName(raw.BOS)
	c.EOS, c.hasEOS = specialName(raw.EOS)
	for _, a := range raw.Additional {
		if s, ok := specialName(a); ok {
			c.AdditionalSpecial = append(c.AdditionalSpecial, s)
		}
	}
	return c, nil
}
