//go:build !unix

package onnx

import (
	"errors"
	"os"
)

func mmapFile(f *os.File, size int64) ([]byte, error) {
	return nil, errors.ErrUnsupported
}

func munmap(b []byte) error { return nil }
