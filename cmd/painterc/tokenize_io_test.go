package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestTokenizeStdoutOnInput: a standard output redirected onto the
// tokenizer (`>> tokenizer.json`) or onto the file standard input reads
// (`< t.jsonl >> t.jsonl`, which would grow without end as it is read) is
// refused with exit 6 before anything is written.
func TestTokenizeStdoutOnInput(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "tokenizer.json")
	writeFile(t, tok, readFile(t, bertFixture))
	texts := filepath.Join(dir, "texts.jsonl")
	writeFile(t, texts, []byte(`{"text": "hello"}`+"\n"))
	open := func(p string, flag int) *os.File {
		f, err := os.OpenFile(p, flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	for _, c := range []struct {
		name          string
		stdin, stdout *os.File
		want          string
	}{
		{"stdout is the tokenizer", open(texts, os.O_RDONLY), open(tok, os.O_WRONLY|os.O_APPEND),
			"standard output is the tokenizer " + tok + ": painterc never modifies its input; send the output to another file"},
		{"stdout is stdin", open(texts, os.O_RDONLY), open(texts, os.O_WRONLY|os.O_APPEND),
			"standard output is standard input: painterc never modifies its input; send the output to another file"},
	} {
		before := readFile(t, tok)
		beforeTexts := readFile(t, texts)
		var se bytes.Buffer
		err := cmdTokenize([]string{"--tokenizer", tok}, c.stdin, c.stdout, &se)
		var ce *cliError
		if !errors.As(err, &ce) || ce.code != exitOutput || err.Error() != c.want {
			t.Errorf("%s: %v\nwant exit 6 and %s", c.name, err, c.want)
		}
		if !bytes.Equal(before, readFile(t, tok)) || !bytes.Equal(beforeTexts, readFile(t, texts)) {
			t.Errorf("%s: an input changed", c.name)
		}
	}
	// Standard output to another file is fine.
	out := open(filepath.Join(dir, "ids.jsonl"), os.O_WRONLY|os.O_CREATE)
	if err := cmdTokenize([]string{"--tokenizer", tok}, open(texts, os.O_RDONLY), out, &bytes.Buffer{}); err != nil {
		t.Errorf("stdout to another file: %v", err)
	}
}
