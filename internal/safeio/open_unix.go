//go:build unix

package safeio

import (
	"os"
	"syscall"
)

// openNoWait opens path read-only with O_NONBLOCK, which makes opening a
// named pipe return at once instead of waiting for a writer. On a regular
// file the flag has no effect.
func openNoWait(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
