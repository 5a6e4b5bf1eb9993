package runtime

import (
	"os"
	"path/filepath"
)

// library file names tried inside a directory given as --ort-lib or in
// $ONNXRUNTIME_SHARED_LIBRARY_PATH.
var libraryNames = []string{"libonnxruntime.so.1", "libonnxruntime.so"}

// FindLibrary picks the ONNX Runtime shared library to load, in this order:
//
//  1. explicit (the CLI's --ort-lib), when not empty;
//  2. $ONNXRUNTIME_SHARED_LIBRARY_PATH, when set and not empty;
//  3. build/ort/libonnxruntime.so.1 (where "make ort" puts it) in the current
//     directory or any parent, then in the executable's directory or any
//     parent.
//
// A path from 1 or 2 may name the file or a directory holding
// libonnxruntime.so.1 or libonnxruntime.so; when it is given but does not
// exist, FindLibrary fails rather than fall back to another library. path is
// absolute. tried lists every candidate looked at, in order. err is a
// *NotFoundError (errors.Is(err, ErrLibraryNotFound)) when nothing was found.
// FindLibrary only looks at the file system; Init checks that the file is a
// loadable ONNX Runtime of the right version.
func FindLibrary(explicit string) (path string, tried []string, err error) {
	if explicit != "" {
		return findNamed(explicit, "--ort-lib")
	}
	if env := os.Getenv(LibraryEnv); env != "" {
		return findNamed(env, "$"+LibraryEnv)
	}
	var dirs []string
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		dirs = append(dirs, filepath.Dir(exe))
	}
	seen := map[string]bool{}
	for _, start := range dirs {
		for dir := filepath.Clean(start); ; {
			cand := filepath.Join(dir, filepath.FromSlash(DefaultLibrary))
			if !seen[cand] {
				seen[cand] = true
				tried = append(tried, cand)
				if isFile(cand) {
					return cand, tried, nil
				}
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", tried, &NotFoundError{Tried: tried}
}

func findNamed(p, source string) (string, []string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		var tried []string
		for _, name := range libraryNames {
			cand := filepath.Join(abs, name)
			tried = append(tried, cand)
			if isFile(cand) {
				return cand, tried, nil
			}
		}
		return "", tried, &NotFoundError{Tried: tried}
	}
	if isFile(abs) {
		return abs, []string{abs}, nil
	}
	return "", []string{abs}, &NotFoundError{Tried: []string{abs}, Source: source}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
