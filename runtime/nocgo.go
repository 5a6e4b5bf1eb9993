//go:build !cgo

package runtime

// Without cgo nothing can be loaded: Init reports ErrNoCgo, and NewSession
// ErrNotInitialized. Tensors, data types and FindLibrary still work.

// Options configures Init; see the cgo build for the fields' meaning.
type Options struct {
	LibPath  string
	LogLevel string
}

// SessionOptions configures NewSession; see the cgo build.
type SessionOptions struct {
	Device         string
	IntraOpThreads int
	InterOpThreads int
	OptLevel       string
}

// Session is unavailable without cgo.
type Session struct{}

// Init always fails without cgo.
func Init(Options) error { return ErrNoCgo }

// Version is always "" without cgo.
func Version() string { return "" }

// LibraryPath is always "" without cgo.
func LibraryPath() string { return "" }

// NewSession always fails without cgo.
func NewSession(string, SessionOptions) (*Session, error) { return nil, ErrNotInitialized }

// NewSessionFromBytes always fails without cgo.
func NewSessionFromBytes([]byte, string, SessionOptions) (*Session, error) {
	return nil, ErrNotInitialized
}

// Inputs is empty without cgo.
func (*Session) Inputs() []IOInfo { return nil }

// Outputs is empty without cgo.
func (*Session) Outputs() []IOInfo { return nil }

// Model is empty without cgo.
func (*Session) Model() string { return "" }

// Run always fails without cgo.
func (*Session) Run(map[string]*Tensor, ...string) (map[string]*Tensor, error) {
	return nil, ErrClosed
}

// Close does nothing without cgo.
func (*Session) Close() error { return nil }

// NewSessionWithExternalData always fails without cgo.
func NewSessionWithExternalData([]byte, string, string, SessionOptions) (*Session, error) {
	return nil, ErrNotInitialized
}
