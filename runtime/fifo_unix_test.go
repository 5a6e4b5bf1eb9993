//go:build unix

package runtime

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestNewSessionFIFO: a model path that is a named pipe is refused before
// ONNX Runtime opens it (which would block without a writer).
func TestNewSessionFIFO(t *testing.T) {
	if err := Init(Options{}); err != nil {
		t.Skipf("ONNX Runtime: %v", err)
	}
	p := filepath.Join(t.TempDir(), "model.onnx")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		s, err := NewSession(p, SessionOptions{})
		if s != nil {
			s.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if want := "model " + p + " is a named pipe (FIFO), not a regular file: painterc reads its inputs only from files; give the file itself"; err == nil || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("NewSession blocked on a FIFO")
	}
}
