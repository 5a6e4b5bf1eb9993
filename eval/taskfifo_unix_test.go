//go:build unix

package eval

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLoadTaskFIFO: a task file that is a named pipe is refused at once,
// naming the path, instead of waiting forever for a writer.
func TestLoadTaskFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "task.jsonl")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := LoadTask(p); done <- err }()
	select {
	case err := <-done:
		if want := p + " is a named pipe (FIFO), not a regular file: painterc reads its inputs only from files; give the file itself"; err == nil || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("LoadTask blocked on a FIFO")
	}
}
