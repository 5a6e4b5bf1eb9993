package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func touch(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFindLibraryOrder(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	made := filepath.Join(root, "repo", filepath.FromSlash(DefaultLibrary))
	touch(t, made)
	deep := filepath.Join(root, "repo", "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	envLib := filepath.Join(root, "env", "libonnxruntime.so.1")
	touch(t, envLib)
	explicitDir := filepath.Join(root, "explicit")
	touch(t, filepath.Join(explicitDir, "libonnxruntime.so"))

	t.Chdir(deep)
	t.Setenv(LibraryEnv, "")

	// 3: walk up from the working directory.
	p, tried, err := FindLibrary("")
	if err != nil || p != made {
		t.Fatalf("search: %q %v (tried %q), want %q", p, err, tried, made)
	}
	wantTried := []string{
		filepath.Join(deep, DefaultLibrary),
		filepath.Join(root, "repo", "a", DefaultLibrary),
		made,
	}
	if !slices.Equal(tried, wantTried) {
		t.Errorf("tried %q, want %q", tried, wantTried)
	}

	// 2: the environment variable wins over the search.
	t.Setenv(LibraryEnv, envLib)
	if p, _, err := FindLibrary(""); err != nil || p != envLib {
		t.Errorf("env: %q %v, want %q", p, err, envLib)
	}

	// 1: an explicit path wins over both; a directory is looked into;
	// relative paths are made absolute.
	if p, _, err := FindLibrary(explicitDir); err != nil || p != filepath.Join(explicitDir, "libonnxruntime.so") {
		t.Errorf("explicit dir: %q %v", p, err)
	}
	if p, _, err := FindLibrary("../../" + DefaultLibrary); err != nil || p != made {
		t.Errorf("explicit relative: %q %v, want %q", p, err, made)
	}

	// A named path that does not exist is an error, not a fallback.
	missing := filepath.Join(root, "missing.so")
	p, tried, err = FindLibrary(missing)
	var nf *NotFoundError
	if err == nil || !errors.Is(err, ErrLibraryNotFound) || !errors.As(err, &nf) || p != "" {
		t.Fatalf("explicit missing: %q %v", p, err)
	}
	if !slices.Equal(tried, []string{missing}) || nf.Source != "--ort-lib" ||
		!strings.Contains(err.Error(), missing+" (from --ort-lib) does not exist") ||
		!strings.Contains(err.Error(), `run "make ort" or set `+LibraryEnv) {
		t.Errorf("explicit missing: tried %q, error %q", tried, err)
	}
	t.Setenv(LibraryEnv, missing)
	if _, _, err := FindLibrary(""); err == nil || !strings.Contains(err.Error(), "$"+LibraryEnv) {
		t.Errorf("env missing: %v", err)
	}
	if _, tried, err := FindLibrary(filepath.Join(root, "env")); err != nil || len(tried) != 1 {
		t.Errorf("explicit dir with .so.1: %v %q", err, tried)
	}
	if _, tried, err := FindLibrary(deep); err == nil || len(tried) != 2 {
		t.Errorf("explicit dir without a library: %v %q", err, tried)
	}
}

func TestFindLibraryNothing(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv(LibraryEnv, "")
	p, tried, err := FindLibrary("")
	if err == nil {
		// The test binary's own directory (or a parent) may hold a
		// build/ort; only the working-directory half is checked then.
		if !strings.HasSuffix(p, DefaultLibrary) {
			t.Fatalf("found %q", p)
		}
		return
	}
	if !errors.Is(err, ErrLibraryNotFound) || tried[0] != filepath.Join(dir, DefaultLibrary) || !slices.Contains(tried, filepath.Join("/", DefaultLibrary)) {
		t.Errorf("%v, tried %q", err, tried)
	}
	msg := err.Error()
	if !strings.Contains(msg, "looked for:\n  "+filepath.Join(dir, DefaultLibrary)) || !strings.Contains(msg, `run "make ort"`) {
		t.Errorf("message %q", msg)
	}
}
