//go:build unix

package onnx

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLoadFIFO: a named pipe with no writer is refused at once (it would
// block the open forever), naming the path.
func TestLoadFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "model.onnx")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := Load(p); done <- err }()
	select {
	case err := <-done:
		if want := p + " is a named pipe (FIFO), not a regular file: painterc reads its inputs only from files; give the file itself"; err == nil || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Load blocked on a FIFO")
	}
}
