package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/painterc/painterc/passes"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/testmodels"
)

// compileTwice runs painterc with args on in twice, into a/NAME and
// b/NAME, and fails unless every file written is byte-identical. It
// returns the first output's path.
func compileTwice(t *testing.T, dir, in, name string, args ...string) string {
	t.Helper()
	var outs [2]string
	for i, sub := range []string{"a", "b"} {
		d := filepath.Join(dir, sub)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		outs[i] = filepath.Join(d, name)
		r := cli(t, append(append([]string{}, args...), in, "-o", outs[i], "-q")...)
		mustSucceed(t, r)
	}
	a, b := snapshot(t, filepath.Dir(outs[0])), snapshot(t, filepath.Dir(outs[1]))
	if len(a) == 0 {
		t.Fatal("no output")
	}
	if d := diffSnapshots(a, b); len(d) > 0 {
		t.Errorf("painterc %v: two runs differ: %v", args, d)
	}
	return outs[0]
}

// TestDeterminism: identical input and flags give byte-identical output,
// for every pass, some explicit schedules and external data.
func TestDeterminism(t *testing.T) {
	for _, spec := range []testmodels.Spec{
		{Family: testmodels.Llama, KVCache: true, Seed: 3},
		{Family: testmodels.BERT, Seed: 4},
	} {
		dir := t.TempDir()
		in := writeModel(t, filepath.Join(dir, "in", "model.onnx"), spec)
		for _, p := range passes.All {
			args := []string{"--pass=" + p.Name}
			switch p.Name {
			case "skip-one", "swap":
				args = append(args, "--index=3")
			case "random":
				args = append(args, "--seed=5")
			}
			t.Run(fmt.Sprintf("%v/%s", spec.Family, p.Name), func(t *testing.T) {
				compileTwice(t, filepath.Join(dir, p.Name), in, "out.onnx", args...)
			})
		}
		for i, s := range []string{"0,[1-6]x2,7", "0-3,(4,[5,6])x3,7", "7-0,0-7"} {
			t.Run(fmt.Sprintf("%v/schedule %s", spec.Family, s), func(t *testing.T) {
				compileTwice(t, filepath.Join(dir, fmt.Sprint("schedule", i)), in, "out.onnx", "--schedule="+s)
			})
		}
		t.Run(fmt.Sprintf("%v/external-data", spec.Family), func(t *testing.T) {
			out := compileTwice(t, filepath.Join(dir, "external"), in, "out.onnx", "--pass=middle-repeat", "--external-data")
			if _, err := os.Stat(out + ".data"); err != nil {
				t.Errorf("no external data written: %v", err)
			}
		})
	}
}

// TestRandomSeed: the random pass depends on --seed and nothing else.
func TestRandomSeed(t *testing.T) {
	dir := t.TempDir()
	in := writeModel(t, filepath.Join(dir, "in", "model.onnx"), tiny)
	schedule := func(seed int, sub string) (string, []byte) {
		out := compileTwice(t, filepath.Join(dir, sub), in, "out.onnx", "--pass=random", "--layers=1-6", fmt.Sprintf("--seed=%d", seed))
		return metadata(t, out)[rewrite.MetaSchedule], readFile(t, out)
	}
	s1, b1 := schedule(1, "seed1")
	s1again, b1again := schedule(1, "seed1-again")
	s2, b2 := schedule(2, "seed2")
	if s1 != s1again || !bytes.Equal(b1, b1again) {
		t.Errorf("--seed=1 twice: %s and %s, or different bytes", s1, s1again)
	}
	if s1 == s2 || bytes.Equal(b1, b2) {
		t.Errorf("--seed=1 and --seed=2 give the same schedule %s", s1)
	}
	// What plan prints is what compile writes.
	r := cli(t, "plan", "--pass=random", "--layers=1-6", "--seed=2", "--blocks=8")
	mustSucceed(t, r)
	if r.stdout != s2+"\n" {
		t.Errorf("plan says %q, compile wrote %q", r.stdout, s2)
	}
	// The shuffle is a function of the seed alone: a new process agrees.
	c := cliChild(t, childSpec{Args: []string{"plan", "--pass=random", "--layers=1-6", "--seed=2", "--blocks=8"}}, nil)
	if c.code != 0 || c.stdout != r.stdout {
		t.Errorf("in a new process: exit %d, %q; in this one %q", c.code, c.stdout, r.stdout)
	}
}
