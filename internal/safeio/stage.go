package safeio

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Stage builds a command's output files for the folder Dir in a staging
// folder, so that they appear in Dir together, on Commit, or not at all:
// Abort (or a failed Commit) removes the staging folder and every folder
// NewStage created.
//
// Where the staging folder lives: when Dir does not exist yet, beside it
// (".NAME.tmp-*" in its parent), and Commit renames the whole folder into
// place at once. When Dir exists, inside it (".painterc-tmp-*"), and Commit
// renames each file into Dir: a rename stays on one file system, and Dir
// may be a mount point of its own (a scratch disk, a Kubernetes volume), so
// its parent could be elsewhere.
type Stage struct {
	Dir     string // the output folder
	tmp     string // the staging folder
	whole   bool   // Dir did not exist: tmp becomes Dir
	created []string
	stale   []string // names in Dir this output replaces with nothing
}

// Supersede names a file in Dir that this output makes stale without
// writing a new one (an earlier run's export that this run could not
// make): Commit removes it, after the new files are in place, so Dir never
// holds a file from one run beside another run's report. Only a regular
// file that is no input of the command is removed.
func (s *Stage) Supersede(name string) {
	s.stale = append(s.stale, name)
}

// OutDir checks an output folder given on the command line (flag, e.g.
// "--out") before any work: a path that exists must be a directory; a
// symbolic link to a directory is followed (the user chose where the
// files go), one to nothing is refused.
func OutDir(flag, dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", flag, dir, pathErr(err))
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(dir)
		st, err := os.Stat(dir)
		if err != nil {
			return &OutputError{flag, dir, fmt.Sprintf("is a symbolic link to %s, which does not exist: create that directory or give another path", target)}
		}
		fi = st
	}
	if !fi.IsDir() {
		return &OutputError{flag, dir, "is a file, not a directory: give a directory for the output files"}
	}
	return nil
}

// FolderEntry refuses a folder inside an output folder (a shard's
// directory) that is a symbolic link, which would take the writes
// elsewhere, or that is not a directory. A path that does not exist yet
// is fine.
func FolderEntry(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return &OutputError{"", path, fmt.Sprintf("is a symbolic link (to %s): painterc does not write through links, which could reach outside the output folder; remove the link", target)}
	case !fi.IsDir():
		return &OutputError{"", path, "is a file, not a directory: move it away"}
	}
	return nil
}

// NewStage makes the staging folder for dir, creating dir's missing
// parents (Abort removes them again).
func NewStage(dir string) (*Stage, error) {
	s := &Stage{Dir: dir}
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return nil, fmt.Errorf("%s is not a directory", dir)
	case err == nil:
		s.tmp, err = os.MkdirTemp(dir, ".painterc-tmp-*")
		if err != nil {
			return nil, err
		}
		return s, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	var missing []string
	for p := parent; ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); err == nil || filepath.Dir(p) == p {
			break
		}
		missing = append(missing, p)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	s.created = missing // innermost first
	s.whole = true
	s.tmp, err = os.MkdirTemp(parent, "."+filepath.Base(filepath.Clean(dir))+".tmp-*")
	if err != nil {
		s.removeCreated()
		return nil, err
	}
	return s, nil
}

// Path is where the output file name is written before Commit.
func (s *Stage) Path(name string) string { return filepath.Join(s.tmp, name) }

// Folder is the staging folder, for writers that take a folder.
func (s *Stage) Folder() string { return s.tmp }

// Commit moves the staged files into Dir. Each file's place in Dir is
// first checked with files.Check (no link, no directory, no input there); a refusal aborts the stage before anything moves.
// On an error it removes what is left of the staging folder; files
// already moved stay (a rename inside one folder fails only when the file
// system does).
func (s *Stage) Commit(files *Files) error {
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		s.Abort()
		return err
	}
	if !s.whole && files != nil {
		for _, e := range entries {
			if err := files.Check("", filepath.Join(s.Dir, e.Name())); err != nil {
				s.Abort()
				return err
			}
		}
	}
	if s.whole {
		if err := os.Chmod(s.tmp, 0o755); err != nil {
			s.Abort()
			return err
		}
		if err := os.Rename(s.tmp, s.Dir); err == nil {
			syncDir(filepath.Dir(s.tmp))
			return nil
		}
		// Dir appeared meanwhile (another run made it): move file by file.
		if err := os.MkdirAll(s.Dir, 0o755); err != nil {
			s.Abort()
			return err
		}
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(s.tmp, e.Name()), filepath.Join(s.Dir, e.Name())); err != nil {
			s.Abort()
			return err
		}
	}
	os.Remove(s.tmp)
	s.removeStale(files, entries)
	syncDir(s.Dir)
	return nil
}

func (s *Stage) removeStale(files *Files, staged []fs.DirEntry) {
	for _, name := range s.stale {
		if slices.ContainsFunc(staged, func(e fs.DirEntry) bool { return e.Name() == name }) {
			continue // staged after all: the new file replaced it
		}
		p := filepath.Join(s.Dir, name)
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if files != nil && files.Check("", p) != nil {
			continue
		}
		os.Remove(p)
	}
}

// Abort removes the staging folder and the folders NewStage created.
func (s *Stage) Abort() {
	os.RemoveAll(s.tmp)
	s.removeCreated()
}

func (s *Stage) removeCreated() {
	for _, d := range s.created {
		os.Remove(d) // only when empty
	}
	s.created = nil
}

// syncDir makes renames in dir durable, where the file system allows.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
