package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/testmodels"
)

// childEnv, when set, makes the test binary run painterc itself instead of
// its tests: the value is a JSON childSpec. Tests use it for what must not
// happen in the test process: lowering RLIMIT_FSIZE (disk full), dropping
// root (an unwritable directory), and loading ONNX Runtime from a chosen
// file (a process loads ONNX Runtime once).
const childEnv = "PAINTERC_TEST_CLI_CHILD"

type childSpec struct {
	Args []string `json:"args"`
	// FileSizeLimit, when positive, is the RLIMIT_FSIZE the child runs
	// painterc under, with SIGXFSZ ignored, so that writing past it fails
	// with EFBIG the way a full disk fails with ENOSPC.
	FileSizeLimit int64 `json:"fsize,omitempty"`
}

func TestMain(m *testing.M) {
	if spec, ok := os.LookupEnv(childEnv); ok {
		os.Exit(childMain(spec))
	}
	os.Exit(m.Run())
}

func childMain(spec string) int {
	var c childSpec
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		fmt.Fprintln(os.Stderr, "bad", childEnv, err)
		return 100
	}
	if c.FileSizeLimit > 0 {
		if err := limitFileSize(c.FileSizeLimit); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
			return 100
		}
	}
	return run(c.Args, os.Stdout, os.Stderr)
}

// result is what one painterc invocation did.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs painterc in this process.
func cli(t testing.TB, args ...string) result {
	t.Helper()
	var so, se bytes.Buffer
	code := run(args, &so, &se)
	return result{code, so.String(), se.String()}
}

// cliChild runs painterc in a child process (see childEnv). cmd may
// carry SysProcAttr; its Path, Args, Env and output are set here.
func cliChild(t testing.TB, spec childSpec, cmd *exec.Cmd) result {
	t.Helper()
	js, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if cmd == nil {
		cmd = &exec.Cmd{}
	}
	if cmd.Path == "" {
		cmd.Path = os.Args[0]
	}
	cmd.Args = []string{cmd.Path}
	cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("child: %v", err)
		}
		code = ee.ExitCode()
	}
	if code == 100 {
		t.Fatalf("child could not start painterc: %s", se.String())
	}
	return result{code, so.String(), se.String()}
}

// tiny is the spec of the small test models these tests rewrite.
var tiny = testmodels.Spec{Family: testmodels.Llama, Seed: 11}

// encodeModel returns the bytes of a model.
func encodeModel(t testing.TB, m *onnx.Model) []byte {
	t.Helper()
	b, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeModel writes a test model as path (creating its directory).
func writeModel(t testing.TB, path string, s testmodels.Spec) string {
	t.Helper()
	m, err := testmodels.Default(s)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, encodeModel(t, m))
	return path
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// snapshot maps every file under dir (relative path, directories marked
// with a trailing slash) to the SHA-256 of its bytes; nil when dir does not
// exist.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nil
	}
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			files[rel+"/"] = ""
			return nil
		}
		// A link is its target, and a FIFO its type: reading either could
		// block or leave the directory.
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			files[rel] = "link to " + target
			return err
		}
		if !d.Type().IsRegular() {
			files[rel] = d.Type().String()
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// diffSnapshots lists what changed between two snapshots.
func diffSnapshots(before, after map[string]string) []string {
	var d []string
	for f, h := range before {
		if h2, ok := after[f]; !ok {
			d = append(d, "removed "+f)
		} else if h2 != h {
			d = append(d, "changed "+f)
		}
	}
	for f := range after {
		if _, ok := before[f]; !ok {
			d = append(d, "added "+f)
		}
	}
	sort.Strings(d)
	return d
}

// lines splits output into lines without the final newline.
func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// noPanic fails when output shows a Go panic or runtime error.
func noPanic(t testing.TB, r result) {
	t.Helper()
	for _, s := range []string{r.stdout, r.stderr} {
		if strings.Contains(s, "panic") || strings.Contains(s, "goroutine ") || strings.Contains(s, "runtime error") {
			t.Fatalf("painterc panicked:\n%s", s)
		}
	}
}
