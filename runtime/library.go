//go:build cgo

package runtime

/*
#cgo CFLAGS: -I${SRCDIR}/include -O2
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"
)

// Options configures Init.
type Options struct {
	// LibPath is the library the user named (the CLI's --ort-lib): a file, or
	// a directory holding libonnxruntime.so.1. Empty means search; see
	// FindLibrary.
	LibPath string
	// LogLevel is ONNX Runtime's own logging threshold: "verbose", "info",
	// "warning", "error" or "fatal". Empty means "error", which keeps ORT's
	// warnings about ordinary models off stderr.
	LogLevel string
}

var state struct {
	sync.Mutex
	ready   bool
	path    string
	version string
}

// Init loads ONNX Runtime for the whole process and checks it is version
// 1.24.x with C API 24. It is safe to call more than once and from several
// goroutines: after a success, a call with an empty LibPath, or with a
// LibPath naming the same file, returns nil; one naming a different library
// returns an *AlreadyInitializedError. A failed Init leaves nothing loaded
// into onnxruntime_go, so it can be retried with another library.
//
// Errors: *NotFoundError (errors.Is ErrLibraryNotFound) when no file
// exists; *LoadError when the file cannot be loaded as ONNX Runtime;
// *VersionError when it is another ONNX Runtime version. All say what to do.
func Init(o Options) error {
	logOpt, err := logLevelOption(o.LogLevel)
	if err != nil {
		return err
	}
	state.Lock()
	defer state.Unlock()
	if state.ready && o.LibPath == "" {
		return nil
	}
	path, _, err := FindLibrary(o.LibPath)
	if err != nil {
		return err
	}
	if state.ready {
		if sameFile(path, state.path) {
			return nil
		}
		return &AlreadyInitializedError{Loaded: state.path, Requested: path}
	}
	if ort.IsInitialized() {
		return fmt.Errorf("onnxruntime_go was initialized outside package runtime (ONNX Runtime %s); painterc must load ONNX Runtime itself through runtime.Init", ort.GetVersion())
	}

	version, err := probe(path)
	if err != nil {
		return err
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(logOpt); err != nil {
		return &LoadError{Path: path, Reason: err.Error()}
	}
	state.ready, state.path, state.version = true, path, version
	return nil
}

// probe opens path with the shim (not with onnxruntime_go), checks the version
// and binds the shim to C API WantAPIVersion. A library that loaded is never
// closed again: unloading a C++ runtime that ran its static initializers is
// not reliably safe, and onnxruntime_go's own dlopen of the same path then
// shares this handle.
func probe(path string) (string, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var handle unsafe.Pointer
	var cversion *C.char
	var kind C.int
	if msg := C.pc_probe(cpath, &handle, &cversion, &kind); msg != nil {
		reason := takeCString(msg)
		if kind == 2 {
			reason = "it is a shared library but not ONNX Runtime (" + reason + ")"
		}
		return "", &LoadError{Path: path, Reason: reason}
	}
	version := C.GoString(cversion)
	if !versionOK(version) {
		return version, &VersionError{Path: path, Found: version}
	}
	var apiOK C.int
	if msg := C.pc_bind(handle, &apiOK); msg != nil {
		return version, &LoadError{Path: path, Reason: takeCString(msg)}
	}
	if apiOK == 0 {
		return version, &VersionError{Path: path, Found: version, APIMissing: true}
	}
	if int(C.pc_api_version()) != WantAPIVersion {
		return version, fmt.Errorf("internal error: vendored ONNX Runtime headers are C API %d, want %d", int(C.pc_api_version()), WantAPIVersion)
	}
	return version, nil
}

func versionOK(v string) bool {
	return v == wantMajorMinor || strings.HasPrefix(v, wantMajorMinor+".")
}

func logLevelOption(level string) (ort.EnvironmentOption, error) {
	switch strings.ToLower(level) {
	case "verbose":
		return ort.WithLogLevelVerbose(), nil
	case "info":
		return ort.WithLogLevelInfo(), nil
	case "warning", "warn":
		return ort.WithLogLevelWarning(), nil
	case "", "error":
		return ort.WithLogLevelError(), nil
	case "fatal":
		return ort.WithLogLevelFatal(), nil
	}
	return nil, fmt.Errorf("unknown ONNX Runtime log level %q (want verbose, info, warning, error or fatal)", level)
}

// Version is the version string of the loaded ONNX Runtime ("" before Init).
func Version() string {
	state.Lock()
	defer state.Unlock()
	return state.version
}

// LibraryPath is the absolute path of the loaded library ("" before Init).
func LibraryPath() string {
	state.Lock()
	defer state.Unlock()
	return state.path
}

func initialized() (path, version string, ok bool) {
	state.Lock()
	defer state.Unlock()
	return state.path, state.version, state.ready
}

func sameFile(a, b string) bool {
	if a == b {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// takeCString converts a malloc'd C string from the shim and frees it.
func takeCString(s *C.char) string {
	defer C.free(unsafe.Pointer(s))
	return C.GoString(s)
}
