package runtime

import (
	"fmt"
	"strings"
)

// DataType is a tensor element type, numbered as ONNX's TensorProto.DataType
// (which ONNX Runtime's ONNXTensorElementDataType follows).
type DataType int32

// Element types. The numbering is ONNX's and must not change.
const (
	Undefined     DataType = 0
	Float         DataType = 1
	Uint8         DataType = 2
	Int8          DataType = 3
	Uint16        DataType = 4
	Int16         DataType = 5
	Int32         DataType = 6
	Int64         DataType = 7
	String        DataType = 8
	Bool          DataType = 9
	Float16       DataType = 10
	Double        DataType = 11
	Uint32        DataType = 12
	Uint64        DataType = 13
	Complex64     DataType = 14
	Complex128    DataType = 15
	BFloat16      DataType = 16
	Float8E4M3FN  DataType = 17
	Float8E4M3FNZ DataType = 18
	Float8E5M2    DataType = 19
	Float8E5M2FNZ DataType = 20
	Uint4         DataType = 21
	Int4          DataType = 22
	Float4E2M1    DataType = 23
)

// Float32 and Float64 are the Go-style names of Float and Double.
const (
	Float32 = Float
	Float64 = Double
)

var dataTypeNames = [...]string{
	Undefined:     "undefined",
	Float:         "float32",
	Uint8:         "uint8",
	Int8:          "int8",
	Uint16:        "uint16",
	Int16:         "int16",
	Int32:         "int32",
	Int64:         "int64",
	String:        "string",
	Bool:          "bool",
	Float16:       "float16",
	Double:        "float64",
	Uint32:        "uint32",
	Uint64:        "uint64",
	Complex64:     "complex64",
	Complex128:    "complex128",
	BFloat16:      "bfloat16",
	Float8E4M3FN:  "float8e4m3fn",
	Float8E4M3FNZ: "float8e4m3fnuz",
	Float8E5M2:    "float8e5m2",
	Float8E5M2FNZ: "float8e5m2fnuz",
	Uint4:         "uint4",
	Int4:          "int4",
	Float4E2M1:    "float4e2m1",
}

// byte size of one element; 0 for types that cannot travel as plain
// fixed-size little-endian elements (undefined, string, packed 4-bit types).
var dataTypeSizes = [...]int{
	Float: 4, Uint8: 1, Int8: 1, Uint16: 2, Int16: 2, Int32: 4, Int64: 8,
	Bool: 1, Float16: 2, Double: 8, Uint32: 4, Uint64: 8, Complex64: 8,
	Complex128: 16, BFloat16: 2, Float8E4M3FN: 1, Float8E4M3FNZ: 1,
	Float8E5M2: 1, Float8E5M2FNZ: 1,
}

// String returns the lower-case name used in messages and by ParseDataType:
// "float32", "float16", "bfloat16", "int64", "bool", ...
func (d DataType) String() string {
	if d >= 0 && int(d) < len(dataTypeNames) && dataTypeNames[d] != "" {
		return dataTypeNames[d]
	}
	return fmt.Sprintf("DataType(%d)", int32(d))
}

// Size is the size of one element in bytes, or 0 when tensors of this type
// cannot be passed as raw bytes (undefined, string, the packed 4-bit types).
func (d DataType) Size() int {
	if d >= 0 && int(d) < len(dataTypeSizes) {
		return dataTypeSizes[d]
	}
	return 0
}

// Supported reports whether tensors of this type can be passed to and
// returned from Session.Run.
func (d DataType) Supported() bool { return d.Size() > 0 }

// ParseDataType accepts the names String returns and the common aliases
// "float" (float32), "double" (float64), "half"/"fp16"/"f16" (float16),
// "bf16" (bfloat16), "f32", "f64", "fp32".
func ParseDataType(s string) (DataType, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	switch name {
	case "float", "f32", "fp32":
		return Float, nil
	case "double", "f64", "fp64":
		return Double, nil
	case "half", "f16", "fp16":
		return Float16, nil
	case "bf16":
		return BFloat16, nil
	}
	for i, n := range dataTypeNames {
		if n != "" && n == name && DataType(i) != Undefined {
			return DataType(i), nil
		}
	}
	return Undefined, fmt.Errorf("unknown data type %q (want one of float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool, ...)", s)
}
