package safeio

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReadFileFIFO: a named pipe with no writer is refused at once, not
// waited on.
func TestReadFileFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "task.jsonl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadFile(fifo); done <- err }()
	select {
	case err := <-done:
		want := fifo + " is a named pipe (FIFO), not a regular file: painterc reads its inputs only from files; give the file itself"
		if err == nil || err.Error() != want || !IsNotRegular(err) {
			t.Errorf("got %v\nwant %s", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFile blocked on a FIFO")
	}
}

func TestReadFileKinds(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile(dir); err == nil || err.Error() != dir+" is a directory, not a regular file: painterc reads its inputs only from files; give the file itself" {
		t.Errorf("directory: %v", err)
	}
	if _, err := ReadFile("/dev/null"); err == nil || err.Error() != "/dev/null is a character device, not a regular file: painterc reads its inputs only from files; give the file itself" {
		t.Errorf("/dev/null: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	f := filepath.Join(dir, "f")
	write(t, f, "hello")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(f, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{f, link} {
		if b, err := ReadFile(p); err != nil || string(b) != "hello" {
			t.Errorf("%s: %q, %v", p, b, err)
		}
	}
}

// TestFilesOutputs: outputs are refused on inputs (by identity: a hard
// link, a symbolic link, another spelling), on each other, through links,
// and on directories.
func TestFilesOutputs(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "model.onnx")
	write(t, model, "m")
	hard := filepath.Join(dir, "hard.json")
	if err := os.Link(model, hard); err != nil {
		t.Fatal(err)
	}
	soft := filepath.Join(dir, "soft.json")
	if err := os.Symlink(filepath.Join(t.TempDir(), "elsewhere.json"), soft); err != nil {
		t.Fatal(err)
	}
	var s Files
	s.Input("the input model", model)
	cases := []struct{ flag, path, want string }{
		{"-o", model, "-o " + model + " is the input model: painterc never modifies its input; choose another output path"},
		{"-o", dir + "/./model.onnx", "-o " + dir + "/./model.onnx is the input model " + model + ": painterc never modifies its input; choose another output path"},
		{"--output", hard, "--output " + hard + " is the input model " + model + ": painterc never modifies its input; choose another output path"},
		{"--output", soft, "--output " + soft + " is a symbolic link (to " + filepath.Join(filepath.Dir(mustReadlink(t, soft)), "elsewhere.json") + "): painterc does not write through links, which could reach outside the output folder; remove the link or choose another path"},
		{"--output", dir, "--output " + dir + " is a directory: give a file name"},
	}
	for _, c := range cases {
		err := s.Output(c.flag, c.path)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s %s:\n got %v\nwant %s", c.flag, c.path, err, c.want)
		}
	}
	a := filepath.Join(dir, "results.json")
	if err := s.Output("--output", a); err != nil {
		t.Fatal(err)
	}
	err := s.Output("--log-samples", dir+"//results.json")
	want := "--log-samples " + dir + "//results.json is the same file as --output " + a + ": give each output its own path"
	if err == nil || err.Error() != want {
		t.Errorf("two outputs:\n got %v\nwant %s", err, want)
	}
	if err := s.Output("--log-samples", filepath.Join(dir, "samples.jsonl")); err != nil {
		t.Errorf("a distinct output: %v", err)
	}
}

func mustReadlink(t *testing.T, p string) string {
	l, err := os.Readlink(p)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestOutDir(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "file")
	write(t, f, "x")
	real := filepath.Join(dir, "real")
	os.Mkdir(real, 0o755)
	good := filepath.Join(dir, "good")
	os.Symlink(real, good)
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	for _, p := range []string{real, good, filepath.Join(dir, "new")} {
		if err := OutDir("--out", p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if err := OutDir("--out", f); err == nil || err.Error() != "--out "+f+" is a file, not a directory: give a directory for the output files" {
		t.Errorf("file: %v", err)
	}
	if err := OutDir("--out", dangling); err == nil || err.Error() != "--out "+dangling+" is a symbolic link to "+filepath.Join(dir, "nowhere")+", which does not exist: create that directory or give another path" {
		t.Errorf("dangling: %v", err)
	}
}

func listing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// TestStage: files appear on Commit, into an existing folder or as a new
// one, and Abort leaves everything as it was, created parents included.
func TestStage(t *testing.T) {
	root := t.TempDir()
	existing := filepath.Join(root, "existing")
	os.Mkdir(existing, 0o755)
	write(t, filepath.Join(existing, "keep.txt"), "k")
	for _, dir := range []string{existing, filepath.Join(root, "a", "b", "new")} {
		before := listing(t, root)
		s, err := NewStage(dir)
		if err != nil {
			t.Fatal(err)
		}
		write(t, s.Path("x.csv"), "1")
		s.Abort()
		if got := listing(t, root); len(got) != len(before) {
			t.Errorf("%s: after Abort %v, want %v", dir, got, before)
		}
		s, err = NewStage(dir)
		if err != nil {
			t.Fatal(err)
		}
		write(t, s.Path("x.csv"), "1")
		write(t, s.Path("y.csv"), "2")
		if err := s.Commit(nil); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"x.csv", "y.csv"} {
			if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
				t.Errorf("%s after Commit: %v", n, err)
			}
		}
		if got, want := len(listing(t, root)), len(before)+2+boolInt(dir != existing)*3; got != want {
			t.Errorf("%s: %d entries after Commit, want %d: %v", dir, got, want, listing(t, root))
		}
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %v", dir, fi.Mode(), err)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestStageCommitRefuses: a staged file whose place in the folder is a
// link or an input is refused, and nothing moves.
func TestStageCommitRefuses(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "results.jsonl")
	write(t, results, "rows")
	os.Symlink(results, filepath.Join(dir, "report.md"))
	s, err := NewStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s.Path("a.png"), "a")
	write(t, s.Path("report.md"), "r")
	var files Files
	files.Input("the results", results)
	err = s.Commit(&files)
	want := filepath.Join(dir, "report.md") + " is a symbolic link (to " + results + "): painterc does not write through links, which could reach outside the output folder; remove the link or choose another path"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if got := listing(t, dir); len(got) != 3 {
		t.Errorf("after a refused Commit: %v", got)
	}
	if b, _ := os.ReadFile(results); string(b) != "rows" {
		t.Errorf("the input changed: %q", b)
	}
}

func TestFolderEntry(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "shard-0-of-2")
	os.Symlink(t.TempDir(), link)
	if err := FolderEntry(link); err == nil || !strings.HasPrefix(err.Error(), link+" is a symbolic link (to ") {
		t.Errorf("link: %v", err)
	}
	if err := FolderEntry(filepath.Join(dir, "new")); err != nil {
		t.Errorf("new: %v", err)
	}
}

// TestStageSupersede: Commit removes a superseded file that this run did
// not write again, keeps one it did, and never removes an input or goes
// through a link.
func TestStageSupersede(t *testing.T) {
	dir := t.TempDir()
	elsewhere := filepath.Join(t.TempDir(), "target.txt")
	write(t, elsewhere, "t")
	write(t, filepath.Join(dir, "old.yml"), "earlier run")
	write(t, filepath.Join(dir, "rewritten.yml"), "earlier run")
	write(t, filepath.Join(dir, "input.yml"), "an input")
	os.Symlink(elsewhere, filepath.Join(dir, "link.yml"))
	s, err := NewStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s.Path("rewritten.yml"), "this run")
	for _, n := range []string{"old.yml", "rewritten.yml", "input.yml", "link.yml", "absent.yml"} {
		s.Supersede(n)
	}
	var files Files
	files.Input("the input", filepath.Join(dir, "input.yml"))
	if err := s.Commit(&files); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "old.yml")); err == nil {
		t.Error("old.yml is still there")
	}
	for n, want := range map[string]string{"rewritten.yml": "this run", "input.yml": "an input", "link.yml": "t"} {
		if b, err := os.ReadFile(filepath.Join(dir, n)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v, want %q", n, b, err, want)
		}
	}
	if got := listing(t, dir); len(got) != 4 { // "." and the three kept
		t.Errorf("left %v", got)
	}
}
