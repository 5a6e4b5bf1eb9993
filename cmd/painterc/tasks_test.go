package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// painterc tasks import writes the converter's file; bad input exits 2
// with the record's file:line:field, leaves no output (and no temporary
// file), and never writes over the input.
func TestTasksImport(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join("..", "..", "eval", "importers", "testdata", "winogrande", "input.jsonl")
	want, err := os.ReadFile(filepath.Join("..", "..", "eval", "importers", "testdata", "winogrande", "want.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "winogrande.jsonl")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"tasks", "import", "--benchmark", "winogrande", in, "-o", out}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the converter's want.jsonl:\n%s", out, got)
	}

	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"sentence\": \"a _ b\", \"option1\": \"x\", \"option2\": \"y\", \"answer\": \"1\"}\n{\"sentence\": \"a _ b\", \"option1\": \"x\", \"answer\": \"1\"}\n"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"bad-record", []string{"--benchmark", "winogrande", bad, "-o", filepath.Join(dir, "new.jsonl")}, exitUsage,
			`painterc: ` + bad + `:2: field "option2" is missing; the record has "answer", "option1", "sentence": is this file the benchmark you named?`},
		{"onto-input", []string{"--benchmark", "winogrande", bad, "-o", bad}, exitUsage,
			`painterc: -o ` + bad + ` is the input: painterc never writes over its input; choose another output file`},
		{"unknown-benchmark", []string{"--benchmark", "mmlu", bad, "-o", filepath.Join(dir, "new.jsonl")}, exitUsage,
			`painterc: unknown benchmark "mmlu": want one of arc_challenge, arc_easy, copa, gsm8k, hellaswag, lambada_openai, piqa, wikitext, winogrande`},
		{"missing-input", []string{"--benchmark", "piqa", filepath.Join(dir, "none.jsonl"), "-o", filepath.Join(dir, "new.jsonl")}, exitUsage,
			`painterc: reading ` + filepath.Join(dir, "none.jsonl") + `: no such file or directory`},
		{"output-dir-missing", []string{"--benchmark", "piqa", bad, "-o", filepath.Join(dir, "no", "x.jsonl")}, exitOutput,
			`painterc: -o ` + filepath.Join(dir, "no", "x.jsonl") + `: cannot create files in ` + filepath.Join(dir, "no") + `: no such file or directory; choose a directory you can write to`},
	}
	before, _ := os.ReadFile(bad)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"tasks", "import"}, c.args...), &stdout, &stderr)
			if code != c.code {
				t.Errorf("exit %d, want %d", code, c.code)
			}
			if got := strings.TrimSpace(stderr.String()); got != c.msg {
				t.Errorf("stderr\n got %s\nwant %s", got, c.msg)
			}
		})
	}
	if after, _ := os.ReadFile(bad); !bytes.Equal(before, after) {
		t.Error("the input changed")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "bad.jsonl winogrande.jsonl" {
		t.Errorf("files left in the output folder: %v, want only bad.jsonl and winogrande.jsonl", names)
	}
}

func TestTasksList(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"tasks", "list"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, name := range []string{"arc_easy", "hellaswag", "piqa", "winogrande", "lambada_openai", "wikitext", "gsm8k", "copa"} {
		if !strings.Contains(stdout.String(), "\n"+name+" ") {
			t.Errorf("painterc tasks list does not list %s:\n%s", name, stdout.String())
		}
	}
}
