package npy

import (
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/painterc/painterc/runtime"
)

// The files in testdata were written once by NumPy 1.24 (Debian
// python3-numpy):
//
//	np.save('f4_2x3.npy', np.array([[1.5, -2.25, 0.0], [3.0e38, -1e-40, 7.0]], dtype='<f4'))
//	... (see each case below for the array), plus
//	np.lib.format.write_array(f, np.arange(6, dtype='<i4').reshape(2, 3), version=(2, 0))
//	np.save('fortran_f4_2x3.npy', np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)))
//	np.save('bigendian_f4_3.npy', np.array([1, 2, 3], dtype='>f4'))
//	src = <217 float32 values>; np.save('f2src_f4.npy', src); np.save('f2_from_f4.npy', src.astype('<f2'))

func TestReadNumPyFiles(t *testing.T) {
	f32 := func(shape []int64, v ...float32) *runtime.Tensor { return runtime.NewFloat32(shape, v) }
	cases := []struct {
		file string
		want *runtime.Tensor
	}{
		{"f4_2x3.npy", f32([]int64{2, 3}, 1.5, -2.25, 0, 3.0e38, -1e-40, 7)},
		{"f8_3.npy", runtime.NewFloat64([]int64{3}, []float64{math.Pi, -math.E, 1e300})},
		{"i8_2x2.npy", runtime.NewInt64([]int64{2, 2}, []int64{math.MinInt64, 0, 1, math.MaxInt64})},
		{"i4_4.npy", runtime.NewInt32([]int64{4}, []int32{math.MinInt32, -1, 0, math.MaxInt32})},
		{"i2_3.npy", &runtime.Tensor{DType: runtime.Int16, Shape: []int64{3}, Data: []byte{0x00, 0x80, 0, 0, 0xff, 0x7f}}},
		{"i1_3.npy", runtime.NewInt8([]int64{3}, []int8{-128, 0, 127})},
		{"u1_2x2.npy", runtime.NewUint8([]int64{2, 2}, []uint8{0, 1, 254, 255})},
		{"b1_3.npy", runtime.NewBool([]int64{3}, []bool{true, false, true})},
		{"u4_2.npy", &runtime.Tensor{DType: runtime.Uint32, Shape: []int64{2}, Data: []byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}}},
		{"u8_2.npy", &runtime.Tensor{DType: runtime.Uint64, Shape: []int64{2}, Data: append(make([]byte, 8), bytes.Repeat([]byte{0xff}, 8)...)}},
		{"scalar_f8.npy", runtime.NewFloat64(nil, []float64{2.5})},
		{"empty_0x3_f4.npy", f32([]int64{0, 3})},
		{"v2_i4_2x3.npy", runtime.NewInt32([]int64{2, 3}, []int32{0, 1, 2, 3, 4, 5})},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			got, err := ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v %x, want %v %x", got, got.Data, c.want, c.want.Data)
			}
			// Writing it back gives NumPy's bytes (same header layout), except
			// for the version 2.0 file, which we write as 1.0.
			if c.file == "v2_i4_2x3.npy" {
				return
			}
			var buf bytes.Buffer
			if err := Write(&buf, got); err != nil {
				t.Fatal(err)
			}
			orig, _ := os.ReadFile(filepath.Join("testdata", c.file))
			if !bytes.Equal(buf.Bytes(), orig) {
				t.Errorf("Write gave\n%q\nNumPy wrote\n%q", buf.Bytes(), orig)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	for file, want := range map[string]string{
		"fortran_f4_2x3.npy": "np.ascontiguousarray",
		"bigendian_f4_3.npy": "astype('<f4')",
	} {
		_, err := ReadFile(filepath.Join("testdata", file))
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), file) {
			t.Errorf("%s: %v", file, err)
		}
	}
	if err := Write(&bytes.Buffer{}, runtime.NewBFloat16([]int64{1}, []float32{1})); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Float32s") {
		t.Errorf("bfloat16: %v", err)
	}
	if err := Write(&bytes.Buffer{}, runtime.NewFloat32([]int64{3}, []float32{1})); err == nil {
		t.Error("tensor with short data written")
	}
}

func TestFloat16MatchesNumPy(t *testing.T) {
	src, err := ReadFile("testdata/f2src_f4.npy")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadFile("testdata/f2_from_f4.npy")
	if err != nil {
		t.Fatal(err)
	}
	if want.DType != runtime.Float16 {
		t.Fatalf("dtype %v", want.DType)
	}
	vals, _ := src.Float32s()
	got := runtime.NewFloat16(src.Shape, vals)
	if !bytes.Equal(got.Data, want.Data) {
		for i := 0; i < len(vals); i++ {
			if !bytes.Equal(got.Data[2*i:2*i+2], want.Data[2*i:2*i+2]) {
				t.Errorf("%v: got %x, NumPy %x", vals[i], got.Data[2*i:2*i+2], want.Data[2*i:2*i+2])
			}
		}
	}
	// and back: float16 -> float32 is exact
	back, _ := want.Float32s()
	for i, v := range back {
		if runtime.Float32ToFloat16(v) != uint16(want.Data[2*i])|uint16(want.Data[2*i+1])<<8 {
			t.Fatalf("element %d does not round-trip", i)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	cases := []*runtime.Tensor{
		runtime.NewFloat32([]int64{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		runtime.NewFloat16([]int64{4}, []float32{0.5, -1, 65504, 0}),
		runtime.NewInt64(nil, []int64{42}),
		runtime.NewBool([]int64{1, 1, 2}, []bool{true, false}),
		runtime.NewUint8([]int64{0}, nil),
		{DType: runtime.Uint16, Shape: []int64{2}, Data: []byte{1, 2, 3, 4}},
		// enough dimensions to need a version 2.0 header
		{DType: runtime.Int8, Shape: slices.Repeat([]int64{1}, 30000), Data: []byte{7}},
	}
	for _, want := range cases {
		var buf bytes.Buffer
		if err := Write(&buf, want); err != nil {
			t.Fatalf("%v: %v", want, err)
		}
		b := buf.Bytes()
		if dataStart := len(b) - len(want.Data); dataStart%64 != 0 {
			t.Errorf("%v: data starts at byte %d, not 64-byte aligned", want, dataStart)
		}
		if len(want.Shape) == 30000 && b[6] != 2 {
			t.Errorf("long header written as version %d", b[6])
		}
		got, err := Read(&buf)
		if err != nil {
			t.Fatalf("%v: %v", want, err)
		}
		if want.Data == nil {
			want.Data = []byte{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %v gave %v", want, got)
		}
	}
	// Two arrays back to back in one stream.
	var buf bytes.Buffer
	Write(&buf, cases[0])
	Write(&buf, cases[2])
	a, err1 := Read(&buf)
	b, err2 := Read(&buf)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(a, cases[0]) || !reflect.DeepEqual(b, cases[2]) {
		t.Errorf("stream: %v %v %v %v", a, b, err1, err2)
	}
	// WriteFile / ReadFile.
	p := filepath.Join(t.TempDir(), "x.npy")
	if err := WriteFile(p, cases[1]); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFile(p); err != nil || !reflect.DeepEqual(got, cases[1]) {
		t.Errorf("ReadFile(WriteFile) = %v %v", got, err)
	}
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "dir", "x.npy"), cases[1]); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
}

// TestNumPyReadsOurFiles checks the other direction when NumPy is around;
// under PAINTERC_REQUIRE_NUMPY=1 (make test) its absence is a failure.
func TestNumPyReadsOurFiles(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		if os.Getenv("PAINTERC_REQUIRE_NUMPY") == "1" {
			t.Fatalf("%s has no NumPy (%v); install python3-numpy, or unset PAINTERC_REQUIRE_NUMPY to skip", py, err)
		}
		t.Skipf("no NumPy (%v); set PAINTERC_REQUIRE_NUMPY=1 to fail instead", err)
	}
	dir := t.TempDir()
	files := map[string]*runtime.Tensor{
		"a.npy": runtime.NewFloat16([]int64{2, 2}, []float32{1, -2, 0.5, 65504}),
		"b.npy": runtime.NewInt64(nil, []int64{-3}),
		"c.npy": runtime.NewBool([]int64{3}, []bool{true, false, true}),
	}
	for name, tt := range files {
		if err := WriteFile(filepath.Join(dir, name), tt); err != nil {
			t.Fatal(err)
		}
	}
	script := `import numpy as np, sys
d = sys.argv[1]
a, b, c = (np.load(d + '/' + n) for n in ('a.npy', 'b.npy', 'c.npy'))
assert a.dtype == np.float16 and a.shape == (2, 2) and a.tolist() == [[1, -2], [0.5, 65504]], a
assert b.dtype == np.int64 and b.shape == () and int(b) == -3, b
assert c.dtype == np.bool_ and c.tolist() == [True, False, True], c
print("ok")`
	out, err := exec.Command(py, "-c", script, dir).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("NumPy: %v\n%s", err, out)
	}
}

func TestMalformed(t *testing.T) {
	hdr := func(version byte, dict string) []byte {
		b := append([]byte(magic), version, 0)
		if version == 1 {
			b = append(b, byte(len(dict)), byte(len(dict)>>8))
		} else {
			b = append(b, byte(len(dict)), byte(len(dict)>>8), 0, 0)
		}
		return append(b, dict...)
	}
	ok := "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n"
	cases := map[string][]byte{
		"empty":           nil,
		"short magic":     []byte("\x93NUM"),
		"bad magic":       []byte("\x93NUMPZ\x01\x00\x00\x00"),
		"version 9":       hdr(9, ok),
		"short header":    hdr(1, ok)[:20],
		"no data":         hdr(1, ok),
		"short data":      append(hdr(1, ok), 1, 2, 3, 4, 5),
		"not a dict":      hdr(1, "['descr']\n"),
		"missing key":     hdr(1, "{'descr': '<f4', 'shape': (2,)}\n"),
		"extra key":       hdr(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n"),
		"repeated key":    hdr(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n"),
		"bad bool":        hdr(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}\n"),
		"negative dim":    hdr(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}\n"),
		"huge dim":        hdr(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}\n"),
		"overflow":        hdr(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4)}\n"),
		"huge but short":  hdr(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,)}\n"),
		"unterminated":    hdr(1, "{'descr': '<f4\n"),
		"trailing":        hdr(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x\n"),
		"bad separator":   hdr(1, "{'descr': '<f4' 'fortran_order': False}\n"),
		"unicode dtype":   hdr(1, "{'descr': '<U5', 'fortran_order': False, 'shape': (2,)}\n"),
		"structured":      hdr(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}\n"),
		"no byte order":   hdr(1, "{'descr': 'f4', 'fortran_order': False, 'shape': (2,)}\n"),
		"escape":          hdr(1, "{'descr': '<f\\4', 'fortran_order': False, 'shape': (2,)}\n"),
		"tuple garbage":   hdr(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}\n"),
		"header too long": append([]byte(magic), 2, 0, 0xff, 0xff, 0xff, 0x7f),
	}
	for name, b := range cases {
		got, err := Read(bytes.NewReader(b))
		if err == nil {
			t.Errorf("%s: no error, got %v", name, got)
			continue
		}
		if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v matches neither ErrFormat nor ErrUnsupported", name, err)
		}
	}
	// Python 2 era "3L" dimensions and a header without the trailing comma.
	b := append(hdr(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3L,)}\n"), 1, 2, 3)
	if got, err := Read(bytes.NewReader(b)); err != nil || !slices.Equal(got.Shape, []int64{3}) {
		t.Errorf("3L: %v %v", got, err)
	}
}

func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.npy")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(magic + "\x01\x00\x10\x00{'descr': '<f4'}"))
	f.Add([]byte(magic + "\x02\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("Read returned an invalid tensor: %v", err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, got); err != nil {
			t.Fatalf("Write of a tensor Read accepted: %v", err)
		}
		again, err := Read(&buf)
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("round trip: %v %v vs %v", err, again, got)
		}
	})
}
