package onnx

import "fmt"

var dataTypeNames = [...]string{
	Undefined:      "undefined",
	Float:          "float32",
	Uint8:          "uint8",
	Int8:           "int8",
	Uint16:         "uint16",
	Int16:          "int16",
	Int32:          "int32",
	Int64:          "int64",
	String:         "string",
	Bool:           "bool",
	Float16:        "float16",
	Double:         "float64",
	Uint32:         "uint32",
	Uint64:         "uint64",
	Complex64:      "complex64",
	Complex128:     "complex128",
	BFloat16:       "bfloat16",
	Float8E4M3FN:   "float8e4m3fn",
	Float8E4M3FNUZ: "float8e4m3fnuz",
	Float8E5M2:     "float8e5m2",
	Float8E5M2FNUZ: "float8e5m2fnuz",
	Uint4:          "uint4",
	Int4:           "int4",
	Float4E2M1:     "float4e2m1",
}

// Bytes per element; 0 for types without a fixed whole-byte size
// (undefined, string, the packed 4-bit types).
var dataTypeSizes = [...]int{
	Float: 4, Uint8: 1, Int8: 1, Uint16: 2, Int16: 2, Int32: 4, Int64: 8,
	Bool: 1, Float16: 2, Double: 8, Uint32: 4, Uint64: 8, Complex64: 8,
	Complex128: 16, BFloat16: 2, Float8E4M3FN: 1, Float8E4M3FNUZ: 1,
	Float8E5M2: 1, Float8E5M2FNUZ: 1,
}

// String returns the lower-case, NumPy-style name of the type: "float32",
// "float16", "bfloat16", "int64", "bool", ...
func (d DataType) String() string {
	if d >= 0 && int(d) < len(dataTypeNames) && dataTypeNames[d] != "" {
		return dataTypeNames[d]
	}
	return fmt.Sprintf("DataType(%d)", int32(d))
}

// Size is the size of one element in bytes, or 0 for types whose elements
// are not whole fixed-size bytes (undefined, string, the 4-bit types).
func (d DataType) Size() int {
	if d >= 0 && int(d) < len(dataTypeSizes) {
		return dataTypeSizes[d]
	}
	return 0
}
