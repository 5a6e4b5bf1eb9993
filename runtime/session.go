//go:build cgo

package runtime

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	goruntime "runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/onnx"
	ort "github.com/yalue/onnxruntime_go"
)

// SessionOptions configures NewSession. The zero value runs on the CPU with
// ONNX Runtime's default threading and all graph optimizations.
type SessionOptions struct {
	// Device is "cpu" (or empty) or "cuda".
	Device string
	// IntraOpThreads and InterOpThreads set ONNX Runtime's thread pools;
	// 0 keeps ONNX Runtime's default.
	IntraOpThreads int
	InterOpThreads int
	// OptLevel is the graph optimization level: "disable", "basic",
	// "extended" or "all" (empty means "all").
	OptLevel string
	// OptimizedModelPath, when set, makes ONNX Runtime write the graph
	// after its optimizations (at OptLevel) to this file as it creates
	// the session (SetOptimizedModelFilePath). The file then holds ORT's
	// fused operators and runs on ORT only.
	OptimizedModelPath string
}

// Session is a model loaded into ONNX Runtime. Run may be called from
// several goroutines at once; Close waits for running calls.
type Session struct {
	mu      sync.RWMutex
	model   string
	das     *ort.DynamicAdvancedSession
	cs      *C.OrtSession
	inputs  []IOInfo
	outputs []IOInfo
	inIdx   map[string]int
	outIdx  map[string]int
	cIn     []*C.char // C copies of the input names, freed by Close
	cOut    []*C.char
}

// NewSession loads the ONNX model at modelPath (external data files are
// resolved relative to it). Init must have succeeded.
func NewSession(modelPath string, so SessionOptions) (*Session, error) {
	if _, _, ok := initialized(); !ok {
		return nil, ErrNotInitialized
	}
	if st, err := os.Stat(modelPath); err != nil {
		return nil, fmt.Errorf("model %s: %w", modelPath, err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("model %s is a directory, not an .onnx file", modelPath)
	} else if !st.Mode().IsRegular() {
		// ONNX Runtime would block on a named pipe with no writer.
		return nil, fmt.Errorf("model %w", &safeio.NotRegularError{Path: modelPath, Mode: st.Mode()})
	}
	return newSession(modelPath, so, func(opts *ort.SessionOptions) (*ort.DynamicAdvancedSession, error) {
		das, err := ort.NewDynamicAdvancedSession(modelPath, nil, nil, opts)
		if err != nil {
			return nil, errors.New(strings.TrimPrefix(err.Error(), "Error creating C session from file: "))
		}
		return das, nil
	})
}

// NewSessionFromBytes loads a serialized ModelProto from memory; name is
// what errors and Model call it (a file name, say, or "ortmodel"). ONNX
// Runtime copies what it needs, so model may be dropped once this returns.
//
// The model must hold all its weights in-file. A model in memory has no
// directory, and ONNX Runtime would resolve external data locations against
// the process's working directory, so a model with any external tensor is
// refused, naming the tensor: encode the weights in-file (possible while the
// model stays under protobuf's 2 GiB limit) or save the model and use
// NewSession with its path.
func NewSessionFromBytes(model []byte, name string, so SessionOptions) (*Session, error) {
	m, name, err := decodeSessionBytes(model, name)
	if err != nil {
		return nil, err
	}
	if t := firstExternal(m); t != "" {
		return nil, fmt.Errorf("model %s: tensor %q is stored as external data, which a model loaded from memory cannot resolve; encode its weights in-file (under 2 GiB) or save the model and load it by path", name, t)
	}
	return newSession(name, so, func(opts *ort.SessionOptions) (*ort.DynamicAdvancedSession, error) {
		das, err := ort.NewDynamicAdvancedSessionWithONNXData(model, nil, nil, opts)
		if err != nil {
			return nil, errors.New(strings.TrimPrefix(err.Error(), "Error creating C session: "))
		}
		return das, nil
	})
}

// firstExternal names the first tensor of m's graphs (initializers and
// tensor attributes, subgraphs included) that is stored as external data,
// or returns "".
func firstExternal(m *onnx.Model) string {
	var graph func(g *onnx.Graph) string
	var attrs func(as []*onnx.Attribute) string
	tensor := func(t *onnx.Tensor) string {
		if t.IsExternal() {
			if t.Name == "" {
				return "(unnamed)"
			}
			return t.Name
		}
		return ""
	}
	attrs = func(as []*onnx.Attribute) string {
		for _, a := range as {
			if a.T != nil {
				if n := tensor(a.T); n != "" {
					return n
				}
			}
			for _, t := range a.Tensors {
				if n := tensor(t); n != "" {
					return n
				}
			}
			if a.G != nil {
				if n := graph(a.G); n != "" {
					return n
				}
			}
			for _, g := range a.Graphs {
				if n := graph(g); n != "" {
					return n
				}
			}
		}
		return ""
	}
	graph = func(g *onnx.Graph) string {
		if g == nil {
			return ""
		}
		for _, t := range g.Initializer {
			if n := tensor(t); n != "" {
				return n
			}
		}
		for _, st := range g.SparseInitializer {
			if st.Values != nil {
				if n := tensor(st.Values); n != "" {
					return n
				}
			}
		}
		for _, nd := range g.Node {
			if n := attrs(nd.Attribute); n != "" {
				return n
			}
		}
		return ""
	}
	if n := graph(m.Graph); n != "" {
		return n
	}
	for _, f := range m.Functions {
		for _, nd := range f.Node {
			if n := attrs(nd.Attribute); n != "" {
				return n
			}
		}
	}
	return ""
}

// newSession applies so and creates the session with create; name is the
// model's path or, for a model from memory, its name.
func newSession(name string, so SessionOptions, create func(*ort.SessionOptions) (*ort.DynamicAdvancedSession, error)) (*Session, error) {
	libPath, version, ok := initialized()
	if !ok {
		return nil, ErrNotInitialized
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("creating ONNX Runtime session options: %w", err)
	}
	defer opts.Destroy()
	if so.IntraOpThreads < 0 || so.InterOpThreads < 0 {
		return nil, fmt.Errorf("thread counts must be >= 0 (0 = ONNX Runtime's default), got intra-op %d, inter-op %d", so.IntraOpThreads, so.InterOpThreads)
	}
	if so.IntraOpThreads > 0 {
		if err := opts.SetIntraOpNumThreads(so.IntraOpThreads); err != nil {
			return nil, fmt.Errorf("setting intra-op threads: %w", err)
		}
	}
	if so.InterOpThreads > 0 {
		if err := opts.SetInterOpNumThreads(so.InterOpThreads); err != nil {
			return nil, fmt.Errorf("setting inter-op threads: %w", err)
		}
	}
	level, err := optLevel(so.OptLevel)
	if err != nil {
		return nil, err
	}
	if err := opts.SetGraphOptimizationLevel(level); err != nil {
		return nil, fmt.Errorf("setting graph optimization level: %w", err)
	}
	if so.OptimizedModelPath != "" {
		if err := opts.SetOptimizedModelFilePath(so.OptimizedModelPath); err != nil {
			return nil, fmt.Errorf("setting the optimized model path: %w", err)
		}
	}
	device := strings.ToLower(so.Device)
	switch device {
	case "", "cpu":
		device = "cpu"
	case "cuda":
		if err := appendCUDA(opts, libPath, version); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown device %q: want cpu or cuda", so.Device)
	}

	das, err := create(opts)
	if err != nil {
		msg := err.Error()
		if device == "cuda" && strings.Contains(strings.ToLower(msg), "cuda") {
			return nil, &DeviceError{Device: "cuda", Library: libPath,
				Reason: "ONNX Runtime could not start the CUDA execution provider: " + msg,
				Hint:   cudaRuntimeHint}
		}
		return nil, fmt.Errorf("loading model %s: %s", name, msg)
	}
	s := &Session{model: name, das: das}
	if err := s.init(); err != nil {
		s.Close()
		return nil, fmt.Errorf("loading model %s: %w", name, err)
	}
	return s, nil
}

func (s *Session) init() error {
	p, err := ortSessionPointer(s.das)
	if err != nil {
		return err
	}
	s.cs = (*C.OrtSession)(p)
	var nin, nout C.size_t
	if msg := C.pc_io_count(s.cs, &nin, &nout); msg != nil {
		return fmt.Errorf("reading model inputs and outputs: %s", takeCString(msg))
	}
	if s.inputs, err = s.ioInfos(0, int(nin)); err != nil {
		return err
	}
	if s.outputs, err = s.ioInfos(1, int(nout)); err != nil {
		return err
	}
	s.inIdx, s.outIdx = map[string]int{}, map[string]int{}
	for i, in := range s.inputs {
		s.inIdx[in.Name] = i
		s.cIn = append(s.cIn, C.CString(in.Name))
	}
	for i, out := range s.outputs {
		s.outIdx[out.Name] = i
		s.cOut = append(s.cOut, C.CString(out.Name))
	}
	return nil
}

func (s *Session) ioInfos(output C.int, n int) ([]IOInfo, error) {
	infos := make([]IOInfo, n)
	for i := range infos {
		var ci C.pc_ioinfo
		msg := C.pc_io_info(s.cs, output, C.size_t(i), &ci)
		if msg != nil {
			C.pc_ioinfo_free(&ci)
			what := "input"
			if output != 0 {
				what = "output"
			}
			return nil, fmt.Errorf("reading %s %d: %s", what, i, takeCString(msg))
		}
		info := IOInfo{Name: C.GoString(ci.name), Kind: onnxKind(int(ci.onnx_type))}
		if info.Kind == "tensor" || info.Kind == "sparse_tensor" {
			info.DType = DataType(ci.elem_type)
			nd := int(ci.ndims)
			info.Shape = make([]int64, nd)
			info.DimNames = make([]string, nd)
			if nd > 0 {
				dims := unsafe.Slice((*int64)(unsafe.Pointer(ci.dims)), nd)
				syms := unsafe.Slice(ci.sym, nd)
				for d := 0; d < nd; d++ {
					info.Shape[d] = dims[d]
					if info.Shape[d] < 0 {
						info.Shape[d] = -1
					}
					info.DimNames[d] = C.GoString(syms[d])
				}
			}
		}
		C.pc_ioinfo_free(&ci)
		infos[i] = info
	}
	return infos, nil
}

// ortSessionPointer returns the OrtSession* inside an onnxruntime_go
// DynamicAdvancedSession. onnxruntime_go v1.27.0 keeps it unexported, and
// its own Run cannot return float16 outputs; reading the field through
// reflect (checked, never panicking) lets the shim call the C API on the
// session onnxruntime_go created. A change of onnxruntime_go's layout is
// reported as an error here and caught by the tests.
func ortSessionPointer(das *ort.DynamicAdvancedSession) (p unsafe.Pointer, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("internal error: cannot reach the session inside onnxruntime_go: %v", r)
		}
	}()
	bad := errors.New("internal error: onnxruntime_go's DynamicAdvancedSession layout changed (want field s *AdvancedSession with field ortSession *C.OrtSession); update runtime/session.go")
	v := reflect.ValueOf(das)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, bad
	}
	inner := v.Elem().FieldByName("s")
	if !inner.IsValid() || inner.Kind() != reflect.Pointer || inner.IsNil() {
		return nil, bad
	}
	f := inner.Elem().FieldByName("ortSession")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() {
		return nil, bad
	}
	return f.UnsafePointer(), nil
}

func onnxKind(t int) string {
	switch t {
	case 1:
		return "tensor"
	case 2:
		return "sequence"
	case 3:
		return "map"
	case 4:
		return "opaque"
	case 5:
		return "sparse_tensor"
	case 6:
		return "optional"
	}
	return "unknown"
}

func optLevel(s string) (ort.GraphOptimizationLevel, error) {
	switch strings.ToLower(s) {
	case "disable", "disabled", "none":
		return ort.GraphOptimizationLevelDisableAll, nil
	case "basic":
		return ort.GraphOptimizationLevelEnableBasic, nil
	case "extended":
		return ort.GraphOptimizationLevelEnableExtended, nil
	case "", "all":
		return ort.GraphOptimizationLevelEnableAll, nil
	}
	return 0, fmt.Errorf("unknown optimization level %q: want disable, basic, extended or all", s)
}

const (
	cudaBuildHint   = `use a CUDA build of ONNX Runtime ` + WantVersion + ` (libonnxruntime.so.1 with libonnxruntime_providers_shared.so and libonnxruntime_providers_cuda.so beside it) via --ort-lib or ` + LibraryEnv + `, or run with --device cpu`
	cudaRuntimeHint = `check that an NVIDIA GPU and driver are present and that the CUDA 12 and cuDNN 9 libraries this ONNX Runtime build needs are on LD_LIBRARY_PATH, or run with --device cpu`
)

// appendCUDA adds the CUDA execution provider, first checking that the loaded
// library can have one, so a CPU build fails with a clear message instead of
// ONNX Runtime's loader error.
func appendCUDA(opts *ort.SessionOptions, libPath, version string) error {
	cname := C.CString("CUDAExecutionProvider")
	defer C.free(unsafe.Pointer(cname))
	var found C.int
	var all *C.char
	if msg := C.pc_has_provider(cname, &found, &all); msg != nil {
		if all != nil {
			C.free(unsafe.Pointer(all))
		}
		return &DeviceError{Device: "cuda", Library: libPath, Reason: "cannot list ONNX Runtime's execution providers: " + takeCString(msg), Hint: cudaBuildHint}
	}
	providers := ""
	if all != nil {
		providers = takeCString(all)
	}
	dir := filepath.Dir(libPath)
	var missing []string
	for _, f := range []string{"libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"} {
		if !isFile(filepath.Join(dir, f)) {
			missing = append(missing, f)
		}
	}
	if found == 0 || len(missing) > 0 {
		reason := fmt.Sprintf("%s is a CPU build of ONNX Runtime %s", libPath, version)
		if found == 0 {
			reason += fmt.Sprintf(" (its execution providers: %s)", providers)
		} else {
			// e.g. the npm package's library: built with the CUDA provider
			// bridge, but the provider itself is not installed beside it.
			reason += fmt.Sprintf(": %s, which CUDA needs, not found in %s", strings.Join(missing, " and "), dir)
		}
		return &DeviceError{Device: "cuda", Library: libPath, Reason: reason, Hint: cudaBuildHint}
	}
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return &DeviceError{Device: "cuda", Library: libPath, Reason: "creating CUDA provider options: " + err.Error(), Hint: cudaRuntimeHint}
	}
	defer cuda.Destroy()
	if err := opts.AppendExecutionProviderCUDA(cuda); err != nil {
		return &DeviceError{Device: "cuda", Library: libPath, Reason: "ONNX Runtime could not load its CUDA execution provider: " + err.Error(), Hint: cudaRuntimeHint}
	}
	return nil
}

// Inputs describes the model's inputs, in model order. Initializers that a
// model exposes as optional inputs are not listed.
func (s *Session) Inputs() []IOInfo { return cloneInfos(s.inputs) }

// Outputs describes the model's outputs, in model order.
func (s *Session) Outputs() []IOInfo { return cloneInfos(s.outputs) }

// Model is the path the session was loaded from, or the name a session
// from memory was given.
func (s *Session) Model() string { return s.model }

// Close releases the session. It is safe to call more than once; Run and
// Close calls after it return ErrClosed / nil.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.das != nil {
		err = s.das.Destroy()
		s.das, s.cs = nil, nil
	}
	for _, p := range s.cIn {
		C.free(unsafe.Pointer(p))
	}
	for _, p := range s.cOut {
		C.free(unsafe.Pointer(p))
	}
	s.cIn, s.cOut = nil, nil
	return err
}

var elemSizes = func() []C.size_t {
	t := make([]C.size_t, Float4E2M1+1)
	for d := range t {
		t[d] = C.size_t(DataType(d).Size())
	}
	return t
}()

// Run feeds inputs (every model input, by name) and returns the named
// outputs, or every tensor output when none are named. Tensors are
// validated against the model first: an unknown or missing input, a wrong
// element type, rank or fixed dimension is an error (matching ErrBadInput)
// that names the model's inputs. Outputs are fresh tensors owned by the
// caller.
func (s *Session) Run(inputs map[string]*Tensor, outputNames ...string) (map[string]*Tensor, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cs == nil {
		return nil, ErrClosed
	}
	order, err := s.checkInputs(inputs)
	if err != nil {
		return nil, err
	}
	outs, err := s.pickOutputs(outputNames)
	if err != nil {
		return nil, err
	}

	nin, nout := len(order), len(outs)
	var pin goruntime.Pinner
	defer pin.Unpin()
	inNames := make([]*C.char, max(nin, 1))
	types := make([]C.int, max(nin, 1))
	ranks := make([]C.size_t, max(nin, 1))
	bytes := make([]C.size_t, max(nin, 1))
	data := make([]unsafe.Pointer, max(nin, 1))
	dims := make([]C.int64_t, 0, 4*max(nin, 1))
	for i, idx := range order {
		t := inputs[s.inputs[idx].Name]
		inNames[i] = s.cIn[idx]
		types[i] = C.int(t.DType)
		ranks[i] = C.size_t(len(t.Shape))
		for _, d := range t.Shape {
			dims = append(dims, C.int64_t(d))
		}
		bytes[i] = C.size_t(len(t.Data))
		if len(t.Data) > 0 {
			pin.Pin(&t.Data[0])
			data[i] = unsafe.Pointer(&t.Data[0])
		}
	}
	if len(dims) == 0 {
		dims = append(dims, 0) // C reads sum(ranks) entries; keep &dims[0] valid
	}
	outNames := make([]*C.char, max(nout, 1))
	for i, idx := range outs {
		outNames[i] = s.cOut[idx]
	}
	cOuts := (*C.pc_output)(C.calloc(C.size_t(max(nout, 1)), C.size_t(unsafe.Sizeof(C.pc_output{}))))
	if cOuts == nil {
		return nil, errors.New("out of memory")
	}
	defer C.free(unsafe.Pointer(cOuts))
	defer C.pc_outputs_free(cOuts, C.size_t(nout))

	msg := C.pc_run(s.cs, C.size_t(nin), &inNames[0], &types[0], &ranks[0], &dims[0],
		&data[0], &bytes[0], C.size_t(nout), &outNames[0], cOuts, &elemSizes[0], C.size_t(len(elemSizes)))
	if msg != nil {
		return nil, fmt.Errorf("running %s: %s", filepath.Base(s.model), takeCString(msg))
	}
	result := make(map[string]*Tensor, nout)
	for i, co := range unsafe.Slice(cOuts, nout) {
		name := s.outputs[outs[i]].Name
		t, err := copyOutput(name, &co)
		if err != nil {
			return nil, fmt.Errorf("running %s: %w", filepath.Base(s.model), err)
		}
		result[name] = t
	}
	return result, nil
}

func copyOutput(name string, co *C.pc_output) (*Tensor, error) {
	if co.value == nil {
		return nil, fmt.Errorf("output %q: ONNX Runtime returned no value", name)
	}
	if kind := onnxKind(int(co.onnx_type)); kind != "tensor" {
		return nil, fmt.Errorf("output %q is a %s; only tensor outputs can be returned", name, kind)
	}
	dt := DataType(co.elem_type)
	if !Supported(dt) {
		return nil, fmt.Errorf("output %q has element type %s, which cannot be returned as raw bytes", name, dt)
	}
	nd := int(co.ndims)
	shape := make([]int64, nd)
	if nd > 0 {
		copy(shape, unsafe.Slice((*int64)(unsafe.Pointer(co.dims)), nd))
	}
	n := NumElements(shape)
	if n < 0 || uint64(n)*uint64(dt.Size()) != uint64(co.nbytes) {
		return nil, fmt.Errorf("output %q: shape %s does not match its %d data bytes", name, FormatShape(shape), uint64(co.nbytes))
	}
	buf := make([]byte, int(co.nbytes))
	if len(buf) > 0 {
		copy(buf, unsafe.Slice((*byte)(co.data), len(buf)))
	}
	return &Tensor{DType: dt, Shape: shape, Data: buf}, nil
}

// checkInputs validates the caller's inputs against the model and returns
// the model indices of the inputs in model order.
func (s *Session) checkInputs(inputs map[string]*Tensor) ([]int, error) {
	var unknown []string
	for name := range inputs {
		if _, ok := s.inIdx[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("%w: %s has no input %s; %s", ErrBadInput, filepath.Base(s.model), quoteList(unknown), s.describeInputs())
	}
	var missing []string
	order := make([]int, 0, len(s.inputs))
	for i, in := range s.inputs {
		if _, ok := inputs[in.Name]; !ok {
			missing = append(missing, in.Name)
			continue
		}
		order = append(order, i)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: missing input %s for %s; %s", ErrBadInput, quoteList(missing), filepath.Base(s.model), s.describeInputs())
	}
	for _, i := range order {
		in := s.inputs[i]
		t := inputs[in.Name]
		if in.Kind != "tensor" {
			return nil, fmt.Errorf("%w: input %q is a %s; only tensor inputs are supported", ErrBadInput, in.Name, in.Kind)
		}
		if t == nil {
			return nil, fmt.Errorf("%w: input %q is nil", ErrBadInput, in.Name)
		}
		if err := t.Validate(); err != nil {
			return nil, fmt.Errorf("%w: input %q: %v", ErrBadInput, in.Name, err)
		}
		if t.DType != in.DType {
			return nil, fmt.Errorf("%w: input %q is %s, but the model wants %s", ErrBadInput, in.Name, t, in)
		}
		if len(t.Shape) != len(in.Shape) {
			return nil, fmt.Errorf("%w: input %q has shape %s (rank %d), but the model wants rank %d: %s", ErrBadInput, in.Name, FormatShape(t.Shape), len(t.Shape), len(in.Shape), in)
		}
		for d, want := range in.Shape {
			if want >= 0 && t.Shape[d] != want {
				return nil, fmt.Errorf("%w: input %q has shape %s, but the model wants %s (dimension %d must be %d)", ErrBadInput, in.Name, FormatShape(t.Shape), in, d, want)
			}
		}
	}
	return order, nil
}

func (s *Session) pickOutputs(names []string) ([]int, error) {
	if len(names) == 0 {
		var idx []int
		for i, o := range s.outputs {
			if o.Kind == "tensor" {
				idx = append(idx, i)
			}
		}
		return idx, nil
	}
	var idx []int
	var unknown []string
	for _, n := range names {
		i, ok := s.outIdx[n]
		if !ok {
			unknown = append(unknown, n)
			continue
		}
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	if len(unknown) > 0 {
		var have []string
		for _, o := range s.outputs {
			have = append(have, "  "+o.String())
		}
		return nil, fmt.Errorf("%w: %s has no output %s; its outputs are:\n%s", ErrBadInput, filepath.Base(s.model), quoteList(unknown), strings.Join(have, "\n"))
	}
	return idx, nil
}

func (s *Session) describeInputs() string {
	if len(s.inputs) == 0 {
		return "the model takes no inputs"
	}
	lines := make([]string, len(s.inputs))
	for i, in := range s.inputs {
		lines[i] = "  " + in.String()
	}
	return "its inputs are:\n" + strings.Join(lines, "\n")
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// decodeSessionBytes is what both sessions from bytes check first: the
// library is loaded, the model has bytes, and they decode (so a bad model
// is reported by painterc's codec, naming what is wrong, before ONNX
// Runtime sees it). name defaults to "model" for the messages.
func decodeSessionBytes(model []byte, name string) (*onnx.Model, string, error) {
	if _, _, ok := initialized(); !ok {
		return nil, name, ErrNotInitialized
	}
	if name == "" {
		name = "model"
	}
	if len(model) == 0 {
		return nil, name, fmt.Errorf("model %s: no bytes", name)
	}
	m, err := onnx.Decode(model)
	if err != nil {
		return nil, name, fmt.Errorf("model %s: %w", name, err)
	}
	return m, name, nil
}
