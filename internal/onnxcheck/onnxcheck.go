// Package onnxcheck runs the reference ONNX checker on model files from
// tests: onnx.checker.check_model(path, full_check=True) in
// /usr/bin/python3, the Debian python3-onnx build (onnx 1.12: IR <= 8,
// opset <= 17), which is what painterc's outputs must pass (docs/design.md, "Lowering").
//
// When python3-onnx is missing the checks skip, unless the environment sets
// PAINTERC_REQUIRE_CHECKER=1 (CI does), in which case they fail.
package onnxcheck

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// Python is the interpreter that holds the checker.
const Python = "/usr/bin/python3"

// RequireEnv names the variable that turns a missing checker into a failure.
const RequireEnv = "PAINTERC_REQUIRE_CHECKER"

// script checks every path in argv and prints one line per failure,
// "FAIL <path>\t<message with newlines escaped>"; it prints "OK <path>" for
// the others.
const script = `import sys
import onnx
for p in sys.argv[1:]:
    try:
        onnx.checker.check_model(p, full_check=True)
        print("OK " + p)
    except Exception as e:
        msg = (type(e).__name__ + ": " + str(e)).replace("\\", "\\\\").replace("\n", "\\n")
        print("FAIL " + p + "\t" + msg)
`

var (
	probeOnce sync.Once
	probeErr  string // why the checker is unavailable, "" when it is there
)

// Available reports whether the checker can run, and if not, why.
func Available() (bool, string) {
	probeOnce.Do(func() {
		out, err := exec.Command(Python, "-c", "import onnx, onnx.checker").CombinedOutput()
		if err != nil {
			probeErr = strings.TrimSpace(Python + " cannot import onnx (install python3-onnx): " + err.Error() + "\n" + string(out))
		}
	})
	return probeErr == "", probeErr
}

// skipOrFail stops tb when the checker is unavailable: a skip, or a failure
// under PAINTERC_REQUIRE_CHECKER=1.
func skipOrFail(tb testing.TB) {
	tb.Helper()
	ok, why := Available()
	if ok {
		return
	}
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatalf("onnx checker required (%s=1) but unavailable: %s", RequireEnv, why)
	}
	tb.Skipf("onnx checker unavailable (set %s=1 to fail instead): %s", RequireEnv, why)
}

// Check runs the full checker on one model file and fails tb with the
// checker's message if the model is invalid.
func Check(tb testing.TB, path string) {
	tb.Helper()
	CheckMany(tb, path)
}

// CheckMany checks several model files in one Python process and reports
// every invalid one.
func CheckMany(tb testing.TB, paths ...string) {
	tb.Helper()
	if len(paths) == 0 {
		return
	}
	skipOrFail(tb)
	for _, p := range paths {
		if strings.ContainsAny(p, "\n\t") {
			tb.Fatalf("onnxcheck: path %q has a newline or tab", p)
		}
	}
	args := append([]string{"-c", script}, paths...)
	cmd := exec.Command(Python, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	seen := map[string]bool{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		switch {
		case strings.HasPrefix(line, "OK "):
			seen[line[3:]] = true
		case strings.HasPrefix(line, "FAIL "):
			p, msg, _ := strings.Cut(line[5:], "\t")
			seen[p] = true
			tb.Errorf("onnx checker rejects %s:\n%s", p, unescape(msg))
		}
	}
	if err != nil {
		tb.Fatalf("onnxcheck: %s: %v\n%s", Python, err, stderr.String())
	}
	for _, p := range paths {
		if !seen[p] {
			tb.Errorf("onnxcheck: no verdict for %s\n%s", p, stderr.String())
		}
	}
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == 'n' {
				b.WriteByte('\n')
			} else {
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
