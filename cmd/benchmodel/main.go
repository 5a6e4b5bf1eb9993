// Command benchmodel writes the large testmodels graphs that painterc's
// benchmarks (scripts/bench.sh) compile: testmodels' own graph code, at
// sizes its small-model command does not offer, with the weights either
// generated into the file or referenced as external data in one sparse file.
//
//	benchmodel [-family llama] [-layers 32] -hidden 4096 [-heads 32] [-kv-heads 32]
//	           -ff 11008 -vocab 32000 [-external-data NAME] -o model.onnx
//
// With -external-data the weights are not generated: every parameter refers
// to its range of NAME (beside the output), which benchmodel creates as a
// sparse file of zeros of the right length (os.Truncate), so a 27 GB Llama-7B
// shaped model costs no disk space and no time to make. The graph is the one
// testmodels.Default builds for the same sizes (testmodels.Spec.ExternalData).
//
// -inputs DIR also writes random inputs (batch 1, -seq tokens) as NAME.npy.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/runtime/npy"
	"github.com/painterc/painterc/testmodels"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchmodel:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("benchmodel", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	family := fs.String("family", "llama", "model family: llama, gpt2 or bert")
	var s testmodels.Spec
	fs.IntVar(&s.Layers, "layers", 32, "number of transformer blocks T")
	fs.IntVar(&s.Hidden, "hidden", 0, "hidden size (testmodels default 32)")
	fs.IntVar(&s.Heads, "heads", 0, "attention heads (testmodels default 4)")
	fs.IntVar(&s.KVHeads, "kv-heads", 0, "key/value heads (default: testmodels' choice)")
	fs.IntVar(&s.FF, "ff", 0, "MLP width (testmodels default 64)")
	fs.IntVar(&s.Vocab, "vocab", 0, "vocabulary size (testmodels default 64)")
	fs.IntVar(&s.MaxPos, "max-pos", 0, "position table size, GPT-2 and BERT (testmodels default 64)")
	fs.Int64Var(&s.Seed, "seed", 1, "weight seed")
	fs.StringVar(&s.ExternalData, "external-data", "", "reference the weights in this sparse file beside the output instead of generating them")
	out := fs.StringP("output", "o", "", "output ONNX file (required)")
	inputs := fs.String("inputs", "", "also write random inputs as NAME.npy into this directory")
	seq := fs.Int("seq", 8, "tokens in the -inputs")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 || *out == "" {
		return fmt.Errorf("usage: benchmodel [flags] -o out.onnx (unexpected %q)", fs.Args())
	}
	f, err := testmodels.ParseFamily(*family)
	if err != nil {
		return err
	}
	s.Family = f
	m, err := testmodels.Default(s)
	if err != nil {
		return err
	}
	dir := filepath.Dir(*out)
	var dataBytes int64
	if s.ExternalData != "" {
		if dataBytes, err = testmodels.ExternalDataSize(m); err != nil {
			return err
		}
		data := filepath.Join(dir, filepath.FromSlash(s.ExternalData))
		if err := os.WriteFile(data, nil, 0o644); err != nil {
			return err
		}
		if err := os.Truncate(data, dataBytes); err != nil {
			os.Remove(data)
			return err
		}
		m.Dir = dir // Save finds the references there and keeps them
	} else {
		for _, t := range m.Graph.Initializer {
			dataBytes += int64(len(t.RawData))
		}
	}
	if err := onnx.Save(*out, m, onnx.SaveOptions{}); err != nil {
		return err
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	where := "in the model file"
	if s.ExternalData != "" {
		where = "in sparse external data " + filepath.Join(dir, s.ExternalData)
	}
	fmt.Fprintf(stdout, "wrote %s: %s, %d blocks, hidden %d, ff %d, vocab %d; %d nodes, %d initializers; model file %d bytes, weights %d bytes %s\n",
		*out, f, s.Layers, s.Hidden, s.FF, s.Vocab, len(m.Graph.Node), len(m.Graph.Initializer), fi.Size(), dataBytes, where)
	if *inputs != "" {
		feeds, err := testmodels.RandomInputs(s, s.Identity(), testmodels.InputOptions{Seq: *seq, Seed: 1})
		if err != nil {
			return err
		}
		if err := os.MkdirAll(*inputs, 0o755); err != nil {
			return err
		}
		for name, v := range feeds {
			t := runtime.NewInt64(v.Shape, v.Int)
			if v.Int == nil {
				t = runtime.NewFloat32(v.Shape, v.Float)
			}
			if err := npy.WriteFile(filepath.Join(*inputs, name+".npy"), t); err != nil {
				return err
			}
		}
	}
	return nil
}
