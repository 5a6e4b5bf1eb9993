package compile_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/internal/onnxcheck"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/passes"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/runtime/npy"
)

// torchExports are real torch.onnx exports (testdata/torch/export.py) with
// what detection must find in them.
var torchExports = []struct {
	file     string
	x0       string
	boundary string // format of block i's output
}{
	{"llama_tiny", "/model/embed_tokens/Gather_output_0", "/model/layers.%d/Add_1_output_0"},
	{"llama_tiny_kv", "/model/embed_tokens/Gather_output_0", "/model/layers.%d/Add_1_output_0"},
	{"gpt2_tiny", "/transformer/Add_output_0", "/transformer/h.%d/Add_1_output_0"},
}

func torchPath(name string) string {
	return filepath.Join("..", "testdata", "torch", name+".onnx")
}

func TestDetectTorchExports(t *testing.T) {
	for _, tc := range torchExports {
		t.Run(tc.file, func(t *testing.T) {
			m, err := onnx.Load(torchPath(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			b := run(t, m, compile.Options{Until: "detect"}).Blocks
			if b.T != 6 || b.Method != "names" {
				t.Fatalf("T=%d method=%s, want 6 by names", b.T, b.Method)
			}
			want := []string{tc.x0}
			for i := 0; i < 6; i++ {
				want = append(want, fmt.Sprintf(tc.boundary, i))
			}
			var got []string
			for _, st := range b.Boundary {
				got = append(got, st.String())
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("boundaries\n got %v\nwant %v", b.Boundary, want)
			}
		})
	}
}

// TestTorchExportsOnORT rewrites each export with identity and with the
// paper's strategies, checks the identity rewrite reproduces torch's own
// output, and that every rewrite loads, runs and passes the checker.
func TestTorchExportsOnORT(t *testing.T) {
	orttest.Require(t)
	dir := t.TempDir()
	var paths []string
	for _, tc := range torchExports {
		m, err := onnx.Load(torchPath(tc.file))
		if err != nil {
			t.Fatal(err)
		}
		b := run(t, m, compile.Options{Until: "detect"}).Blocks
		feeds := map[string]*runtime.Tensor{}
		matches, _ := filepath.Glob(filepath.Join("..", "testdata", "torch", tc.file+".in.*.npy"))
		for _, f := range matches {
			x, err := npy.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			feeds[strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), tc.file+".in."), ".npy")] = x
		}
		for _, pass := range []string{"identity", "skip", "reverse", "parallel", "looped-parallel", "middle-repeat"} {
			r := run(t, m, compile.Options{Pass: pass, PassOptions: passes.Options{N: 1, HasN: true}})
			out := r.Model
			path := save(t, dir, tc.file+"-"+pass, out)
			paths = append(paths, path)
			sess := orttest.Session(t, path)
			in := feeds
			if b.HasKV() {
				in = kvFeeds(feeds, r.Schedule.Instances(), b)
			}
			got, err := sess.Run(in)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.file, pass, err)
			}
			if pass != "identity" {
				continue
			}
			for name, g := range got {
				want, err := npy.ReadFile(filepath.Join("..", "testdata", "torch", tc.file+".out."+name+".npy"))
				if err != nil {
					t.Fatal(err)
				}
				gf, _ := g.Float32s()
				wf, _ := want.Float32s()
				if d := orttest.MaxDiff(gf, wf); d > 1e-5 {
					t.Errorf("%s identity: %s differs from torch by %g", tc.file, name, d)
				}
			}
		}
		m.Close()
	}
	onnxcheck.CheckMany(t, paths...)
}

// kvFeeds gives slot k the saved past of the block it runs.
func kvFeeds(feeds map[string]*runtime.Tensor, slots []int, b *rewrite.Blocks) map[string]*runtime.Tensor {
	out := map[string]*runtime.Tensor{}
	for n, v := range feeds {
		if !strings.HasPrefix(n, "past_key_values.") {
			out[n] = v
		}
	}
	for k, blk := range slots {
		out[fmt.Sprintf(b.KVNames.PastKey, k)] = feeds[b.KV[blk].PastKey]
		out[fmt.Sprintf(b.KVNames.PastValue, k)] = feeds[b.KV[blk].PastValue]
	}
	return out
}
