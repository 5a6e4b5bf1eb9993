package safeio

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Files is the set of files one command run reads and writes. Inputs are
// recorded first; each output is then checked against them and against the
// outputs before it, by file identity: two paths are the same file when
// they reach the same inode on the same device (a hard link, a symbolic
// link, "./x" and "x"), or, for a file that does not exist yet, the same
// name in the same directory.
type Files struct {
	inputs, outputs []entry
}

type entry struct {
	what, path string
	info       fs.FileInfo // the file (links followed); nil when it does not exist
	dir        fs.FileInfo // its directory (links followed); nil when that does not exist
	base       string
}

func newEntry(what, path string) entry {
	e := entry{what: what, path: path, base: filepath.Base(path)}
	if fi, err := os.Stat(path); err == nil {
		e.info = fi
	}
	if fi, err := os.Stat(filepath.Dir(path)); err == nil {
		e.dir = fi
	}
	return e
}

// same reports whether a and b name one file.
func same(a, b entry) bool {
	if a.info != nil && b.info != nil {
		return os.SameFile(a.info, b.info)
	}
	return a.dir != nil && b.dir != nil && a.base == b.base && os.SameFile(a.dir, b.dir)
}

// Input records a file the run reads. what says what it is, for messages:
// "the input model", "the task file". A path that does not exist is
// recorded by name (it may be created before the run reads it).
func (s *Files) Input(what, path string) {
	if path == "" {
		return
	}
	s.inputs = append(s.inputs, newEntry(what, path))
}

// OutputError is an output path that painterc refuses to write.
type OutputError struct {
	Flag, Path string // how the output was named: "--output", "-o", a file in --out
	Msg        string // why, and what to do
}

func (e *OutputError) Error() string {
	if e.Flag == "" {
		return e.Path + " " + e.Msg
	}
	return e.Flag + " " + e.Path + " " + e.Msg
}

// Output checks a file the run will write and records it. flag names it
// in messages ("--output", "-o", or "" for a fixed file name inside an
// output folder). It refuses a symbolic link (writing through one could
// land outside the output folder), a directory, an input, and a file
// another output of the run already names.
func (s *Files) Output(flag, path string) error {
	if path == "" {
		return nil
	}
	if err := s.Check(flag, path); err != nil {
		return err
	}
	e := newEntry(flag, path)
	for _, out := range s.outputs {
		if same(e, out) {
			other := out.path
			if out.what != "" {
				other = out.what + " " + out.path
			}
			return &OutputError{flag, path, fmt.Sprintf("is the same file as %s: give each output its own path", other)}
		}
	}
	s.outputs = append(s.outputs, e)
	return nil
}

// Check is Output without the outputs: path is no link, no directory and
// no input. Nothing is recorded.
func (s *Files) Check(flag, path string) error {
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(path)
			return &OutputError{flag, path, fmt.Sprintf("is a symbolic link (to %s): painterc does not write through links, which could reach outside the output folder; remove the link or choose another path", target)}
		case fi.IsDir():
			return &OutputError{flag, path, "is a directory: give a file name"}
		}
	}
	e := newEntry(flag, path)
	for _, in := range s.inputs {
		if same(e, in) {
			what := in.what
			if in.path != path {
				what += " " + in.path
			}
			return &OutputError{flag, path, fmt.Sprintf("is %s: painterc never modifies its input; choose another output path", what)}
		}
	}
	return nil
}

// OutputIn checks the files names inside the output folder dir, as Output
// does each (without a flag: the message names the path).
func (s *Files) OutputIn(dir string, names ...string) error {
	for _, n := range names {
		if err := s.Output("", filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return nil
}

// InputInfo records an input that is already open (standard input), by
// its FileInfo; what names it in messages.
func (s *Files) InputInfo(what string, fi fs.FileInfo) {
	if fi != nil && fi.Mode().IsRegular() {
		s.inputs = append(s.inputs, entry{what: what, path: what, info: fi})
	}
}

// OutputInfo checks an output that is already open (standard output
// redirected to a file) against the inputs: appending to an input would
// change it, and appending to the file being read would never end.
func (s *Files) OutputInfo(what string, fi fs.FileInfo) error {
	if fi == nil || !fi.Mode().IsRegular() {
		return nil
	}
	for _, in := range s.inputs {
		if in.info != nil && os.SameFile(fi, in.info) {
			name := in.what
			if in.path != in.what {
				name += " " + in.path
			}
			return &OutputError{"", what, fmt.Sprintf("is %s: painterc never modifies its input; send the output to another file", name)}
		}
	}
	return nil
}
