package onnxcheck

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that records failures instead of reporting them.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errs   []string
	fatal  bool
	skiped bool
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(f string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(f, a...))
}
func (r *recorder) Fatalf(f string, a ...any) {
	r.Errorf(f, a...)
	r.fatal = true
	runtime.Goexit()
}
func (r *recorder) Skipf(f string, a ...any) {
	r.skiped = true
	runtime.Goexit()
}

// run calls fn with a recorder on its own goroutine, so that Fatalf and
// Skipf can end it.
func run(t *testing.T, fn func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

func requireChecker(t *testing.T) {
	if ok, why := Available(); !ok {
		skipOrFail(t)
		t.Skip(why)
	}
}

func TestCheckValid(t *testing.T) {
	requireChecker(t)
	Check(t, filepath.Join("testdata", "valid.onnx"))
}

func TestCheckManyReportsEachInvalidFile(t *testing.T) {
	requireChecker(t)
	valid := filepath.Join("testdata", "valid.onnx")
	invalid := filepath.Join("testdata", "invalid.onnx")
	r := run(t, func(tb testing.TB) { CheckMany(tb, valid, invalid, valid) })
	if r.fatal || r.skiped {
		t.Fatalf("fatal=%v skipped=%v errs=%q", r.fatal, r.skiped, r.errs)
	}
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], invalid) || !strings.Contains(r.errs[0], "nope") {
		t.Fatalf("want one failure naming %s and the undefined input, got %q", invalid, r.errs)
	}
}

func TestCheckMissingFile(t *testing.T) {
	requireChecker(t)
	missing := filepath.Join(t.TempDir(), "missing.onnx")
	r := run(t, func(tb testing.TB) { Check(tb, missing) })
	if len(r.errs) == 0 {
		t.Fatal("a missing file passed the checker")
	}
}

func TestUnescape(t *testing.T) {
	if got := unescape(`a\nb\\c`); got != "a\nb\\c" {
		t.Fatalf("unescape = %q", got)
	}
}

func TestMissingCheckerSkipsOrFails(t *testing.T) {
	Available() // finish the real probe before faking its result
	saved := probeErr
	probeErr = "python3-onnx missing (simulated)"
	defer func() { probeErr = saved }()

	t.Setenv(RequireEnv, "")
	if r := run(t, func(tb testing.TB) { Check(tb, "x.onnx") }); !r.skiped || len(r.errs) != 0 {
		t.Errorf("without %s: skipped=%v errs=%q, want a skip", RequireEnv, r.skiped, r.errs)
	}
	t.Setenv(RequireEnv, "1")
	if r := run(t, func(tb testing.TB) { Check(tb, "x.onnx") }); !r.fatal || !strings.Contains(strings.Join(r.errs, ""), "simulated") {
		t.Errorf("with %s=1: fatal=%v errs=%q, want a failure", RequireEnv, r.fatal, r.errs)
	}
}
