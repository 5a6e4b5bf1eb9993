package runtime

import (
	"errors"
	"fmt"
	"strings"
)

// Pinned ONNX Runtime: the version onnxruntime_go v1.27.0 targets.
const (
	// WantVersion is the ONNX Runtime release series painterc needs.
	WantVersion = "1.24.x"
	// WantAPIVersion is the ONNX Runtime C API version painterc needs.
	WantAPIVersion = 24
	// LibraryEnv names the environment variable that points at the library.
	LibraryEnv = "ONNXRUNTIME_SHARED_LIBRARY_PATH"
	// DefaultLibrary is where "make ort" puts the library, relative to the
	// repository root.
	DefaultLibrary = "build/ort/libonnxruntime.so.1"

	wantMajorMinor = "1.24"
	fixHint        = `run "make ort" or set ` + LibraryEnv + ` (or pass --ort-lib) to an ONNX Runtime ` + WantVersion + ` library`
)

var (
	// ErrLibraryNotFound is matched (errors.Is) by the error FindLibrary and
	// Init return when no library file exists at any candidate path. The
	// concrete error is a *NotFoundError listing the paths tried.
	ErrLibraryNotFound = errors.New("ONNX Runtime library not found")

	// ErrNotInitialized is returned by NewSession before Init succeeded.
	ErrNotInitialized = errors.New(`ONNX Runtime is not initialized: call runtime.Init first`)

	// ErrNoCgo is returned by Init in binaries built without cgo.
	ErrNoCgo = errors.New("this painterc was built without cgo, so it cannot load ONNX Runtime; rebuild with CGO_ENABLED=1")

	// ErrDevice is matched (errors.Is) by every *DeviceError.
	ErrDevice = errors.New("execution device unavailable")

	// ErrBadInput is matched (errors.Is) by the errors Run returns for
	// unknown, missing or mistyped inputs and unknown output names.
	ErrBadInput = errors.New("bad model input")

	// ErrClosed is returned by methods of a closed Session.
	ErrClosed = errors.New("session is closed")
)

// NotFoundError says which paths were tried. It matches ErrLibraryNotFound.
type NotFoundError struct {
	Tried []string
	// Source says where the only candidate came from when the user named it
	// ("--ort-lib", "$ONNXRUNTIME_SHARED_LIBRARY_PATH"); empty after a search.
	Source string
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	if e.Source != "" && len(e.Tried) == 1 {
		fmt.Fprintf(&b, "ONNX Runtime library not found: %s (from %s) does not exist; ", e.Tried[0], e.Source)
	} else {
		b.WriteString("ONNX Runtime library not found; looked for:\n")
		for _, p := range e.Tried {
			b.WriteString("  " + p + "\n")
		}
	}
	b.WriteString(fixHint)
	return b.String()
}

// Is makes errors.Is(err, ErrLibraryNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrLibraryNotFound }

// LoadError: the file exists but cannot be loaded as ONNX Runtime (not a
// shared library, wrong architecture, missing dependencies, or a library
// that is not ONNX Runtime).
type LoadError struct {
	Path   string
	Reason string // the dynamic loader's or ORT's message
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("cannot load %s as ONNX Runtime: %s; painterc needs the ONNX Runtime %s shared library (C API %d): %s",
		e.Path, e.Reason, WantVersion, WantAPIVersion, fixHint)
}

// VersionError: the file is ONNX Runtime, but not the pinned version.
type VersionError struct {
	Path  string
	Found string // version string the library reports, e.g. "1.22.0"
	// APIMissing is true when the version matched but the library does not
	// offer C API WantAPIVersion.
	APIMissing bool
}

func (e *VersionError) Error() string {
	if e.APIMissing {
		return fmt.Sprintf("%s is ONNX Runtime %s but does not provide C API version %d; painterc needs ONNX Runtime %s (C API %d): %s",
			e.Path, e.Found, WantAPIVersion, WantVersion, WantAPIVersion, fixHint)
	}
	found := e.Found
	if found == "" {
		found = "(empty version string)"
	}
	return fmt.Sprintf("%s is ONNX Runtime %s; painterc needs ONNX Runtime %s (C API %d): %s",
		e.Path, found, WantVersion, WantAPIVersion, fixHint)
}

// AlreadyInitializedError: Init was asked for a different library than the
// one this process already loaded (ONNX Runtime can be loaded once).
type AlreadyInitializedError struct {
	Loaded, Requested string
}

func (e *AlreadyInitializedError) Error() string {
	return fmt.Sprintf("ONNX Runtime is already loaded from %s in this process; cannot switch to %s", e.Loaded, e.Requested)
}

// DeviceError: the requested execution device cannot be used with the
// loaded library. It matches ErrDevice.
type DeviceError struct {
	Device  string
	Library string
	Reason  string
	Hint    string
}

func (e *DeviceError) Error() string {
	s := fmt.Sprintf("--device %s: %s", e.Device, e.Reason)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Is makes errors.Is(err, ErrDevice) true.
func (e *DeviceError) Is(target error) bool { return target == ErrDevice }
