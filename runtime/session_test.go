//go:build cgo

package runtime

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestInitAndVersion(t *testing.T) {
	requireORT(t)
	if v := Version(); !strings.HasPrefix(v, "1.24.") {
		t.Errorf("Version() = %q, want 1.24.x", v)
	}
	if p := LibraryPath(); !filepath.IsAbs(p) {
		t.Errorf("LibraryPath() = %q, want an absolute path", p)
	}
	// Idempotent: no path, the same path, the same file via another name.
	if err := Init(Options{}); err != nil {
		t.Errorf("second Init: %v", err)
	}
	if err := Init(Options{LibPath: LibraryPath()}); err != nil {
		t.Errorf("Init with the loaded path: %v", err)
	}
	if err := Init(Options{LibPath: filepath.Dir(LibraryPath())}); err != nil {
		t.Errorf("Init with the loaded library's directory: %v", err)
	}
	// Another library once loaded: refused, not loaded.
	err := Init(Options{LibPath: "/etc/hostname"})
	var already *AlreadyInitializedError
	if !errors.As(err, &already) {
		t.Errorf("Init(other library) after success = %v, want *AlreadyInitializedError", err)
	}
	if err := Init(Options{LogLevel: "loud"}); err == nil {
		t.Error("Init with a bad log level succeeded")
	}
}

func TestDynamicAxes(t *testing.T) {
	// example_dynamic_axes.onnx: input_vectors float32[batch, 10] ->
	// output_scalars float32[batch], the sum of each row. The model is copied
	// to a path with spaces and non-ASCII characters.
	dir := filepath.Join(t.TempDir(), "dir with spaces ż 大")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(testModel("example_dynamic_axes.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "model 김.onnx")
	if err := os.WriteFile(model, src, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openSession(t, model, SessionOptions{IntraOpThreads: 1, InterOpThreads: 1, OptLevel: "basic"})

	in, out := s.Inputs(), s.Outputs()
	if len(in) != 1 || in[0].Name != "input_vectors" || in[0].DType != Float || !slices.Equal(in[0].Shape, []int64{-1, 10}) || in[0].Kind != "tensor" {
		t.Fatalf("Inputs() = %+v", in)
	}
	if in[0].DimNames[0] == "" || in[0].DimNames[1] != "" {
		t.Errorf("input DimNames = %q, want a name for the batch dimension only", in[0].DimNames)
	}
	if len(out) != 1 || out[0].Name != "output_scalars" || out[0].DType != Float || !slices.Equal(out[0].Shape, []int64{-1}) {
		t.Fatalf("Outputs() = %+v", out)
	}
	// The returned metadata is a copy.
	in[0].Shape[0] = 99
	if s.Inputs()[0].Shape[0] != -1 {
		t.Error("Inputs() shares its slices with the session")
	}

	for _, batch := range []int{1, 3, 17} {
		x := make([]float32, batch*10)
		want := make([]float32, batch)
		for i := range x {
			x[i] = float32(i%13) - 4.5
			want[i/10] += x[i]
		}
		res, err := s.Run(map[string]*Tensor{"input_vectors": NewFloat32([]int64{int64(batch), 10}, x)})
		if err != nil {
			t.Fatalf("batch %d: Run: %v", batch, err)
		}
		got := res["output_scalars"]
		if got == nil || !slices.Equal(got.Shape, []int64{int64(batch)}) || got.DType != Float {
			t.Fatalf("batch %d: output = %v", batch, got)
		}
		vals, err := got.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Abs(float64(vals[i]-want[i])) > 1e-4 {
				t.Errorf("batch %d: sum[%d] = %v, want %v", batch, i, vals[i], want[i])
			}
		}
	}
}

func TestFloat16InBFloat16Out(t *testing.T) {
	// example_float16.onnx: InputA float16[1 2 2 2] -> OutputA bfloat16, 3*x.
	// onnxruntime_go's own Run cannot return this output when ORT allocates
	// it; the shim can.
	s := openSession(t, testModel("example_float16.onnx"), SessionOptions{})
	if in := s.Inputs(); in[0].DType != Float16 {
		t.Fatalf("input type %v, want float16", in[0].DType)
	}
	if out := s.Outputs(); out[0].DType != BFloat16 {
		t.Fatalf("output type %v, want bfloat16", out[0].DType)
	}
	x := []float32{0, 1, 2, 3, 4, 5, 6, 7}
	res, err := s.Run(map[string]*Tensor{"InputA": NewFloat16([]int64{1, 2, 2, 2}, x)})
	if err != nil {
		t.Fatal(err)
	}
	got := res["OutputA"]
	if got.DType != BFloat16 || !slices.Equal(got.Shape, []int64{1, 2, 2, 2}) || len(got.Data) != 16 {
		t.Fatalf("output %v with %d bytes", got, len(got.Data))
	}
	vals, _ := got.Float32s()
	for i, v := range x {
		if vals[i] != 3*v {
			t.Errorf("OutputA[%d] = %v, want %v", i, vals[i], 3*v)
		}
	}
	if want := NewBFloat16([]int64{1, 2, 2, 2}, []float32{0, 3, 6, 9, 12, 15, 18, 21}); !reflect.DeepEqual(got, want) {
		t.Errorf("output bytes %x, want %x", got.Data, want.Data)
	}
}

func TestMultitype(t *testing.T) {
	// example_multitype.onnx: InputA uint8[1 1 1], InputB float64[1 2 2] ->
	// OutputA int16 = B*A - 512, OutputB int64 = A*1234.
	s := openSession(t, testModel("example_multitype.onnx"), SessionOptions{})
	a := byte(7)
	b := []float64{1, 100, 200, -3}
	inputs := map[string]*Tensor{
		"InputA": NewUint8([]int64{1, 1, 1}, []uint8{a}),
		"InputB": NewFloat64([]int64{1, 2, 2}, b),
	}
	res, err := s.Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("got %d outputs, want 2", len(res))
	}
	outA := res["OutputA"]
	if outA.DType != Int16 || !slices.Equal(outA.Shape, []int64{1, 2, 2}) {
		t.Fatalf("OutputA = %v", outA)
	}
	gotA, _ := outA.Int64s()
	for i := range b {
		if want := int64(b[i]*float64(a) - 512); gotA[i] != want {
			t.Errorf("OutputA[%d] = %d, want %d", i, gotA[i], want)
		}
	}

	// Only the named output comes back.
	res, err = s.Run(inputs, "OutputB", "OutputB")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res["OutputB"] == nil {
		t.Fatalf("Run(..., OutputB) returned %v", res)
	}
	gotB, _ := res["OutputB"].Int64s()
	if res["OutputB"].DType != Int64 || !slices.Equal(gotB, []int64{int64(a) * 1234}) {
		t.Errorf("OutputB = %v %v, want int64 [%d]", res["OutputB"], gotB, int(a)*1234)
	}
}

func TestSeveralInputsAndOutputs(t *testing.T) {
	// example_several_inputs_and_outputs.onnx: "input 1" int32[2 5 2 5],
	// "input 2" float32[2 3 20], "input 3" bfloat16[9] -> "output 1" int64[10
	// 10] = input 1 reshaped with input3[0] added to [0][0]; "output 2"
	// float64[1 2 3 4 5] = input 2 reshaped.
	s := openSession(t, testModel("example_several_inputs_and_outputs.onnx"), SessionOptions{OptLevel: "disable"})
	names := func(infos []IOInfo) (n []string) {
		for _, i := range infos {
			n = append(n, i.Name)
		}
		return
	}
	if got := names(s.Inputs()); !slices.Equal(got, []string{"input 1", "input 2", "input 3"}) {
		t.Errorf("inputs %q", got)
	}
	if got := names(s.Outputs()); !slices.Equal(got, []string{"output 1", "output 2"}) {
		t.Errorf("outputs %q", got)
	}
	in1 := make([]int32, 100)
	for i := range in1 {
		in1[i] = int32(i*3 - 50)
	}
	in2 := make([]float32, 120)
	for i := range in2 {
		in2[i] = float32(i)*0.25 - 7
	}
	c0 := float32(5)
	res, err := s.Run(map[string]*Tensor{
		"input 1": NewInt32([]int64{2, 5, 2, 5}, in1),
		"input 2": NewFloat32([]int64{2, 3, 20}, in2),
		"input 3": NewBFloat16([]int64{9}, []float32{c0, 1, 2, 3, 4, 5, 6, 7, 8}),
	})
	if err != nil {
		t.Fatal(err)
	}
	o1, o2 := res["output 1"], res["output 2"]
	if o1.DType != Int64 || !slices.Equal(o1.Shape, []int64{10, 10}) {
		t.Fatalf("output 1 = %v", o1)
	}
	if o2.DType != Double || !slices.Equal(o2.Shape, []int64{1, 2, 3, 4, 5}) {
		t.Fatalf("output 2 = %v", o2)
	}
	got1, _ := o1.Int64s()
	for i, v := range in1 {
		want := int64(v)
		if i == 0 {
			want += int64(c0)
		}
		if got1[i] != want {
			t.Errorf("output 1[%d] = %d, want %d", i, got1[i], want)
		}
	}
	got2, _ := o2.Float64s()
	for i, v := range in2 {
		if got2[i] != float64(v) {
			t.Errorf("output 2[%d] = %v, want %v", i, got2[i], v)
		}
	}
}

func TestZeroSizedOutput(t *testing.T) {
	// example_0_dim_output.onnx: x float32[2 8] -> y of shape [2, N, 8]
	// where N = int(sum of column 0); all-zero input gives [2 0 8].
	s := openSession(t, testModel("example_0_dim_output.onnx"), SessionOptions{})
	res, err := s.Run(map[string]*Tensor{"x": NewFloat32([]int64{2, 8}, make([]float32, 16))})
	if err != nil {
		t.Fatal(err)
	}
	y := res["y"]
	if !slices.Equal(y.Shape, []int64{2, 0, 8}) || len(y.Data) != 0 || y.Data == nil {
		t.Errorf("y = %v with data %v, want float32[2 0 8] and empty non-nil data", y, y.Data)
	}
	// A non-zero sum gives N rows of the column sums.
	x := make([]float32, 16)
	x[0], x[8], x[1] = 1, 2, 4 // column 0 sums to 3, column 1 to 4
	res, err = s.Run(map[string]*Tensor{"x": NewFloat32([]int64{2, 8}, x)})
	if err != nil {
		t.Fatal(err)
	}
	vals, _ := res["y"].Float32s()
	if !slices.Equal(res["y"].Shape, []int64{2, 3, 8}) || vals[0] != 3 || vals[1] != 4 || vals[2] != 0 {
		t.Errorf("y = %v %v", res["y"], vals[:8])
	}
}

func TestGeneratedModelAllTypes(t *testing.T) {
	// A model written here: Identity for each of several element types and
	// ranks (scalar, zero-sized, symbolic dims), plus a float16 Add whose
	// output size is only known at run time.
	type tc struct {
		dt   DataType
		dims []any
		in   *Tensor
	}
	cases := []tc{
		{Float, []any{"n", 3}, NewFloat32([]int64{2, 3}, []float32{1, -2, 3.5, 0, float32(math.Inf(1)), -0.25})},
		{Double, []any{}, NewFloat64(nil, []float64{math.Pi})},
		{Float16, []any{"n"}, NewFloat16([]int64{3}, []float32{0.5, -65504, 6.1035156e-05})},
		{BFloat16, []any{"n", "m"}, NewBFloat16([]int64{1, 2}, []float32{1.5, -3})},
		{Int64, []any{}, NewInt64(nil, []int64{-1 << 62})},
		{Int32, []any{"n"}, NewInt32([]int64{0}, nil)},
		{Int16, []any{2}, &Tensor{DType: Int16, Shape: []int64{2}, Data: []byte{0xff, 0x7f, 0x00, 0x80}}},
		{Int8, []any{"n"}, NewInt8([]int64{3}, []int8{-128, 0, 127})},
		{Uint8, []any{"n"}, NewUint8([]int64{2}, []uint8{0, 255})},
		{Uint16, []any{1}, &Tensor{DType: Uint16, Shape: []int64{1}, Data: []byte{0xff, 0xff}}},
		{Uint32, []any{1}, &Tensor{DType: Uint32, Shape: []int64{1}, Data: []byte{1, 2, 3, 4}}},
		{Uint64, []any{1}, &Tensor{DType: Uint64, Shape: []int64{1}, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}}},
		{Bool, []any{"n", 2}, NewBool([]int64{2, 2}, []bool{true, false, false, true})},
	}
	var ins, outs []valueInfo
	var nodes []nodeProto
	inputs := map[string]*Tensor{}
	for i, c := range cases {
		in, out := fmt.Sprintf("in_%s_%d", c.dt, i), fmt.Sprintf("out_%s_%d", c.dt, i)
		ins = append(ins, valueInfo{in, c.dt, c.dims})
		outs = append(outs, valueInfo{out, c.dt, c.dims})
		nodes = append(nodes, nodeProto{"Identity", []string{in}, []string{out}})
		inputs[in] = c.in
	}
	ins = append(ins, valueInfo{"h", Float16, []any{"len"}})
	outs = append(outs, valueInfo{"h2", Float16, []any{"len"}})
	nodes = append(nodes, nodeProto{"Add", []string{"h", "h"}, []string{"h2"}})
	hv := make([]float32, 1000)
	for i := range hv {
		hv[i] = float32(i) / 4
	}
	inputs["h"] = NewFloat16([]int64{1000}, hv)

	model := writeModel(t, "types.onnx", buildModel(ins, outs, nodes))
	s := openSession(t, model, SessionOptions{})
	if got := s.Inputs()[2]; got.DType != Float16 || !slices.Equal(got.DimNames, []string{"n"}) || got.String() != "in_float16_2: float16[n]" {
		t.Errorf("Inputs()[2] = %+v (%s)", got, got)
	}
	if got := s.Inputs()[1]; len(got.Shape) != 0 || got.String() != "in_float64_1: float64[]" {
		t.Errorf("scalar input info = %+v (%s)", got, got)
	}
	res, err := s.Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(cases)+1 {
		t.Errorf("got %d outputs, want %d", len(res), len(cases)+1)
	}
	for i, c := range cases {
		out := res[fmt.Sprintf("out_%s_%d", c.dt, i)]
		if out == nil {
			t.Errorf("%s: no output", c.dt)
			continue
		}
		want := *c.in
		if want.Data == nil {
			want.Data = []byte{}
		}
		if !reflect.DeepEqual(out, &want) {
			t.Errorf("%s: Identity gave %v %x, want %v %x", c.dt, out, out.Data, &want, want.Data)
		}
	}
	h2, _ := res["h2"].Float32s()
	for i, v := range hv {
		if h2[i] != 2*v {
			t.Fatalf("h2[%d] = %v, want %v", i, h2[i], 2*v)
		}
	}
}

func TestRunErrors(t *testing.T) {
	s := openSession(t, testModel("example_multitype.onnx"), SessionOptions{})
	good := func() map[string]*Tensor {
		return map[string]*Tensor{
			"InputA": NewUint8([]int64{1, 1, 1}, []uint8{1}),
			"InputB": NewFloat64([]int64{1, 2, 2}, []float64{1, 2, 3, 4}),
		}
	}
	cases := []struct {
		name  string
		edit  func(m map[string]*Tensor)
		outs  []string
		wants []string
	}{
		{"unknown input", func(m map[string]*Tensor) { m["InputC"] = NewFloat32(nil, []float32{1}) }, nil,
			[]string{`has no input "InputC"`, "InputA: uint8[1 1 1]", "InputB: float64[1 2 2]"}},
		{"missing input", func(m map[string]*Tensor) { delete(m, "InputB") }, nil,
			[]string{`missing input "InputB"`, "InputB: float64[1 2 2]"}},
		{"wrong type", func(m map[string]*Tensor) { m["InputB"] = NewFloat32([]int64{1, 2, 2}, []float32{1, 2, 3, 4}) }, nil,
			[]string{`input "InputB" is float32[1 2 2]`, "float64[1 2 2]"}},
		{"wrong rank", func(m map[string]*Tensor) { m["InputB"] = NewFloat64([]int64{4}, []float64{1, 2, 3, 4}) }, nil,
			[]string{"rank 1", "wants rank 3"}},
		{"wrong dim", func(m map[string]*Tensor) { m["InputB"] = NewFloat64([]int64{1, 4, 1}, []float64{1, 2, 3, 4}) }, nil,
			[]string{"dimension 1 must be 2"}},
		{"short data", func(m map[string]*Tensor) { m["InputB"] = NewFloat64([]int64{1, 2, 2}, []float64{1, 2, 3}) }, nil,
			[]string{"needs 4 elements", "has 24 bytes"}},
		{"nil tensor", func(m map[string]*Tensor) { m["InputA"] = nil }, nil, []string{`"InputA" is nil`}},
		{"negative dim", func(m map[string]*Tensor) { m["InputB"] = &Tensor{DType: Double, Shape: []int64{1, -2, 2}} }, nil,
			[]string{"invalid tensor shape"}},
		{"unknown output", func(map[string]*Tensor) {}, []string{"OutputB", "OutputZ"},
			[]string{`has no output "OutputZ"`, "OutputA: int16[1 2 2]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := good()
			c.edit(in)
			res, err := s.Run(in, c.outs...)
			if err == nil {
				t.Fatalf("Run succeeded: %v", res)
			}
			if !errors.Is(err, ErrBadInput) {
				t.Errorf("error %v does not match ErrBadInput", err)
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestStringModelMetadata(t *testing.T) {
	// Strings have no fixed-size raw form: listed, but not runnable.
	model := writeModel(t, "strings.onnx", buildModel(
		[]valueInfo{{"s", String, []any{"n"}}}, []valueInfo{{"s2", String, []any{"n"}}},
		[]nodeProto{{"Identity", []string{"s"}, []string{"s2"}}}))
	s := openSession(t, model, SessionOptions{})
	if in := s.Inputs(); len(in) != 1 || in[0].DType != String {
		t.Fatalf("Inputs() = %+v", in)
	}
	_, err := s.Run(map[string]*Tensor{"s": {DType: String, Shape: []int64{1}, Data: make([]byte, 8)}})
	if err == nil || !strings.Contains(err.Error(), "not supported") || !errors.Is(err, ErrBadInput) {
		t.Errorf("Run with a string tensor: %v", err)
	}
}

func TestCUDAOnCPUBuild(t *testing.T) {
	requireORT(t)
	if isFile(filepath.Join(filepath.Dir(LibraryPath()), "libonnxruntime_providers_cuda.so")) {
		t.Skip("the loaded ONNX Runtime has a CUDA provider; this test is for the CPU build")
	}
	s, err := NewSession(testModel("example_multitype.onnx"), SessionOptions{Device: "cuda"})
	if err == nil {
		s.Close()
		t.Fatal("NewSession(device cuda) succeeded on the CPU build")
	}
	var de *DeviceError
	if !errors.As(err, &de) || !errors.Is(err, ErrDevice) {
		t.Fatalf("error %T %v, want *DeviceError", err, err)
	}
	for _, w := range []string{"--device cuda", "CPU build of ONNX Runtime 1.24", LibraryPath(), "CUDA build", "--ort-lib", "--device cpu"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestSessionOptionErrors(t *testing.T) {
	requireORT(t)
	m := testModel("example_multitype.onnx")
	for _, so := range []SessionOptions{{Device: "tpu"}, {OptLevel: "max"}, {IntraOpThreads: -1}} {
		if s, err := NewSession(m, so); err == nil {
			s.Close()
			t.Errorf("NewSession(%+v) succeeded", so)
		}
	}
	if _, err := NewSession(filepath.Join(t.TempDir(), "nope.onnx"), SessionOptions{}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing model: %v", err)
	}
	bad := writeModel(t, "bad.onnx", []byte("this is not a model"))
	if _, err := NewSession(bad, SessionOptions{}); err == nil || !strings.Contains(err.Error(), "bad.onnx") {
		t.Errorf("garbage model: %v", err)
	}
	if _, err := NewSession(t.TempDir(), SessionOptions{}); err == nil {
		t.Error("directory as model succeeded")
	}
}

func TestCloseAndConcurrency(t *testing.T) {
	s := openSession(t, testModel("example_dynamic_axes.onnx"), SessionOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				n := g + i + 1
				x := make([]float32, n*10)
				for j := range x {
					x[j] = 1
				}
				res, err := s.Run(map[string]*Tensor{"input_vectors": NewFloat32([]int64{int64(n), 10}, x)})
				if err != nil {
					errs <- err
					return
				}
				v, _ := res["output_scalars"].Float32s()
				if len(v) != n || v[n-1] != 10 {
					errs <- fmt.Errorf("batch %d: got %v", n, v)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Run(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v", err)
	}
}

func TestOrtSessionPointerGuards(t *testing.T) {
	if _, err := ortSessionPointer(nil); err == nil {
		t.Error("nil session: no error")
	}
}
