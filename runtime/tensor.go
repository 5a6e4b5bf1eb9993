package runtime

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// Tensor is a dense tensor in host memory: C (row-major) order, elements
// stored little-endian in Data. A rank-0 tensor (scalar) has an empty Shape
// and one element. Bool elements are one byte, 0 or 1. Float16 and BFloat16
// elements are their 16-bit patterns.
type Tensor struct {
	DType DataType
	Shape []int64
	Data  []byte
}

// NumElements is the product of Shape (1 for a scalar). It returns -1 when a
// dimension is negative or the product overflows.
func NumElements(shape []int64) int64 {
	zero := false
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		zero = zero || d == 0
	}
	if zero {
		return 0
	}
	n := int64(1)
	for _, d := range shape {
		if n > math.MaxInt64/d {
			return -1
		}
		n *= d
	}
	return n
}

// Len is the number of elements the shape describes (-1 if invalid).
func (t *Tensor) Len() int64 { return NumElements(t.Shape) }

// Validate checks that the type has a byte size, every dimension is
// non-negative and Data holds exactly the bytes the shape needs.
func (t *Tensor) Validate() error {
	if t == nil {
		return fmt.Errorf("nil tensor")
	}
	size := t.DType.Size()
	if size == 0 {
		return fmt.Errorf("tensor element type %s is not supported (supported: float32, float16, bfloat16, float64, int8/16/32/64, uint8/16/32/64, bool)", t.DType)
	}
	n := NumElements(t.Shape)
	if n < 0 {
		return fmt.Errorf("invalid tensor shape %s: dimensions must be >= 0 and the element count must fit in int64", FormatShape(t.Shape))
	}
	if n > math.MaxInt64/int64(size) || n*int64(size) != int64(len(t.Data)) {
		return fmt.Errorf("%s tensor of shape %s needs %d elements × %d bytes, but has %d bytes of data",
			t.DType, FormatShape(t.Shape), n, size, len(t.Data))
	}
	return nil
}

// String describes the tensor's type and shape, e.g. "float32[2 3]".
func (t *Tensor) String() string {
	if t == nil {
		return "<nil tensor>"
	}
	return t.DType.String() + FormatShape(t.Shape)
}

// FormatShape renders a shape as "[2 3]" with "?" for negative (unknown)
// dimensions; a scalar is "[]".
func FormatShape(shape []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			b.WriteByte(' ')
		}
		if d < 0 {
			b.WriteByte('?')
		} else {
			fmt.Fprint(&b, d)
		}
	}
	b.WriteByte(']')
	return b.String()
}

func cloneShape(s []int64) []int64 {
	if s == nil {
		return []int64{}
	}
	return append([]int64{}, s...)
}

// NewTensor returns a tensor over a copy of data after checking that data's
// length matches shape and dt.
func NewTensor(dt DataType, shape []int64, data []byte) (*Tensor, error) {
	t := &Tensor{DType: dt, Shape: cloneShape(shape), Data: append([]byte{}, data...)}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// NewFloat32 builds a float32 tensor. The shape is not checked against
// len(v) here; Validate and Session.Run do that.
func NewFloat32(shape []int64, v []float32) *Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return &Tensor{DType: Float, Shape: cloneShape(shape), Data: b}
}

// NewFloat64 builds a float64 tensor.
func NewFloat64(shape []int64, v []float64) *Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return &Tensor{DType: Double, Shape: cloneShape(shape), Data: b}
}

// NewFloat16 builds a float16 tensor from float32 values, rounding each to
// nearest-even.
func NewFloat16(shape []int64, v []float32) *Tensor {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], Float32ToFloat16(x))
	}
	return &Tensor{DType: Float16, Shape: cloneShape(shape), Data: b}
}

// NewBFloat16 builds a bfloat16 tensor from float32 values, rounding each to
// nearest-even.
func NewBFloat16(shape []int64, v []float32) *Tensor {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], Float32ToBFloat16(x))
	}
	return &Tensor{DType: BFloat16, Shape: cloneShape(shape), Data: b}
}

// NewInt64 builds an int64 tensor.
func NewInt64(shape []int64, v []int64) *Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return &Tensor{DType: Int64, Shape: cloneShape(shape), Data: b}
}

// NewInt32 builds an int32 tensor.
func NewInt32(shape []int64, v []int32) *Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return &Tensor{DType: Int32, Shape: cloneShape(shape), Data: b}
}

// NewInt8 builds an int8 tensor.
func NewInt8(shape []int64, v []int8) *Tensor {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return &Tensor{DType: Int8, Shape: cloneShape(shape), Data: b}
}

// NewUint8 builds a uint8 tensor.
func NewUint8(shape []int64, v []uint8) *Tensor {
	return &Tensor{DType: Uint8, Shape: cloneShape(shape), Data: append([]byte{}, v...)}
}

// NewBool builds a bool tensor (one byte per element, 0 or 1).
func NewBool(shape []int64, v []bool) *Tensor {
	b := make([]byte, len(v))
	for i, x := range v {
		if x {
			b[i] = 1
		}
	}
	return &Tensor{DType: Bool, Shape: cloneShape(shape), Data: b}
}

func (t *Tensor) checkData() error {
	if t == nil {
		return fmt.Errorf("nil tensor")
	}
	if sz := t.DType.Size(); sz == 0 || len(t.Data)%sz != 0 {
		return fmt.Errorf("%s tensor has %d bytes of data, not a whole number of elements", t.DType, len(t.Data))
	}
	return nil
}

// Float32s returns the elements as float32. float32, float16 and bfloat16
// tensors convert exactly; other types are an error (see Float64s).
func (t *Tensor) Float32s() ([]float32, error) {
	if err := t.checkData(); err != nil {
		return nil, err
	}
	d := t.Data
	switch t.DType {
	case Float:
		out := make([]float32, len(d)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
		return out, nil
	case Float16, BFloat16:
		conv := Float16ToFloat32
		if t.DType == BFloat16 {
			conv = BFloat16ToFloat32
		}
		out := make([]float32, len(d)/2)
		for i := range out {
			out[i] = conv(binary.LittleEndian.Uint16(d[2*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("Float32s: tensor is %s, not float32, float16 or bfloat16", t.DType)
}

// Float64s returns the elements of any real numeric or bool tensor as
// float64 (int64 and uint64 values beyond 2^53 lose precision).
func (t *Tensor) Float64s() ([]float64, error) {
	if err := t.checkData(); err != nil {
		return nil, err
	}
	d := t.Data
	switch t.DType {
	case Double:
		out := make([]float64, len(d)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:]))
		}
		return out, nil
	case Float, Float16, BFloat16:
		f, err := t.Float32s()
		if err != nil {
			return nil, err
		}
		out := make([]float64, len(f))
		for i, x := range f {
			out[i] = float64(x)
		}
		return out, nil
	case Uint64:
		out := make([]float64, len(d)/8)
		for i := range out {
			out[i] = float64(binary.LittleEndian.Uint64(d[8*i:]))
		}
		return out, nil
	}
	ints, err := t.Int64s()
	if err != nil {
		return nil, fmt.Errorf("Float64s: tensor is %s, not a real numeric type", t.DType)
	}
	out := make([]float64, len(ints))
	for i, x := range ints {
		out[i] = float64(x)
	}
	return out, nil
}

// Int64s returns the elements of an integer or bool tensor as int64 (exact
// for every type except uint64 values above MaxInt64, which are an error).
func (t *Tensor) Int64s() ([]int64, error) {
	if err := t.checkData(); err != nil {
		return nil, err
	}
	d := t.Data
	n := len(d) / max(t.DType.Size(), 1)
	out := make([]int64, n)
	switch t.DType {
	case Int64:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(d[8*i:]))
		}
	case Uint64:
		for i := range out {
			u := binary.LittleEndian.Uint64(d[8*i:])
			if u > math.MaxInt64 {
				return nil, fmt.Errorf("Int64s: uint64 element %d (%d) overflows int64", i, u)
			}
			out[i] = int64(u)
		}
	case Int32:
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(d[4*i:])))
		}
	case Uint32:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case Int16:
		for i := range out {
			out[i] = int64(int16(binary.LittleEndian.Uint16(d[2*i:])))
		}
	case Uint16:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case Int8:
		for i := range out {
			out[i] = int64(int8(d[i]))
		}
	case Uint8, Bool:
		for i := range out {
			out[i] = int64(d[i])
		}
	default:
		return nil, fmt.Errorf("Int64s: tensor is %s, not an integer or bool type", t.DType)
	}
	return out, nil
}

// Bools returns the elements of a bool tensor (any non-zero byte is true).
func (t *Tensor) Bools() ([]bool, error) {
	if t == nil || t.DType != Bool {
		return nil, fmt.Errorf("Bools: tensor is %s, not bool", t)
	}
	out := make([]bool, len(t.Data))
	for i, b := range t.Data {
		out[i] = b != 0
	}
	return out, nil
}
