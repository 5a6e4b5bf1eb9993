//go:build !linux

package onnx

import (
	"errors"
	"os"
)

// kernelCopy is only implemented on Linux; callers fall back to writing.
func kernelCopy(dst, src *os.File, off, n int64) (int64, error) {
	return 0, errors.ErrUnsupported
}
