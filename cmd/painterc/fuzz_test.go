package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzFlags runs painterc's compile, plan, inspect and passes commands with
// arbitrary flags on a real model: whatever the flags, painterc must not
// panic, must exit with a documented code, and must explain a failure on
// stderr. (painterc run is left out: it loads ONNX Runtime.)
func FuzzFlags(f *testing.F) {
	for _, s := range []string{
		"--pass=skip",
		"--pass=looped-parallel --loops 0",
		"--pass=random --seed -3 --layers 6-1",
		"--pass=skip --n 100",
		"--pass=swap --index 7",
		"--pass=skip-one --index -1",
		"--schedule 0-7,[8-24]x3,25-31",
		"--schedule=[] --dump=blocks",
		"--pass=middle-repeat --layers 0-7 --dump=lowered",
		"--boundaries a,b,c --pass=reverse",
		"plan --pass=parallel --blocks 1",
		"plan --schedule 3x100000 --blocks 4",
		"inspect --json --boundaries x",
		"passes -v",
		"--pass=identity --external-data -q -v",
	} {
		f.Add(s)
	}
	model := writeModel(f, filepath.Join(f.TempDir(), "model.onnx"), tiny)
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Fields(s)
		// run needs ORT; tokenize reads the test's stdin.
		if len(args) > 0 && (args[0] == "run" || args[0] == "tokenize" || args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			return
		}
		args = append(args, model)
		if len(args) == 1 || (args[0] != "plan" && args[0] != "inspect" && args[0] != "passes") {
			args = append(args, "-o", filepath.Join(t.TempDir(), "out.onnx"))
		}
		r := cli(t, args...)
		noPanic(t, r)
		switch r.code {
		case exitOK:
		case exitUsage, exitModel, exitSchedule, exitBlocks, exitOutput:
			if !strings.Contains(r.stderr, "painterc: ") && !strings.Contains(r.stderr, "Usage") {
				t.Fatalf("painterc %q: exit %d without a message:\n%s", args, r.code, r.stderr)
			}
		default:
			t.Fatalf("painterc %q: exit %d\n%s", args, r.code, r.stderr)
		}
	})
}
