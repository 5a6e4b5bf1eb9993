//go:build cgo

package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestProbe checks the version gate on fake libraries, in this process:
// probe touches no process-wide ONNX Runtime state.
func TestProbe(t *testing.T) {
	old := buildFakeLib(t, "1.22.0")
	_, err := probe(old)
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Found != "1.22.0" || ve.Path != old || ve.APIMissing {
		t.Fatalf("probe(1.22 library) = %#v", err)
	}
	noAPI := buildFakeLib(t, "1.24.9")
	if _, err := probe(noAPI); !errors.As(err, &ve) || !ve.APIMissing || ve.Found != "1.24.9" {
		t.Fatalf("probe(1.24 library without C API 24) = %#v", err)
	}
	notORT := buildFakeLib(t, "")
	var le *LoadError
	if _, err := probe(notORT); !errors.As(err, &le) || !strings.Contains(le.Reason, "not ONNX Runtime") {
		t.Fatalf("probe(non-ORT library) = %#v", err)
	}
	if _, err := probe("/etc/hostname"); !errors.As(err, &le) || le.Path != "/etc/hostname" {
		t.Fatalf("probe(/etc/hostname) = %#v", err)
	}
}

// initResult is what TestInitChild reports to its parent.
type initResult struct {
	Kind, Message, Version string
}

// TestInitChild runs only as a subprocess of TestInitErrors, with
// PAINTERC_TEST_INIT_CHILD set, so that each case gets a fresh process:
// Init is once per process.
func TestInitChild(t *testing.T) {
	lib, ok := os.LookupEnv("PAINTERC_TEST_INIT_CHILD")
	if !ok {
		t.Skip("runs only as a subprocess of TestInitErrors")
	}
	err := Init(Options{LibPath: lib})
	r := initResult{Kind: "ok", Version: Version()}
	var nf *NotFoundError
	var le *LoadError
	var ve *VersionError
	switch {
	case err == nil:
		if _, err := NewSession(testModel("example_multitype.onnx"), SessionOptions{}); err != nil {
			r.Kind, r.Message = "session", err.Error()
		}
	case errors.As(err, &nf) && errors.Is(err, ErrLibraryNotFound):
		r.Kind = "notfound"
	case errors.As(err, &le):
		r.Kind = "load"
	case errors.As(err, &ve):
		r.Kind = "version"
	default:
		r.Kind = fmt.Sprintf("%T", err)
	}
	if err != nil {
		r.Message = err.Error()
	}
	b, _ := json.Marshal(r)
	fmt.Printf("\nINITRESULT %s\n", b)
}

func runInitChild(t *testing.T, lib string, env ...string) initResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestInitChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PAINTERC_TEST_INIT_CHILD="+lib)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if rest, ok := strings.CutPrefix(line, "INITRESULT "); ok {
			var r initResult
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("child printed no result:\n%s", out)
	return initResult{}
}

// TestInitErrors runs Init in a fresh process per case and checks the
// errors people see.
func TestInitErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns subprocesses")
	}
	missing := filepath.Join(t.TempDir(), "no", "libonnxruntime.so.1")
	cases := []struct {
		name, lib, kind string
		wants           []string
	}{
		{"not a library", "/etc/hostname", "load",
			[]string{"cannot load /etc/hostname as ONNX Runtime", "1.24.x", "C API 24", `run "make ort"`, LibraryEnv}},
		{"missing file", missing, "notfound",
			[]string{missing, "does not exist", "--ort-lib", `run "make ort"`, LibraryEnv}},
		{"old version", buildFakeLib(t, "1.22.0"), "version",
			[]string{"is ONNX Runtime 1.22.0", "needs ONNX Runtime 1.24.x (C API 24)", `run "make ort"`}},
		{"no C API 24", buildFakeLib(t, "1.24.7"), "version",
			[]string{"does not provide C API version 24"}},
		{"not ORT", buildFakeLib(t, ""), "load",
			[]string{"not ONNX Runtime", "OrtGetApiBase"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runInitChild(t, c.lib)
			if r.Kind != c.kind {
				t.Fatalf("got %s error %q, want a %s error", r.Kind, r.Message, c.kind)
			}
			for _, w := range c.wants {
				if !strings.Contains(r.Message, w) {
					t.Errorf("message %q does not mention %q", r.Message, w)
				}
			}
			t.Logf("message: %s", r.Message)
		})
	}

	t.Run("env var", func(t *testing.T) {
		r := runInitChild(t, "", LibraryEnv+"="+missing)
		if r.Kind != "notfound" || !strings.Contains(r.Message, "$"+LibraryEnv) || !strings.Contains(r.Message, missing) {
			t.Errorf("got %+v", r)
		}
	})

	t.Run("real library", func(t *testing.T) {
		lib, _, err := FindLibrary("")
		if err != nil {
			if ortRequired() {
				t.Fatal(err)
			}
			t.Skip(err)
		}
		r := runInitChild(t, lib)
		if r.Kind != "ok" || !strings.HasPrefix(r.Version, "1.24.") {
			t.Errorf("got %+v", r)
		}
		// And through the environment variable.
		r = runInitChild(t, "", LibraryEnv+"="+lib)
		if r.Kind != "ok" {
			t.Errorf("via $%s: %+v", LibraryEnv, r)
		}
	})
}

func TestNewSessionBeforeInit(t *testing.T) {
	if _, _, ok := initialized(); ok {
		r := runInitChild(t, filepath.Join(t.TempDir(), "missing.so"))
		if r.Kind != "notfound" {
			t.Errorf("got %+v", r)
		}
		return
	}
	if _, err := NewSession(testModel("example_multitype.onnx"), SessionOptions{}); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("NewSession before Init: %v", err)
	}
}

// TestFindChild runs only as a subprocess of TestFindFromExecutable.
func TestFindChild(t *testing.T) {
	if _, ok := os.LookupEnv("PAINTERC_TEST_FIND_CHILD"); !ok {
		t.Skip("runs only as a subprocess of TestFindFromExecutable")
	}
	p, _, err := FindLibrary("")
	fmt.Printf("\nFINDRESULT %s %v\n", p, err)
}

// TestFindFromExecutable checks that a binary installed as
// <repo>/bin/painterc finds <repo>/build/ort/libonnxruntime.so.1 whatever
// the working directory.
func TestFindFromExecutable(t *testing.T) {
	if testing.Short() {
		t.Skip("copies the test binary")
	}
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(root, "repo", filepath.FromSlash(DefaultLibrary))
	touch(t, lib)
	exe := filepath.Join(root, "repo", "bin", "painterc.test")
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, self, 0o755); err != nil {
		t.Fatal(err)
	}
	// and through a symlink elsewhere, as with a PATH install
	link := filepath.Join(root, "painterc-link")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{exe, link} {
		cmd := exec.Command(bin, "-test.run=^TestFindChild$", "-test.count=1")
		cmd.Dir = "/"
		cmd.Env = append(os.Environ(), "PAINTERC_TEST_FIND_CHILD=1", LibraryEnv+"=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", bin, err, out)
		}
		if !strings.Contains(string(out), "FINDRESULT "+lib+" <nil>") {
			t.Errorf("%s did not find %s:\n%s", bin, lib, out)
		}
	}
}

func TestLibraryLoadedOnce(t *testing.T) {
	requireORT(t)
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip(err)
	}
	// One copy of the library: the shim's dlopen and onnxruntime_go's share
	// it, so there is one executable mapping.
	var exec []string
	for line := range strings.Lines(string(maps)) {
		if f := strings.Fields(line); len(f) >= 6 && sameFile(f[5], LibraryPath()) && strings.Contains(f[1], "x") {
			exec = append(exec, line)
		}
	}
	if len(exec) != 1 {
		t.Errorf("libonnxruntime has %d executable mappings, want 1:\n%s", len(exec), strings.Join(exec, ""))
	}
}
