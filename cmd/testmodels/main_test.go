package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/painterc/painterc/internal/onnxcheck"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

func TestWritesTheModelBuildReturns(t *testing.T) {
	dir := t.TempDir()
	for i, c := range []struct {
		args  []string
		spec  testmodels.Spec
		sched string
	}{
		{[]string{"-family", "llama", "-kv", "-o"}, testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 1, Layers: 8}, "0-7"},
		{[]string{"--family=gpt2", "--layers", "4", "--no-index", "--seed", "5", "--schedule", "0,[1-2]x2,3", "-o"},
			testmodels.Spec{Family: testmodels.GPT2, Layers: 4, NoLayerIndex: true, Seed: 5}, "0,[1-2]x2,3"},
		{[]string{"-family", "bert", "-layers=3", "-no-names", "-schedule", "2-0", "--output"},
			testmodels.Spec{Family: testmodels.BERT, Layers: 3, NoNames: true, Seed: 1}, "2-0"},
		{[]string{"-family", "llama", "-kv", "-layout", "genai", "-o"}, testmodels.Spec{Family: testmodels.Llama, KVCache: true, GenAI: true, Seed: 1, Layers: 8}, "0-7"},
		{[]string{"-family", "llama", "-kv", "-layout=genai-int4", "-schedule", "0-3,5x2", "-o"}, testmodels.Spec{Family: testmodels.Llama, KVCache: true, GenAI: true, Int4: true, Seed: 1, Layers: 8}, "0-3,5x2"},
		{[]string{"-family", "gpt2", "-layout", "dynamo", "-o"}, testmodels.Spec{Family: testmodels.GPT2, Dynamo: true, Seed: 1, Layers: 8}, "0-7"},
		{[]string{"-family", "llama", "-fp16", "-layout", "fused", "-o"}, testmodels.Spec{Family: testmodels.Llama, Float16: true, Fused: true, Seed: 1, Layers: 8}, "0-7"},
	} {
		sub := filepath.Join(dir, strconv.Itoa(i))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(sub, strings.Join(c.args[:2], "")+".onnx")
		var stdout, stderr bytes.Buffer
		if err := run(append(slices.Clone(c.args), out), &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v\n%s", c.args, err, stderr.String())
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		sched, err := schedule.Parse(c.sched)
		if err != nil {
			t.Fatal(err)
		}
		want, err := onnx.Encode(testmodels.MustBuild(c.spec, sched))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%v: the file is not Build's model", c.args)
		}
		if !strings.Contains(stdout.String(), "wrote "+out) {
			t.Errorf("%v: stdout %q", c.args, stdout.String())
		}
		if c.spec.GenAI {
			// genai_config.json beside it, with one layer per instance.
			cfg, err := os.ReadFile(filepath.Join(sub, "genai_config.json"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := testmodels.GenAIConfig(c.spec, len(testmodels.Instances(sched)), filepath.Base(out))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(cfg, want) {
				t.Errorf("%v: genai_config.json:\n%s", c.args, cfg)
			}
		}
		if !c.spec.GenAI && !c.spec.Dynamo { // docs/layouts.md: what Debian's onnx 1.12 checker can read
			onnxcheck.Check(t, out)
		}
	}
}

func TestRejects(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.onnx")
	for _, args := range [][]string{
		{"-o", out},
		{"-family", "llama"},
		{"-family", "t5", "-o", out},
		{"-family", "llama", "-schedule", "0-8", "-o", out},
		{"-family", "llama", "-schedule", "0,,1", "-o", out},
		{"-family", "bert", "-kv", "-o", out},
		{"-family", "llama", "-o", out, "extra"},
		{"-family", "llama", "-layout", "onnx", "-o", out},
		{"-family", "llama", "-layout", "genai", "-o", out}, // genai needs -kv
	} {
		var stdout, stderr bytes.Buffer
		if err := run(args, &stdout, &stderr); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a rejected command wrote a file")
	}
}

func TestSingleDash(t *testing.T) {
	var stderr bytes.Buffer
	if err := run([]string{"-h"}, &bytes.Buffer{}, &stderr); err != nil || !strings.Contains(stderr.String(), "--family") {
		t.Errorf("help: %v %q", err, stderr.String())
	}
}
