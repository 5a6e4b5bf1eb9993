package runtime

import "github.com/painterc/painterc/onnx"

// The element conversions live in the base package onnx, which testmodels
// uses too (it cannot import runtime, which needs cgo).
var (
	Float16ToFloat32  = onnx.Float16ToFloat32
	Float32ToFloat16  = onnx.Float32ToFloat16
	BFloat16ToFloat32 = onnx.BFloat16ToFloat32
	Float32ToBFloat16 = onnx.Float32ToBFloat16
)
