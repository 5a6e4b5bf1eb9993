package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/schedule"
)

type inspectReport struct {
	Path            string            `json:"path"`
	IRVersion       int64             `json:"ir_version"`
	Opsets          map[string]int64  `json:"opsets"`
	Producer        string            `json:"producer"`
	ProducerVersion string            `json:"producer_version"`
	Inputs          []ioReport        `json:"inputs"`
	Outputs         []ioReport        `json:"outputs"`
	Nodes           int               `json:"nodes"`
	Ops             []rewrite.OpCount `json:"ops"`
	Initializers    int               `json:"initializers"`
	InFileBytes     int64             `json:"initializer_bytes_in_file"`
	ExternalBytes   int64             `json:"initializer_bytes_external"`
	Metadata        map[string]string `json:"metadata"`
	Blocks          *blocksReport     `json:"blocks"`
	BlocksError     string            `json:"blocks_error,omitempty"`
}

type ioReport struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type blocksReport struct {
	Count      int           `json:"count"`
	Method     string        `json:"method"`
	Exporter   string        `json:"exporter,omitempty"` // "genai builder", "torch dynamo", "ORT-optimized", "TorchScript/optimum", "merged If (...)"
	Layout     string        `json:"layout"`
	Boundaries []string      `json:"boundaries"`
	SideInputs []string      `json:"side_inputs"`
	Prologue   int           `json:"prologue_nodes"`
	Epilogue   int           `json:"epilogue_nodes"`
	Blocks     []blockReport `json:"blocks"`
	Notes      []string      `json:"notes,omitempty"`
}

type blockReport struct {
	Index      int    `json:"index"`
	Nodes      int    `json:"nodes"`
	ParamBytes int64  `json:"param_bytes"`
	Input      string `json:"input"`
	Output     string `json:"output"`
	PastKey    string `json:"past_key,omitempty"`
	PastValue  string `json:"past_value,omitempty"`
	// The halves sub-block steps (i.attn, i.mlp) run: the mid stream
	// between them and each half's nodes and weights, or why the block
	// cannot be split.
	Mid            string `json:"mid,omitempty"`
	AttnNodes      int    `json:"attn_nodes,omitempty"`
	AttnParamBytes int64  `json:"attn_param_bytes,omitempty"`
	MLPNodes       int    `json:"mlp_nodes,omitempty"`
	MLPParamBytes  int64  `json:"mlp_param_bytes,omitempty"`
	NoHalves       string `json:"no_halves,omitempty"`
}

// cmdInspect describes a model: its interface, operators, weights, metadata
// and the blocks detection finds.
func cmdInspect(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("painterc inspect", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	boundaries := fs.StringSlice("boundaries", nil, "name the residual-stream tensors by hand: t0,t1,...,tT (a fused pair as a+r)")
	if err := fs.Parse(args); err != nil {
		return fail(exitUsage, err)
	}
	if fs.NArg() != 1 {
		return failf(exitUsage, "usage: painterc inspect MODEL [--json]")
	}
	path := fs.Arg(0)
	// Two runs of the pipeline: decoding must succeed, detection may fail
	// and is then reported as part of the description.
	dec, err := compile.Run(context.Background(), compile.Input{Path: path}, compile.Options{Until: "decode"})
	if err != nil {
		return compileError(nil, err)
	}
	defer dec.Close()
	m := dec.Input
	g := m.Graph
	r := inspectReport{
		Path: path, IRVersion: m.IRVersion, Opsets: map[string]int64{},
		Producer: m.ProducerName, ProducerVersion: m.ProducerVersion,
		Nodes: len(g.Node), Ops: rewrite.OpCounts(g), Initializers: len(g.Initializer),
		Metadata: map[string]string{},
	}
	for _, o := range m.OpsetImport {
		d := o.Domain
		if d == "" {
			d = "ai.onnx"
		}
		r.Opsets[d] = o.Version
	}
	for _, v := range g.Input {
		r.Inputs = append(r.Inputs, ioReport{v.Name, rewrite.TypeString(v.Type)})
	}
	for _, v := range g.Output {
		r.Outputs = append(r.Outputs, ioReport{v.Name, rewrite.TypeString(v.Type)})
	}
	for _, t := range g.Initializer {
		if t.DataLocation == onnx.LocationExternal {
			r.ExternalBytes += rewrite.TensorSize(t)
		} else {
			r.InFileBytes += rewrite.TensorSize(t)
		}
	}
	for _, p := range m.MetadataProps {
		r.Metadata[p.Key] = p.Value
	}
	det, err := compile.Run(context.Background(), compile.Input{Model: m}, compile.Options{Until: "detect", Boundaries: *boundaries})
	if err != nil {
		// The report names the model already: keep the reason only.
		var ce *compile.Error
		if errors.As(err, &ce) {
			err = ce.Err
		}
		r.BlocksError = err.Error()
	} else {
		b := det.Blocks
		var bounds []string
		for _, st := range b.Boundary {
			bounds = append(bounds, st.String())
		}
		br := &blocksReport{Count: b.T, Method: b.Method, Exporter: b.Exporter, Layout: b.Layout(), Boundaries: bounds, SideInputs: b.SideInputs,
			Prologue: len(b.Prologue), Epilogue: len(b.Epilogue), Notes: b.Notes}
		for i, nodes := range b.Block {
			bl := blockReport{Index: i, Nodes: len(nodes), ParamBytes: rewrite.ParamBytes(g, b.NodeGraph(g), nodes),
				Input: b.Boundary[i].String(), Output: b.Boundary[i+1].String()}
			if b.HasKV() {
				bl.PastKey, bl.PastValue = b.KV[i].PastKey, b.KV[i].PastValue
			}
			if b.Mid[i] != nil {
				attn, mlp := b.Half(i, schedule.Attn), b.Half(i, schedule.MLP)
				bl.Mid, bl.AttnNodes, bl.MLPNodes = b.Mid[i].String(), len(attn), len(mlp)
				bl.AttnParamBytes = rewrite.ParamBytes(g, b.NodeGraph(g), attn)
				bl.MLPParamBytes = rewrite.ParamBytes(g, b.NodeGraph(g), mlp)
			} else {
				bl.NoHalves = b.MidReason[i]
			}
			br.Blocks = append(br.Blocks, bl)
		}
		r.Blocks = br
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printInspect(stdout, &r)
	return nil
}

func printInspect(w io.Writer, r *inspectReport) {
	fmt.Fprintf(w, "model      %s\n", r.Path)
	fmt.Fprintf(w, "ir_version %d\n", r.IRVersion)
	var ops []string
	for d, v := range r.Opsets {
		ops = append(ops, fmt.Sprintf("%s %d", d, v))
	}
	fmt.Fprintf(w, "opsets     %s\n", strings.Join(sortedCopy(ops), ", "))
	fmt.Fprintf(w, "producer   %s %s\n", r.Producer, r.ProducerVersion)
	fmt.Fprintln(w, "inputs")
	for _, v := range r.Inputs {
		fmt.Fprintf(w, "  %-32s %s\n", v.Name, v.Type)
	}
	fmt.Fprintln(w, "outputs")
	for _, v := range r.Outputs {
		fmt.Fprintf(w, "  %-32s %s\n", v.Name, v.Type)
	}
	fmt.Fprintf(w, "nodes      %d\n", r.Nodes)
	for _, o := range r.Ops {
		name := o.Op
		if o.Domain != "" {
			name = o.Domain + "." + o.Op
		}
		fmt.Fprintf(w, "  %-32s %d\n", name, o.Count)
	}
	fmt.Fprintf(w, "initializers %d: %s in file, %s external\n", r.Initializers, humanBytes(r.InFileBytes), humanBytes(r.ExternalBytes))
	if len(r.Metadata) > 0 {
		fmt.Fprintln(w, "metadata")
		var keys []string
		for k := range r.Metadata {
			keys = append(keys, k)
		}
		for _, k := range sortedCopy(keys) {
			fmt.Fprintf(w, "  %s = %s\n", k, r.Metadata[k])
		}
	}
	if r.Blocks == nil {
		fmt.Fprintf(w, "blocks     not found: %s\n", r.BlocksError)
		return
	}
	b := r.Blocks
	fmt.Fprintf(w, "blocks     %d (found by %s); prologue %d nodes, epilogue %d nodes\n", b.Count, b.Method, b.Prologue, b.Epilogue)
	fmt.Fprintf(w, "layout     %s\n", b.Layout)
	fmt.Fprintf(w, "  %5s %6s %10s  %s\n", "block", "nodes", "params", "input -> output")
	for _, bl := range b.Blocks {
		fmt.Fprintf(w, "  %5d %6d %10s  %s -> %s\n", bl.Index, bl.Nodes, humanBytes(bl.ParamBytes), bl.Input, bl.Output)
	}
	for _, bl := range b.Blocks {
		if bl.NoHalves != "" {
			fmt.Fprintf(w, "no halves  block %d cannot run as %d.attn / %d.mlp: %s\n", bl.Index, bl.Index, bl.Index, bl.NoHalves)
		}
	}
	if len(b.SideInputs) > 0 {
		fmt.Fprintf(w, "side inputs %s\n", strings.Join(b.SideInputs, ", "))
	}
	for _, n := range b.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for x := n / unit; x >= unit; x /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func sortedCopy(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}
