//go:build !unix

package safeio

import "os"

// openNoWait checks the type before opening where there is no O_NONBLOCK.
func openNoWait(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	return os.Open(path)
}
