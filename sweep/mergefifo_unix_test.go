//go:build unix

package sweep

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestMergeFIFO: a shard whose results.jsonl is a named pipe is refused at
// once, naming it, instead of blocking the merge (or sweep status) on it.
func TestMergeFIFO(t *testing.T) {
	dir := t.TempDir()
	shard := filepath.Join(dir, "shard-0-of-1")
	if err := os.MkdirAll(shard, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shard, ManifestFile), []byte(fuzzManifest(0, 1, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(shard, ResultsFile)
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	want := fifo + " is a named pipe (FIFO), not a regular file: painterc reads its inputs only from files; give the file itself"
	for name, call := range map[string]func() error{
		"merge":  func() error { _, err := Merge(dir); return err },
		"status": func() error { _, err := Status(dir); return err },
	} {
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			if err == nil || err.Error() != want {
				t.Errorf("%s: %v\nwant %s", name, err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s blocked on a FIFO", name)
		}
	}
}
