package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/painterc/painterc/tokenizer"
)

// The BERT-style fixture of package tokenizer: WordPiece, with special
// tokens added by BertProcessing.
var bertFixture = filepath.Join("..", "..", "tokenizer", "testdata", "bert", "tokenizer.json")

func tokenizeCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var so, se bytes.Buffer
	err := cmdTokenize(args, strings.NewReader(stdin), &so, &se)
	code := exitOK
	if err != nil {
		var ce *cliError
		if !errors.As(err, &ce) {
			t.Fatalf("error without an exit code: %v", err)
		}
		code = ce.code
		fmt.Fprintln(&se, "painterc:", err)
	}
	return so.String(), se.String(), code
}

// TestTokenizeCLI encodes JSONL with and without special tokens and
// decodes it back, and checks the output line for line against the
// package's own Encode.
func TestTokenizeCLI(t *testing.T) {
	tk, err := tokenizer.Load(bertFixture)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"Hello, world!", "", "The quick brown fox <s> jumps", "你好 [MASK] x", "tab\there\nnewline"}
	var in strings.Builder
	for i, s := range texts {
		b, _ := json.Marshal(map[string]string{"text": s})
		in.Write(b)
		in.WriteString("\n")
		if i == 1 {
			in.WriteString("\n   \n") // blank lines are skipped
		}
	}
	for _, noSpecial := range []bool{false, true} {
		args := []string{"--tokenizer", bertFixture}
		if noSpecial {
			args = append(args, "--no-special")
		}
		out, stderr, code := tokenizeCLI(t, in.String(), args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(texts) {
			t.Fatalf("%d output lines for %d texts:\n%s", len(lines), len(texts), out)
		}
		var decodeIn strings.Builder
		for i, l := range lines {
			var rec struct{ IDs []int }
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("line %d %q: %v", i+1, l, err)
			}
			want, _ := tk.Encode(texts[i], !noSpecial)
			if !slices.Equal(rec.IDs, want) {
				t.Errorf("--no-special=%v %q: ids %v, want %v", noSpecial, texts[i], rec.IDs, want)
			}
			decodeIn.WriteString(l + "\n")
		}
		// And back.
		dargs := append(args, "--decode")
		out, stderr, code = tokenizeCLI(t, decodeIn.String(), dargs...)
		if code != 0 {
			t.Fatalf("decode: exit %d: %s", code, stderr)
		}
		for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			var rec struct{ Text string }
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("decode line %d %q: %v", i+1, l, err)
			}
			ids, _ := tk.Encode(texts[i], !noSpecial)
			want := tk.DecodeWithSpecial(ids)
			if noSpecial {
				want = tk.Decode(ids)
			}
			if rec.Text != want {
				t.Errorf("decode %v: %q, want %q", ids, rec.Text, want)
			}
		}
	}
	// "<s>" stays readable in the output.
	out, _, _ := tokenizeCLI(t, `{"ids": [2]}`+"\n", "--tokenizer", bertFixture, "--decode")
	if out != `{"text": "[CLS]"}`+"\n" {
		t.Errorf("decode [2]: %q", out)
	}
}

func TestTokenizeCLIErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "tokenizer.json")
	os.WriteFile(bad, []byte(`{"model": {"type": "Mystery"}}`), 0o644)
	for _, c := range []struct {
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"", nil, exitUsage, "usage: painterc tokenize --tokenizer PATH"},
		{"", []string{"--tokenizer", bertFixture, "extra"}, exitUsage, "usage: painterc tokenize"},
		{"", []string{"--tokenizer", "/nonexistent/tokenizer.json"}, exitModel, "/nonexistent/tokenizer.json"},
		{"", []string{"--tokenizer", bad}, exitModel, `tokenizer.json: model: type "Mystery" is not supported`},
		{`{"text": "ok"}` + "\n" + `{"text": "x"` + "\n", []string{"--tokenizer", bertFixture}, exitUsage, "stdin:2: malformed JSON: the line ends early"},
		{`{"txt": "x"}`, []string{"--tokenizer", bertFixture}, exitUsage, `stdin:1: json: unknown field "txt"`},
		{`{}`, []string{"--tokenizer", bertFixture}, exitUsage, `stdin:1: want {"text": "..."}, found no "text"`},
		{`{"text": 3}`, []string{"--tokenizer", bertFixture}, exitUsage, `stdin:1: "text" must be a string, not number`},
		{`{"text": "a"} {"text": "b"}`, []string{"--tokenizer", bertFixture}, exitUsage, `stdin:1: more than one JSON value on the line`},
		{"not json", []string{"--tokenizer", bertFixture}, exitUsage, "stdin:1: malformed JSON at column 2"},
		{`{"ids": [1, 99999]}`, []string{"--tokenizer", bertFixture, "--decode"}, exitUsage, "stdin:1: ids[1] = 99999 is not a token id of this tokenizer"},
		{`{"ids": "1 2"}`, []string{"--tokenizer", bertFixture, "--decode"}, exitUsage, `stdin:1: "ids" must be an array of integers, not string`},
		{`{"text": "x"}`, []string{"--tokenizer", bertFixture, "--decode"}, exitUsage, `stdin:1: json: unknown field "text"`},
	} {
		out, stderr, code := tokenizeCLI(t, c.stdin, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%q with %q: exit %d, stderr %q; want exit %d and %q", c.args, c.stdin, code, stderr, c.code, c.msg)
		}
		if c.code != 0 && strings.Count(out, "\n") > strings.Count(c.stdin, "\n") {
			t.Errorf("%q: output %q", c.args, out)
		}
	}
	// Lines before a bad one are still written.
	out, _, _ := tokenizeCLI(t, `{"text": "hello"}`+"\n"+`{"text": }`+"\n", "--tokenizer", bertFixture, "--no-special")
	if !strings.HasPrefix(out, `{"ids": [`) {
		t.Errorf("output before the bad line: %q", out)
	}
}

// TestTokenizeHelp: the command is wired into painterc's switch.
func TestTokenizeHelp(t *testing.T) {
	r := cli(t, "tokenize", "--help")
	if r.code != 0 || !strings.Contains(r.stderr, "--no-special") {
		t.Errorf("painterc tokenize --help: exit %d\n%s", r.code, r.stderr)
	}
	r = cli(t, "help")
	if !strings.Contains(r.stdout, "painterc tokenize --tokenizer PATH") {
		t.Errorf("usage does not mention tokenize:\n%s", r.stdout)
	}
}
