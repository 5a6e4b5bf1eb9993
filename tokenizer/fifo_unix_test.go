//go:build unix

package tokenizer

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLoadFIFO: a tokenizer.json, or the tokenizer_config.json beside it,
// that is a named pipe is refused at once, naming the path.
func TestLoadFIFO(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "tokenizer.json")
	cfg := filepath.Join(dir, "tokenizer_config.json")
	if err := syscall.Mkfifo(tok, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	load := func(want string) {
		t.Helper()
		done := make(chan error, 1)
		go func() { _, err := Load(tok); done <- err }()
		select {
		case err := <-done:
			if err == nil || err.Error() != want+" is a named pipe (FIFO), not a regular file: painterc reads its inputs only from files; give the file itself" {
				t.Errorf("got %v, want the message about %s", err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Load blocked on a FIFO")
		}
	}
	load(tok)
	os.Remove(tok)
	data, err := os.ReadFile(filepath.Join("testdata", "unigram", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tok, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	load(cfg)
}
