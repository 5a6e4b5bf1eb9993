package rewrite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

// Fuzzing the compiler's path after decoding: Verify, Detect and Lower
// must never panic, whatever graph they get, and a graph that passes
// Verify and Detect must lower to a graph that passes Verify for every
// schedule. FuzzDetect mutates the bytes of whole models; FuzzGraphEdits
// mutates the graphs of the same models with node-level edits (delete,
// rewire, rename, reorder), which reach far more distinct graph shapes
// per run than byte flips that mostly land in weights. `make fuzz` runs
// them; plain `go test` runs their seeds and testdata/fuzz.

// fuzzSpecs are small test models (tiny sizes keep each run fast): every
// family, with and without KV cache, with layer indices in names, without,
// and without any names.
var fuzzSpecs = func() []testmodels.Spec {
	var out []testmodels.Spec
	for _, fam := range []testmodels.Family{testmodels.Llama, testmodels.GPT2, testmodels.BERT} {
		for _, kv := range []bool{false, true} {
			if kv && fam == testmodels.BERT {
				continue
			}
			for naming := 0; naming < 3; naming++ {
				s := testmodels.Spec{Family: fam, KVCache: kv, Layers: 4, Hidden: 8, Heads: 2, Vocab: 16, FF: 16, MaxPos: 16, Seed: 1}
				if fam == testmodels.Llama {
					s.KVHeads = 1
				}
				s.NoLayerIndex = naming == 1
				s.NoNames = naming == 2
				out = append(out, s)
			}
		}
	}
	return out
}()

var torchFiles = []string{"llama_tiny", "llama_tiny_kv", "gpt2_tiny"}

// fuzzBases are the models both fuzzers start from, encoded. The list only
// grows at its end: FuzzGraphEdits' regression seeds pick a base by index.
var fuzzBases = sync.OnceValues(func() ([][]byte, error) {
	var out [][]byte
	for _, s := range fuzzSpecs {
		m, err := testmodels.Default(s)
		if err != nil {
			return nil, fmt.Errorf("%+v: %w", s, err)
		}
		b, err := onnx.Encode(m)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	for _, name := range torchFiles {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "torch", name+".onnx"))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	// Llama in onnxruntime-genai's fused layout (pair boundaries), with and
	// without cache.
	for _, kv := range []bool{false, true} {
		s := testmodels.Spec{Family: testmodels.Llama, Fused: true, KVCache: kv, Layers: 4, Hidden: 8, Heads: 2, KVHeads: 1, Vocab: 16, FF: 16, Seed: 1}
		m, err := testmodels.Default(s)
		if err != nil {
			return nil, fmt.Errorf("%+v: %w", s, err)
		}
		b, err := onnx.Encode(m)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	// The genai builder (GroupQueryAttention, int4 too) and torch dynamo
	// (scopes in node metadata) layouts.
	for _, s := range []testmodels.Spec{
		{Family: testmodels.Llama, GenAI: true, KVCache: true, Layers: 4, Hidden: 32, Vocab: 16, FF: 32, MaxPos: 16, Seed: 1},
		{Family: testmodels.Llama, GenAI: true, Int4: true, KVCache: true, Layers: 4, Hidden: 32, Vocab: 16, FF: 32, MaxPos: 16, Seed: 1},
		{Family: testmodels.Llama, Dynamo: true, KVCache: true, Layers: 4, Hidden: 8, Heads: 2, KVHeads: 1, Vocab: 16, FF: 16, Seed: 1},
		{Family: testmodels.GPT2, Dynamo: true, Layers: 4, Hidden: 8, Heads: 2, Vocab: 16, FF: 16, MaxPos: 16, Seed: 1},
	} {
		m, err := testmodels.Default(s)
		if err != nil {
			return nil, fmt.Errorf("%+v: %w", s, err)
		}
		b, err := onnx.Encode(m)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
})

func FuzzDetect(f *testing.F) {
	bases, err := fuzzBases()
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range bases {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := onnx.Decode(data)
		if err != nil {
			return
		}
		checkCompile(t, m)
	})
}

// FuzzGraphEdits applies a list of graph edits, three bytes each, to one
// of the base models (chosen by base) and compiles the result.
func FuzzGraphEdits(f *testing.F) {
	bases, err := fuzzBases()
	if err != nil {
		f.Fatal(err)
	}
	for i := range bases {
		f.Add(uint8(i), []byte{})
		f.Add(uint8(i), []byte{0, 40, 0})            // delete a node
		f.Add(uint8(i), []byte{1, 60, 7, 3, 9, 200}) // rewire, swap
	}
	base := decodedBases(bases)
	f.Fuzz(func(t *testing.T, pick uint8, edits []byte) {
		m := editGraph(base(t, pick), edits)
		checkCompile(t, m)
	})
}

// FuzzBoundaries gives Detect hand-named boundaries (--boundaries), as a
// user may: any tensors, pairs "a+r", repeats, and names that do not exist.
// Each byte of picks names one boundary: the low bit makes it a pair with
// the next tensor.
func FuzzBoundaries(f *testing.F) {
	bases, err := fuzzBases()
	if err != nil {
		f.Fatal(err)
	}
	for i := range bases {
		f.Add(uint8(i), []byte{0, 64, 128, 192, 255})
		f.Add(uint8(i), []byte{10, 11, 200})
	}
	base := decodedBases(bases)
	f.Fuzz(func(t *testing.T, pick uint8, picks []byte) {
		m := base(t, pick)
		names := []string{"", "no_such_tensor"}
		for _, v := range m.Graph.Input {
			names = append(names, v.Name)
		}
		for _, n := range m.Graph.Node {
			names = append(names, n.Output...)
		}
		var bounds []string
		for _, p := range picks {
			k := int(p) * len(names) / 256
			b := names[k]
			if p&1 == 1 && k+1 < len(names) {
				b += "+" + names[k+1]
			}
			bounds = append(bounds, b)
		}
		checkCompileWith(t, m, DetectOptions{Boundaries: bounds})
	})
}

// editGraph returns a copy of m with edits applied. The copy shares
// tensors and attributes with m but not the node list, nodes, or their
// input and output lists, which are what the edits change.
func editGraph(m *onnx.Model, edits []byte) *onnx.Model {
	g := *m.Graph
	g.Node = make([]*onnx.Node, len(m.Graph.Node))
	for i, n := range m.Graph.Node {
		c := *n
		c.Input = append([]string(nil), n.Input...)
		c.Output = append([]string(nil), n.Output...)
		g.Node[i] = &c
	}
	g.Input = append([]*onnx.ValueInfo(nil), g.Input...)
	g.Output = append([]*onnx.ValueInfo(nil), g.Output...)
	out := *m
	out.Graph = &g

	// Most edits keep the graph valid (Verify passes), so that Detect and
	// Lower see plausible graphs rather than ones Verify turns away.
	for len(edits) >= 3 && len(g.Node) > 0 {
		op, a, b := edits[0], int(edits[1]), int(edits[2])
		edits = edits[3:]
		// Spread the bytes over the whole graph, so that one byte can reach
		// any of a few hundred nodes.
		k := a * len(g.Node) / 256
		n := g.Node[k]
		other := g.Node[b*len(g.Node)/256]
		switch op % 10 {
		case 0: // remove a node, its readers reading its first input instead
			by := ""
			if len(n.Input) > 0 {
				by = n.Input[0]
			}
			g.Node = append(g.Node[:k:k], g.Node[k+1:]...)
			for _, r := range g.Node {
				for j, in := range r.Input {
					if slices.Contains(n.Output, in) {
						r.Input[j] = by
					}
				}
			}
			for j, v := range g.Output {
				if slices.Contains(n.Output, v.Name) && by != "" {
					c := *v
					c.Name = by
					g.Output[j] = &c
				}
			}
		case 1: // rewire one input to a tensor defined before the node
			if len(n.Input) > 0 {
				if t := definedBefore(&g, k, b); t != "" {
					n.Input[b%len(n.Input)] = t
				}
			}
		case 2: // rewire one input to anything, valid or not
			if len(n.Input) > 0 {
				n.Input[b%len(n.Input)] = anyTensor(&g, a+b)
			}
		case 3: // swap two nodes in the list
			j := b * len(g.Node) / 256
			g.Node[k], g.Node[j] = g.Node[j], g.Node[k]
		case 4: // move a node into another node's scope (layer)
			n.Name = other.Name + "/moved"
		case 5: // take another node's op type
			n.OpType = other.OpType
		case 6: // drop a graph input or output
			if b%2 == 0 && len(g.Input) > 0 {
				j := a % len(g.Input)
				g.Input = append(g.Input[:j:j], g.Input[j+1:]...)
			} else if len(g.Output) > 0 {
				j := a % len(g.Output)
				g.Output = append(g.Output[:j:j], g.Output[j+1:]...)
			}
		case 7: // duplicate a node right after itself, with fresh outputs
			c := *n
			c.Name = n.Name + "/copy"
			c.Input = append([]string(nil), n.Input...)
			c.Output = make([]string, len(n.Output))
			for j, o := range n.Output {
				c.Output[j] = o + "/copy"
			}
			g.Node = append(g.Node[:k+1:k+1], append([]*onnx.Node{&c}, g.Node[k+1:]...)...)
		case 8: // an extra input (defined before) or output
			if b%2 == 0 {
				if t := definedBefore(&g, k, b); t != "" {
					n.Input = append(n.Input, t)
				}
			} else {
				n.Output = append(n.Output, fmt.Sprintf("extra_%d", a))
			}
		case 9: // a graph output or input named after any tensor
			name := anyTensor(&g, b)
			if b%2 == 0 {
				g.Output = append(g.Output, &onnx.ValueInfo{Name: name})
			} else {
				g.Input = append(g.Input, &onnx.ValueInfo{Name: name})
			}
		}
	}
	return &out
}

// definedBefore picks, by pick, a tensor that a graph input, an
// initializer or a node before node k defines; "" when there is none.
func definedBefore(g *onnx.Graph, k, pick int) string {
	var names []string
	for _, v := range g.Input {
		names = append(names, v.Name)
	}
	for _, t := range g.Initializer {
		names = append(names, t.Name)
	}
	for _, n := range g.Node[:k] {
		names = append(names, n.Output...)
	}
	if len(names) == 0 {
		return ""
	}
	return names[pick*len(names)/256]
}

// anyTensor picks any tensor name the graph mentions, or one it does not.
func anyTensor(g *onnx.Graph, pick int) string {
	names := []string{"", "no_such_tensor"}
	for _, v := range g.Input {
		names = append(names, v.Name)
	}
	for _, n := range g.Node {
		names = append(names, n.Output...)
	}
	return names[pick%len(names)]
}

// fuzzSchedules are what checkCompile lowers a T-block model with.
func fuzzSchedules(T int) []string {
	s := []string{fmt.Sprintf("0-%d", T-1), fmt.Sprintf("%d-0", T-1), "0x2"}
	if T >= 2 {
		s = append(s,
			fmt.Sprintf("0,%d", T-1),               // skip the middle
			fmt.Sprintf("[0-%d]", T-1),             // all in parallel
			fmt.Sprintf("0,[0-%d]x2,%d", T-1, T-1), // looped parallel
		)
	}
	return s
}

// checkCompile runs the compiler's phases on m and checks what each
// promises. It calls them directly rather than through compile.Run on
// purpose: it hands Lower graphs that failed Verify, which the pipeline
// would stop at, to prove that Lower refuses garbage without panicking. Nothing may panic (the fuzzer reports a panic
// as a failure with its input).
func checkCompile(t *testing.T, m *onnx.Model) {
	checkCompileWith(t, m, DetectOptions{})
}

func checkCompileWith(t *testing.T, m *onnx.Model, o DetectOptions) {
	verr := Verify("decode", m)
	if verr != nil {
		var ve *VerifyError
		if !errors.As(verr, &ve) || len(ve.Problems) == 0 || verr.Error() == "" {
			t.Fatalf("Verify error %T %q: want a *VerifyError listing problems", verr, verr)
		}
	}
	_ = Dump(m)
	if m.Graph == nil {
		return
	}
	b, err := Detect(m.Graph, o)
	if err != nil {
		var de *DetectError
		if !errors.As(err, &de) || len(de.Reasons) == 0 {
			t.Fatalf("Detect error %T %q: want a *DetectError with reasons", err, err)
		}
		return
	}
	checkBlocks(t, m.Graph, b)
	_ = DumpBlocks(m.Graph, b)
	for _, src := range fuzzSchedules(b.T) {
		s, err := schedule.Parse(src)
		if err != nil {
			t.Fatalf("schedule %s: %v", src, err)
		}
		out, _, err := Lower(m, b, s, Provenance{Pass: "fuzz"})
		if verr != nil {
			continue // garbage in: Lower may refuse, but must not panic
		}
		if err != nil {
			t.Fatalf("a graph that passes Verify and Detect (T=%d, by %s) does not lower with %s: %v", b.T, b.Method, src, err)
		}
		if err := Verify("lower", out); err != nil {
			t.Fatalf("lowered with %s, but the output is invalid: %v", src, err)
		}
		if _, err := onnx.Encode(out); err != nil {
			t.Fatalf("lowered with %s, but cannot encode: %v", src, err)
		}
	}
	// Every block in halves, then each attention half twice: lowers when
	// detection split every block, else refuses with a *PartError.
	var halves []string
	all := true
	for i := range b.T {
		halves = append(halves, fmt.Sprintf("%d.attn,%d.mlp", i, i))
		all = all && b.Mid[i] != nil
	}
	halves = append(halves, fmt.Sprintf("(%d.mlp,0.attnx2)x2", b.T-1))
	s, err := schedule.Parse(strings.Join(halves, ","))
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := Lower(m, b, s, Provenance{Pass: "fuzz"})
	var pe *PartError
	switch {
	case verr != nil:
	case !all && !errors.As(err, &pe):
		t.Fatalf("a block without a mid stream lowers its halves with %v, want a *PartError", err)
	case all && err != nil:
		t.Fatalf("a graph whose every block has halves (T=%d, by %s) does not lower them: %v", b.T, b.Method, err)
	case all:
		if err := Verify("lower", out); err != nil {
			t.Fatalf("lowered in halves, but the output is invalid: %v", err)
		}
	}
}

// checkBlocks checks the promises of Blocks' doc comment.
func checkBlocks(t *testing.T, g *onnx.Graph, b *Blocks) {
	if err := VerifyBlocks(g, b); err != nil {
		t.Fatal(err)
	}
}

// TestFuzzBases checks that the fuzzers start from models the compiler
// handles, so that their mutations reach Lower.
func TestFuzzBases(t *testing.T) {
	bases, err := fuzzBases()
	if err != nil {
		t.Fatal(err)
	}
	for i, data := range bases {
		m, err := onnx.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify("decode", m); err != nil {
			t.Fatalf("base %d: %v", i, err)
		}
		if _, err := Detect(m.Graph, DetectOptions{}); err != nil {
			t.Errorf("base %d: %v", i, err)
		}
	}
}

// decodedBases returns a function giving the decoded base model a fuzz
// byte picks, decoding each base once (bases are read-only to the fuzzers).
func decodedBases(bases [][]byte) func(*testing.T, uint8) *onnx.Model {
	decoded := make([]*onnx.Model, len(bases))
	return func(t *testing.T, pick uint8) *onnx.Model {
		i := int(pick) % len(bases)
		if decoded[i] == nil {
			m, err := onnx.Decode(bases[i])
			if err != nil {
				t.Fatal(err)
			}
			decoded[i] = m
		}
		return decoded[i]
	}
}
