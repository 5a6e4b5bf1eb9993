// Package orttest holds the test helpers that run models on ONNX Runtime and
// compare their outputs, shared by the packages whose tests need an oracle.
package orttest

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/testmodels"
)

// Require loads ONNX Runtime, or skips the test when the library is missing
// (and fails instead under PAINTERC_REQUIRE_ORT=1, as CI sets).
func Require(tb testing.TB) {
	tb.Helper()
	err := runtime.Init(runtime.Options{})
	if err == nil {
		return
	}
	if os.Getenv("PAINTERC_REQUIRE_ORT") != "1" && (errors.Is(err, runtime.ErrLibraryNotFound) || errors.Is(err, runtime.ErrNoCgo)) {
		tb.Skipf("ONNX Runtime unavailable (set PAINTERC_REQUIRE_ORT=1 to fail instead): %v", err)
	}
	tb.Fatal(err)
}

// Session opens a model on ORT (one intra-op thread, so runs are
// reproducible) and closes it when the test ends.
func Session(tb testing.TB, path string) *runtime.Session {
	tb.Helper()
	return SessionAt(tb, path, "")
}

// SessionAt is Session at a graph optimization level ("" for ORT's
// default, all). Float16 Llama models need "extended" or lower: at all,
// ONNX Runtime 1.24.1's CPU provider fails to initialize them (its
// SimplifiedLayerNormFusion looks up a Cast that InsertCastTransformer
// added and then removed: "Attempting to get index by a name which does
// not exist: InsertedPrecisionFreeCast_...").
func SessionAt(tb testing.TB, path, level string) *runtime.Session {
	tb.Helper()
	s, err := runtime.NewSession(path, runtime.SessionOptions{IntraOpThreads: 1, OptLevel: level})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Run feeds testmodels-style tensors (Int for integer inputs, Float for
// float ones) to a session and returns every output as float32.
func Run(tb testing.TB, s *runtime.Session, feeds map[string]testmodels.Tensor) map[string]testmodels.Tensor {
	tb.Helper()
	return RunWith(tb, s, feeds, nil)
}

// MaxDiff is the largest absolute element difference; NaN anywhere, or a
// length mismatch, gives +Inf so that it can never pass a tolerance.
func MaxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		x := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(x) {
			return math.Inf(1)
		}
		d = max(d, x)
	}
	return d
}

// Compare checks that got has exactly want's outputs, with equal shapes and
// values within tol, and returns the largest difference seen.
func Compare(tb testing.TB, what string, got, want map[string]testmodels.Tensor, tol float64) float64 {
	tb.Helper()
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(got) != len(want) {
		tb.Errorf("%s: %d outputs, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for _, n := range names {
		g, ok := got[n]
		if !ok {
			tb.Errorf("%s: no output %s", what, n)
			continue
		}
		if fmt.Sprint(g.Shape) != fmt.Sprint(want[n].Shape) {
			tb.Errorf("%s: %s has shape %v, want %v", what, n, g.Shape, want[n].Shape)
			continue
		}
		d := MaxDiff(g.Float, want[n].Float)
		worst = max(worst, d)
		if d > tol {
			tb.Errorf("%s: %s differs by %g (tolerance %g)", what, n, d, tol)
		}
	}
	return worst
}

// RunWith is Run with extra inputs given as runtime tensors (for types
// testmodels.Tensor cannot hold, such as bool).
func RunWith(tb testing.TB, s *runtime.Session, feeds map[string]testmodels.Tensor, extra map[string]*runtime.Tensor) map[string]testmodels.Tensor {
	tb.Helper()
	in := map[string]*runtime.Tensor{}
	// Float feeds take the input's float type (a float16 model's cache).
	half := map[string]bool{}
	for _, io := range s.Inputs() {
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
	for name, v := range extra {
		in[name] = v
	}
	out, err := s.Run(in)
	if err != nil {
		tb.Fatal(err)
	}
	res := map[string]testmodels.Tensor{}
	for name, v := range out {
		f, err := v.Float32s()
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		res[name] = testmodels.Tensor{Shape: v.Shape, Float: f}
	}
	return res
}
