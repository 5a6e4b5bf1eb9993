package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/tokenizer"
)

// cmdTokenize encodes JSONL text from stdin with a Hugging Face
// tokenizer.json, one {"text": ...} per line to one {"ids": [...]} per line,
// or decodes {"ids": [...]} back to {"text": ...} with --decode. Blank
// lines are skipped.
func cmdTokenize(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("painterc tokenize", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("tokenizer", "", "the tokenizer.json (a tokenizer_config.json beside it is read too)")
	noSpecial := fs.Bool("no-special", false, "encode without the special tokens the tokenizer adds (BOS, [CLS] ...); with --decode, leave special tokens out of the text")
	decode := fs.Bool("decode", false, `read {"ids": [...]} lines and write {"text": "..."}`)
	if err := fs.Parse(args); err != nil {
		return fail(exitUsage, err)
	}
	if fs.NArg() != 0 || *path == "" {
		return failf(exitUsage, `usage: painterc tokenize --tokenizer PATH [--no-special] [--decode] < in.jsonl > out.jsonl`)
	}
	tk, err := tokenizer.Load(*path)
	if err != nil {
		return fail(exitModel, err)
	}
	if err := checkStdout(*path, stdin, stdout); err != nil {
		return err
	}
	in := bufio.NewReaderSize(stdin, 1<<16)
	out := bufio.NewWriterSize(stdout, 1<<16)
	err = tokenizeLines(tk, in, out, *decode, *noSpecial)
	if ferr := out.Flush(); ferr != nil && err == nil {
		err = fail(exitOutput, fmt.Errorf("stdout: %w", ferr))
	}
	return err
}

func tokenizeLines(tk *tokenizer.Tokenizer, in *bufio.Reader, out *bufio.Writer, decode, noSpecial bool) error {
	var buf []byte
	for line := 1; ; line++ {
		b, err := in.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return failf(exitUsage, "stdin:%d: %v", line, err)
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		if decode {
			var rec struct {
				IDs *[]int `json:"ids"`
			}
			if err := strictJSON(b, &rec); err != nil {
				return failf(exitUsage, "stdin:%d: %v", line, err)
			}
			if rec.IDs == nil {
				return failf(exitUsage, `stdin:%d: want {"ids": [...]}, found no "ids"`, line)
			}
			for i, id := range *rec.IDs {
				if _, ok := tk.IDToToken(id); !ok {
					return failf(exitUsage, "stdin:%d: ids[%d] = %d is not a token id of this tokenizer (vocabulary size %d)", line, i, id, tk.VocabSize())
				}
			}
			var text string
			if noSpecial {
				text = tk.Decode(*rec.IDs)
			} else {
				text = tk.DecodeWithSpecial(*rec.IDs)
			}
			buf = append(buf[:0], `{"text": `...)
			buf = appendJSONString(buf, text)
			buf = append(buf, "}\n"...)
		} else {
			var rec struct {
				Text *string `json:"text"`
			}
			if err := strictJSON(b, &rec); err != nil {
				return failf(exitUsage, "stdin:%d: %v", line, err)
			}
			if rec.Text == nil {
				return failf(exitUsage, `stdin:%d: want {"text": "..."}, found no "text"`, line)
			}
			ids, err := tk.Encode(*rec.Text, !noSpecial)
			if err != nil {
				return failf(exitUsage, "stdin:%d: %v", line, err)
			}
			buf = append(buf[:0], `{"ids": [`...)
			for i, id := range ids {
				if i > 0 {
					buf = append(buf, ", "...)
				}
				buf = strconv.AppendInt(buf, int64(id), 10)
			}
			buf = append(buf, "]}\n"...)
		}
		if _, err := out.Write(buf); err != nil {
			return fail(exitOutput, fmt.Errorf("stdout: %w", err))
		}
	}
}

// checkStdout refuses a standard output redirected onto the tokenizer,
// its config, or the file standard input reads (which would grow as it is
// read, without end).
func checkStdout(path string, stdin io.Reader, stdout io.Writer) error {
	out, ok := stdout.(*os.File)
	if !ok {
		return nil
	}
	fo, err := out.Stat()
	if err != nil {
		return nil
	}
	var files safeio.Files
	files.Input("the tokenizer", path)
	files.Input("the tokenizer's config", filepath.Join(filepath.Dir(path), "tokenizer_config.json"))
	if in, ok := stdin.(*os.File); ok {
		if fi, err := in.Stat(); err == nil {
			files.InputInfo("standard input", fi)
		}
	}
	if err := files.OutputInfo("standard output", fo); err != nil {
		return fail(exitOutput, err)
	}
	return nil
}

// strictJSON decodes one JSON object and refers to problems in terms a
// person fixing the line can use.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("malformed JSON at column %d: %v", se.Offset, se)
		case errors.As(err, &te):
			return fmt.Errorf("%q must be %s, not %s", te.Field, map[bool]string{true: "a string", false: "an array of integers"}[te.Field == "text"], te.Value)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errors.New("malformed JSON: the line ends early")
		}
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}

// appendJSONString writes s as a JSON string without HTML escaping, so
// that "<s>" stays readable.
func appendJSONString(buf []byte, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return append(buf, bytes.TrimRight(b.Bytes(), "\n")...)
}
