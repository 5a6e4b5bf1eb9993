// Command testmodels writes one of painterc's small synthetic transformer
// models (package testmodels) to an ONNX file:
//
//	testmodels -family llama|gpt2|bert [-layers 8] [-kv] [-no-index] [-no-names]
//	           [-layout torch|fused|genai|genai-int4|dynamo] [-fp16]
//	           [-seed 1] [-schedule STR] -o out.onnx
//
// Without -schedule the model runs blocks 0..T-1 in order, as an exported
// model does; with it, the model runs its blocks directly in that schedule
// (the oracle painterc's rewrites are compared with).
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/runtime/npy"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "testmodels:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("testmodels", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	family := fs.String("family", "", "model family: llama, gpt2 or bert (required)")
	layers := fs.Int("layers", 8, "number of transformer blocks T")
	kv := fs.Bool("kv", false, "add optimum-style KV-cache inputs and outputs (llama, gpt2)")
	noIndex := fs.Bool("no-index", false, "drop the block index from node names (/model/layers/...)")
	noNames := fs.Bool("no-names", false, "leave every node unnamed and every intermediate value numbered")
	layout := fs.String("layout", "torch", "exporter layout: torch (TorchScript/optimum), fused (SkipSimplifiedLayerNormalization pairs), genai (onnxruntime-genai builder, llama with -kv; writes genai_config.json beside -o), genai-int4, dynamo (torch >= 2.5 dynamo=True); see docs/layouts.md")
	fp16 := fs.Bool("fp16", false, "store weights, constants and float I/O in float16 (llama)")
	seed := fs.Int64("seed", 1, "weight seed")
	schedSrc := fs.String("schedule", "", "run the blocks in this schedule (default: 0..T-1)")
	out := fs.StringP("output", "o", "", "output ONNX file (required)")
	inputs := fs.String("inputs", "", "also write sample inputs (batch 1, 8 tokens, empty cache) as NAME.npy into this directory")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: testmodels -family llama|gpt2|bert [flags] -o out.onnx\n\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(singleDash(fs, args)); err != nil {
		if err == pflag.ErrHelp {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *family == "" || *out == "" {
		fs.Usage()
		return fmt.Errorf("-family and -o are required")
	}
	f, err := testmodels.ParseFamily(*family)
	if err != nil {
		return err
	}
	spec := testmodels.Spec{Family: f, Layers: *layers, KVCache: *kv, NoLayerIndex: *noIndex, NoNames: *noNames, Seed: *seed, Float16: *fp16}
	switch *layout {
	case "torch":
	case "fused":
		spec.Fused = true
	case "genai":
		spec.GenAI = true
	case "genai-int4":
		spec.GenAI, spec.Int4 = true, true
	case "dynamo":
		spec.Dynamo = true
	default:
		return fmt.Errorf("-layout %q: want torch, fused, genai, genai-int4 or dynamo", *layout)
	}
	sched := spec.Identity()
	if *schedSrc != "" {
		if sched, err = schedule.Parse(*schedSrc); err != nil {
			return err
		}
		if err := sched.Validate(*layers); err != nil {
			return err
		}
	}
	m, err := testmodels.Build(spec, sched)
	if err != nil {
		return err
	}
	if err := onnx.Save(*out, m, onnx.SaveOptions{}); err != nil {
		return err
	}
	if spec.GenAI {
		cfg, err := testmodels.GenAIConfig(spec, len(testmodels.Instances(sched)), filepath.Base(*out))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(filepath.Dir(*out), "genai_config.json"), cfg, 0o644); err != nil {
			return err
		}
	}
	if *inputs != "" {
		if err := writeInputs(*inputs, spec, sched); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %s: %s, %d blocks, schedule %s, %d nodes, %d initializers\n",
		*out, f, *layers, sched.String(), len(m.Graph.Node), len(m.Graph.Initializer))
	return nil
}

// singleDash rewrites Go-style "-layers 8" and "-kv" into pflag's "--layers
// 8" and "--kv" for the long flags fs knows, so both spellings work.
// Shorthands ("-o") and everything after "--" are left alone.
func singleDash(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			continue
		}
		name := a[1:]
		if j := strings.IndexByte(name, '='); j >= 0 {
			name = name[:j]
		}
		if fs.Lookup(name) != nil {
			out[i] = "-" + a
		}
	}
	return out
}

// writeInputs saves RandomInputs as .npy files, one per graph input, so a
// model can be run with `painterc run --input NAME=DIR/NAME.npy`.
func writeInputs(dir string, spec testmodels.Spec, sched schedule.Schedule) error {
	feeds, err := testmodels.RandomInputs(spec, sched, testmodels.InputOptions{Seq: 8, Seed: 1})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, v := range feeds {
		t := runtime.NewInt64(v.Shape, v.Int)
		switch {
		case v.Int != nil:
		case spec.Float16:
			t = runtime.NewFloat16(v.Shape, v.Float)
		default:
			t = runtime.NewFloat32(v.Shape, v.Float)
		}
		if err := npy.WriteFile(filepath.Join(dir, name+".npy"), t); err != nil {
			return err
		}
	}
	return nil
}
