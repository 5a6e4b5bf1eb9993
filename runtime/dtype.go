package runtime

import (
	"fmt"
	"strings"

	"github.com/painterc/painterc/onnx"
)

// DataType is a tensor element type, numbered as ONNX's TensorProto.DataType
// (which ONNX Runtime's ONNXTensorElementDataType follows). It is the codec's
// type, so names and sizes are defined once.
type DataType = onnx.DataType

// Element types, under the names this package has always used.
const (
	Undefined     = onnx.Undefined
	Float         = onnx.Float
	Uint8         = onnx.Uint8
	Int8          = onnx.Int8
	Uint16        = onnx.Uint16
	Int16         = onnx.Int16
	Int32         = onnx.Int32
	Int64         = onnx.Int64
	String        = onnx.String
	Bool          = onnx.Bool
	Float16       = onnx.Float16
	Double        = onnx.Double
	Uint32        = onnx.Uint32
	Uint64        = onnx.Uint64
	Complex64     = onnx.Complex64
	Complex128    = onnx.Complex128
	BFloat16      = onnx.BFloat16
	Float8E4M3FN  = onnx.Float8E4M3FN
	Float8E4M3FNZ = onnx.Float8E4M3FNUZ
	Float8E5M2    = onnx.Float8E5M2
	Float8E5M2FNZ = onnx.Float8E5M2FNUZ
	Uint4         = onnx.Uint4
	Int4          = onnx.Int4
	Float4E2M1    = onnx.Float4E2M1
)

// Float32 and Float64 are the Go-style names of Float and Double.
const (
	Float32 = Float
	Float64 = Double
)

// Supported reports whether tensors of type d can be passed to and
// returned from Session.Run.
func Supported(d DataType) bool { return d.Size() > 0 }

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
	for d := Float; d <= Float4E2M1; d++ {
		if d.String() == name {
			return d, nil
		}
	}
	return Undefined, fmt.Errorf("unknown data type %q (want one of float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool, ...)", s)
}
