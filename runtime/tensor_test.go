package runtime

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestFloat16RoundTripAllBitPatterns(t *testing.T) {
	for h := range 1 << 16 {
		f := Float16ToFloat32(uint16(h))
		back := Float32ToFloat16(f)
		if f != f { // NaN: must stay NaN with the same sign
			if back&0x7c00 != 0x7c00 || back&0x3ff == 0 || back&0x8000 != uint16(h)&0x8000 {
				t.Fatalf("NaN %#04x -> %#04x", h, back)
			}
			continue
		}
		if back != uint16(h) {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, back)
		}
	}
}

func TestFloat16Rounding(t *testing.T) {
	cases := []struct {
		f    float32
		want uint16
	}{
		{0, 0}, {float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff},
		{65520, 0x7c00},     // halfway to the next binade: ties-to-even → Inf
		{65519.996, 0x7bff}, // just below: stays max
		{1e9, 0x7c00}, {float32(math.Inf(-1)), 0xfc00},
		{5.9604645e-08, 0x0001}, // smallest subnormal
		{2.9802322e-08, 0x0000}, // exactly half of it: tie → even (0)
		{2.9802326e-08, 0x0001}, // just above half
		{1 + 1.0/2048, 0x3c00},  // tie between 1 and 1+2^-10 → even (1)
		{1 + 3.0/2048, 0x3c02},  // tie → even (upper)
		{6.097555e-05, 0x03ff},  // largest subnormal
		{6.1035156e-05, 0x0400}, // smallest normal
	}
	for _, c := range cases {
		if got := Float32ToFloat16(c.f); got != c.want {
			t.Errorf("Float32ToFloat16(%v) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
	if h := Float32ToFloat16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("NaN -> %#04x", h)
	}
}

func TestBFloat16(t *testing.T) {
	cases := []struct {
		f    float32
		want uint16
	}{
		{1, 0x3f80}, {-2, 0xc000}, {3, 0x4040},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie → even
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie → even (upper)
		{math.Float32frombits(0x3f808001), 0x3f81},
		{float32(math.Inf(1)), 0x7f80},
	}
	for _, c := range cases {
		if got := Float32ToBFloat16(c.f); got != c.want {
			t.Errorf("Float32ToBFloat16(%v) = %#04x, want %#04x", c.f, got, c.want)
		}
		if back := BFloat16ToFloat32(c.want); Float32ToBFloat16(back) != c.want {
			t.Errorf("round trip of %#04x", c.want)
		}
	}
	if h := Float32ToBFloat16(math.Float32frombits(0x7f800001)); h&0x7f80 != 0x7f80 || h&0x7f == 0 {
		t.Errorf("signalling NaN with a low payload -> %#04x, not a NaN", h)
	}
}

func TestTensorHelpers(t *testing.T) {
	f := NewFloat32([]int64{2, 2}, []float32{1, -2, 3.5, 0})
	if err := f.Validate(); err != nil || f.Len() != 4 || f.String() != "float32[2 2]" {
		t.Fatalf("%v %v %d", f, err, f.Len())
	}
	if v, err := f.Float32s(); err != nil || !slices.Equal(v, []float32{1, -2, 3.5, 0}) {
		t.Errorf("Float32s = %v %v", v, err)
	}
	if v, err := f.Float64s(); err != nil || !slices.Equal(v, []float64{1, -2, 3.5, 0}) {
		t.Errorf("Float64s = %v %v", v, err)
	}
	if _, err := f.Int64s(); err == nil {
		t.Error("Int64s of float32 succeeded")
	}
	h := NewFloat16([]int64{3}, []float32{0.5, -1, 65504})
	if v, _ := h.Float32s(); !slices.Equal(v, []float32{0.5, -1, 65504}) {
		t.Errorf("float16 Float32s = %v", v)
	}
	i := NewInt64([]int64{3}, []int64{math.MinInt64, 0, math.MaxInt64})
	if v, _ := i.Int64s(); !slices.Equal(v, []int64{math.MinInt64, 0, math.MaxInt64}) {
		t.Errorf("Int64s = %v", v)
	}
	if v, _ := NewInt32(nil, []int32{-7}).Int64s(); !slices.Equal(v, []int64{-7}) {
		t.Errorf("int32 scalar Int64s = %v", v)
	}
	if v, _ := NewInt8([]int64{2}, []int8{-128, 5}).Float64s(); !slices.Equal(v, []float64{-128, 5}) {
		t.Errorf("int8 Float64s = %v", v)
	}
	if v, _ := NewBool([]int64{3}, []bool{true, false, true}).Bools(); !slices.Equal(v, []bool{true, false, true}) {
		t.Errorf("Bools = %v", v)
	}
	big := &Tensor{DType: Uint64, Shape: []int64{1}, Data: []byte{0, 0, 0, 0, 0, 0, 0, 0x80}}
	if _, err := big.Int64s(); err == nil {
		t.Error("uint64 overflow not reported")
	}
	if _, err := (&Tensor{DType: Float, Data: []byte{1, 2, 3}}).Float32s(); err == nil {
		t.Error("ragged data accepted")
	}
	var nilT *Tensor
	if _, err := nilT.Float32s(); err == nil || nilT.Validate() == nil {
		t.Error("nil tensor accepted")
	}
	if _, err := NewTensor(Float, []int64{2}, make([]byte, 7)); err == nil || !strings.Contains(err.Error(), "needs 2 elements × 4 bytes") {
		t.Errorf("NewTensor with 7 bytes: %v", err)
	}
	if _, err := NewTensor(String, []int64{1}, make([]byte, 8)); err == nil {
		t.Error("string tensor accepted")
	}
	if tt, err := NewTensor(Bool, nil, []byte{1}); err != nil || tt.Shape == nil || len(tt.Shape) != 0 {
		t.Errorf("scalar NewTensor: %v %v", tt, err)
	}
}

func TestNumElements(t *testing.T) {
	cases := []struct {
		shape []int64
		want  int64
	}{
		{nil, 1}, {[]int64{}, 1}, {[]int64{2, 3}, 6}, {[]int64{2, 0, 3}, 0},
		{[]int64{-1, 2}, -1}, {[]int64{math.MaxInt64, 2}, -1},
		{[]int64{math.MaxInt64, 2, 0}, 0}, {[]int64{1 << 31, 1 << 31}, 1 << 62},
	}
	for _, c := range cases {
		if got := NumElements(c.shape); got != c.want {
			t.Errorf("NumElements(%v) = %d, want %d", c.shape, got, c.want)
		}
	}
	if FormatShape([]int64{-1, 3}) != "[? 3]" || FormatShape(nil) != "[]" {
		t.Error("FormatShape")
	}
}

func TestDataTypes(t *testing.T) {
	for _, c := range []struct {
		dt   DataType
		name string
		size int
	}{
		{Float, "float32", 4}, {Float16, "float16", 2}, {BFloat16, "bfloat16", 2},
		{Double, "float64", 8}, {Int64, "int64", 8}, {Bool, "bool", 1},
		{String, "string", 0}, {Int4, "int4", 0}, {Undefined, "undefined", 0},
	} {
		if c.dt.String() != c.name || c.dt.Size() != c.size {
			t.Errorf("%d: %q size %d, want %q size %d", int(c.dt), c.dt, c.dt.Size(), c.name, c.size)
		}
		if c.size > 0 {
			if got, err := ParseDataType(c.name); err != nil || got != c.dt {
				t.Errorf("ParseDataType(%q) = %v %v", c.name, got, err)
			}
		}
	}
	if DataType(99).String() != "DataType(99)" || DataType(-1).Size() != 0 {
		t.Error("out-of-range DataType")
	}
	for alias, want := range map[string]DataType{"float": Float, "FP16": Float16, "double": Double, "bf16": BFloat16} {
		if got, err := ParseDataType(alias); err != nil || got != want {
			t.Errorf("ParseDataType(%q) = %v %v", alias, got, err)
		}
	}
	if _, err := ParseDataType("undefined"); err == nil {
		t.Error("ParseDataType(undefined) succeeded")
	}
}

func TestErrorTypes(t *testing.T) {
	var err error = &NotFoundError{Tried: []string{"/a", "/b"}}
	if !errors.Is(err, ErrLibraryNotFound) || !strings.Contains(err.Error(), "  /a\n  /b\n") {
		t.Errorf("NotFoundError: %v", err)
	}
	err = &DeviceError{Device: "cuda", Reason: "r", Hint: "h"}
	if !errors.Is(err, ErrDevice) || err.Error() != "--device cuda: r; h" {
		t.Errorf("DeviceError: %v", err)
	}
	err = &VersionError{Path: "/x.so"}
	if !strings.Contains(err.Error(), "(empty version string)") {
		t.Errorf("VersionError: %v", err)
	}
}
