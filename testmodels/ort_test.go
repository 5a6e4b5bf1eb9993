package testmodels

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/schedule"
)

// requireORT loads ONNX Runtime, or skips the test when the library is
// missing (fails instead under PAINTERC_REQUIRE_ORT=1).
func requireORT(t *testing.T) {
	t.Helper()
	err := runtime.Init(runtime.Options{})
	if err == nil {
		return
	}
	if os.Getenv("PAINTERC_REQUIRE_ORT") != "1" && (errors.Is(err, runtime.ErrLibraryNotFound) || errors.Is(err, runtime.ErrNoCgo)) {
		t.Skipf("ONNX Runtime unavailable (set PAINTERC_REQUIRE_ORT=1 to fail instead): %v", err)
	}
	t.Fatal(err)
}

// ortRunner saves the model Build(s, sched) and returns a function running
// it on ONNX Runtime with Reference-style feeds.
func ortRunner(t *testing.T, s Spec, sched schedule.Schedule) func(map[string]Tensor) map[string]Tensor {
	t.Helper()
	return ortRunnerAt(t, s, sched, "")
}

// ortRunnerAt is ortRunner at a graph optimization level ("" for ORT's
// default, all).
func ortRunnerAt(t *testing.T, s Spec, sched schedule.Schedule, level string) func(map[string]Tensor) map[string]Tensor {
	t.Helper()
	m, err := Build(s, sched)
	if err != nil {
		t.Fatal(err)
	}
	path := save(t, t.TempDir(), "model", m)
	sess, err := runtime.NewSession(path, runtime.SessionOptions{IntraOpThreads: 1, OptLevel: level})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return func(feeds map[string]Tensor) map[string]Tensor {
		t.Helper()
		return runSession(t, sess, feeds)
	}
}

// runSession feeds testmodels tensors (Int for integer inputs, Float for
// float ones) to a session and returns every output as float32.
func runSession(t *testing.T, sess *runtime.Session, feeds map[string]Tensor) map[string]Tensor {
	t.Helper()
	in := map[string]*runtime.Tensor{}
	// Float feeds take the input's float type (a float16 model's cache).
	half := map[string]bool{}
	for _, io := range sess.Inputs() {
		half[io.Name] = io.DType == onnx.Float16
	}
	for name, v := range feeds {
		switch {
		case v.Int != nil:
			in[name] = runtime.NewInt64(v.Shape, v.Int)
		case half[name]:
			in[name] = runtime.NewFloat16(v.Shape, v.Float)
		default:
			in[name] = runtime.NewFloat32(v.Shape, v.Float)
		}
	}
	out, err := sess.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]Tensor{}
	for name, v := range out {
		f, err := v.Float32s()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res[name] = Tensor{Shape: v.Shape, Float: f}
	}
	return res
}

// compare checks that got has exactly want's tensors, with equal shapes and
// values within tol.
func compare(t *testing.T, what string, got, want map[string]Tensor, tol float64) {
	t.Helper()
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(got) != len(want) {
		t.Errorf("%s: %d outputs, want %d", what, len(got), len(want))
	}
	for _, n := range names {
		g, ok := got[n]
		if !ok {
			t.Errorf("%s: no output %s", what, n)
			continue
		}
		if fmt.Sprint(g.Shape) != fmt.Sprint(want[n].Shape) {
			t.Errorf("%s: %s has shape %v, want %v", what, n, g.Shape, want[n].Shape)
			continue
		}
		if d := maxDiff(g.Float, want[n].Float); d > tol {
			t.Errorf("%s: %s differs from the reference by %g", what, n, d)
		}
	}
}

// TestORTMatchesReference runs every family (with and without the cache) in
// the default schedule and the non-trivial ones on ONNX Runtime and compares
// all outputs, presents included, with the Go reference.
func TestORTMatchesReference(t *testing.T) {
	requireORT(t)
	for _, s := range []Spec{
		{Family: Llama, Seed: 11},
		{Family: Llama, KVCache: true, Seed: 12},
		{Family: GPT2, Seed: 13},
		{Family: GPT2, KVCache: true, Seed: 14, NoLayerIndex: true},
		{Family: BERT, Seed: 15},
		{Family: Llama, Fused: true, KVCache: true, Seed: 16},
		{Family: Llama, GenAI: true, KVCache: true, Seed: 17},
		{Family: Llama, Dynamo: true, KVCache: true, Seed: 18},
		{Family: GPT2, Dynamo: true, KVCache: true, Seed: 19},
		{Family: BERT, Dynamo: true, Seed: 20},
	} {
		for _, src := range append([]string{"0-7"}, schedules...) {
			sched := mustParse(t, src)
			name := fmt.Sprintf("%v kv=%v %s", s.Family, s.KVCache, src)
			run := ortRunner(t, s, sched)
			o := InputOptions{Batch: 2, Seq: 5, Seed: 3}
			if s.KVCache {
				o.Past = 3
			}
			if s.GenAI {
				// GroupQueryAttention takes several new tokens after a
				// past only for batch 1; batch 2 runs without a past.
				feeds := mustInputs(t, s, sched, InputOptions{Batch: 2, Seq: 5, Seed: 4})
				compare(t, name+" batch 2", run(feeds), mustRef(t, s, sched, feeds), 1e-4)
				o.Batch = 1
			}
			feeds := mustInputs(t, s, sched, o)
			compare(t, name, run(feeds), mustRef(t, s, sched, feeds), 1e-4)
		}
	}
}

// TestORTPaddingMask checks the mask path, including fully masked query
// rows, against the reference.
func TestORTPaddingMask(t *testing.T) {
	requireORT(t)
	for _, s := range []Spec{{Family: Llama, KVCache: true}, {Family: GPT2}, {Family: BERT}} {
		sched := mustParse(t, schedules[0])
		o := InputOptions{Batch: 2, Seq: 6, Seed: 9, Pad: 2}
		if s.KVCache {
			o.Past = 2
			o.Pad = 3
		}
		feeds := mustInputs(t, s, sched, o)
		compare(t, fmt.Sprintf("%v padded", s.Family), ortRunner(t, s, sched)(feeds), mustRef(t, s, sched, feeds), 1e-4)
	}
}

// TestORTCacheConsistency: prefill 5 tokens (empty pasts) then decode the
// sixth with the presents as pasts equals the full 6-token run, on ONNX
// Runtime.
func TestORTCacheConsistency(t *testing.T) {
	requireORT(t)
	for _, c := range []struct {
		f   Family
		src string
	}{{Llama, "0-7"}, {Llama, schedules[0]}, {Llama, schedules[3]}, {GPT2, schedules[1]}} {
		s := Spec{Family: c.f, KVCache: true, Seed: 21}
		sched := mustParse(t, c.src)
		prefillDecode(t, s, sched, 6, ortRunner(t, s, sched))
	}
}

// TestORTGenAIInt4: the int4 genai model runs on ORT and matches Reference
// computed from the same weights quantized and dequantized as MatMulNBits
// stores them, up to the int8 quantization of activations that
// accuracy_level 4 adds (so the nibble order and scales are ORT's: a
// swapped nibble order puts the logits about 2 off); and it is not the
// float model.
func TestORTGenAIInt4(t *testing.T) {
	requireORT(t)
	s := Spec{Family: Llama, GenAI: true, KVCache: true, Int4: true, Seed: 17}
	fl := s
	fl.Int4 = false
	sched := mustParse(t, "0-7")
	feeds := mustInputs(t, s, sched, InputOptions{Batch: 1, Seq: 5, Past: 3, Seed: 3})
	got := ortRunner(t, s, sched)(feeds)
	d := maxDiff(got["logits"].Float, mustRef(t, s, sched, feeds)["logits"].Float)
	f := maxDiff(got["logits"].Float, mustRef(t, fl, sched, feeds)["logits"].Float)
	t.Logf("int4 logits: %g from the dequantized reference, %g from the float model", d, f)
	if d > 0.03 || f < 5*d {
		t.Errorf("int4 logits differ by %g from the dequantized reference (want <= 0.03) and by %g from the float model (want more than 5x that)", d, f)
	}
}

// TestORTFloat16: the float16 Llama (plain, with the cache, and genai) runs
// on ONNX Runtime's CPU provider and stays near Reference computed in
// float32 from the float16-rounded weights.
func TestORTFloat16(t *testing.T) {
	requireORT(t)
	for _, s := range []Spec{
		{Family: Llama, Float16: true, Seed: 41},
		{Family: Llama, Float16: true, KVCache: true, Seed: 42},
		{Family: Llama, Float16: true, GenAI: true, KVCache: true, Seed: 43},
	} {
		for _, src := range []string{"0-7", schedules[0]} {
			sched := mustParse(t, src)
			o := InputOptions{Batch: 1, Seq: 5, Seed: 3}
			if s.KVCache {
				o.Past = 3
			}
			feeds := mustInputs(t, s, sched, o)
			got := ortRunnerAt(t, s, sched, "basic")(feeds)
			want := mustRef(t, s, sched, feeds)
			d := maxDiff(got["logits"].Float, want["logits"].Float)
			t.Logf("float16 %+v %s: logits %g from the float32 reference", s, src, d)
			if d > 0.05 {
				t.Errorf("float16 %v kv=%v genai=%v %s: logits differ from the float32 reference by %g", s.Family, s.KVCache, s.GenAI, src, d)
			}
		}
	}
}
