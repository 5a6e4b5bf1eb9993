package onnx

// External data.
//
// A TensorProto with data_location = EXTERNAL keeps its payload in another
// file, named by its external_data entries: "location" (a path relative to
// the model's directory), "offset" and "length" (decimal byte counts; no
// length means "to the end of the file") and "checksum" (SHA-1 of the
// payload; painterc keeps it but does not verify it).
//
// painterc reads external data only inside the model's directory: absolute
// locations, locations that climb out with "..", and symbolic links that
// resolve outside are refused (CVE-2024-27318, CVE-2024-5187).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// ExternalInfo is a tensor's parsed external_data.
type ExternalInfo struct {
	Location string
	Offset   int64
	Length   int64 // -1 when absent: the payload runs to the end of the file
	Checksum string
}

// IsExternal reports whether t's payload lives in an external data file.
func (t *Tensor) IsExternal() bool { return t != nil && t.DataLocation == LocationExternal }

// label names t in messages.
func (t *Tensor) label() string {
	if t == nil || t.Name == "" {
		return "unnamed tensor"
	}
	return fmt.Sprintf("tensor %q", t.Name)
}

// External parses t's external_data entries. Unrecognized keys are ignored.
func (t *Tensor) External() (ExternalInfo, error) {
	info := ExternalInfo{Length: -1}
	if !t.IsExternal() {
		return info, fmt.Errorf("%s: its data is not external", t.label())
	}
	num := func(key, v string) (int64, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s: external data %s %q is not a non-negative integer", t.label(), key, v)
		}
		return n, nil
	}
	seen := false
	for _, e := range t.ExternalData {
		if e == nil {
			continue
		}
		var err error
		switch e.Key {
		case "location":
			info.Location, seen = e.Value, true
		case "offset":
			info.Offset, err = num("offset", e.Value)
		case "length":
			info.Length, err = num("length", e.Value)
		case "checksum":
			info.Checksum = e.Value
		}
		if err != nil {
			return info, err
		}
	}
	if !seen || info.Location == "" {
		return info, fmt.Errorf("%s: external data has no \"location\" entry", t.label())
	}
	return info, nil
}

// ExternalProblem says what is wrong with a tensor's external data.
type ExternalProblem int

// The kinds of ExternalDataError.
const (
	ExternalOther   ExternalProblem = iota
	ExternalMissing                 // the data file does not exist (errors.Is fs.ErrNotExist too)
	ExternalShort                   // the file is shorter than the bytes the tensor names
	ExternalOutside                 // the location is absolute or leaves the model's directory
)

// ExternalDataError is a problem with external data, so that callers can
// act on its kind without reading its text.
type ExternalDataError struct {
	Problem ExternalProblem
	Err     error
}

func (e *ExternalDataError) Error() string { return e.Err.Error() }
func (e *ExternalDataError) Unwrap() error { return e.Err }

func externalErr(p ExternalProblem, err error) error { return &ExternalDataError{Problem: p, Err: err} }

// ResolveLocation returns the file an external data location names, with
// symbolic links resolved. It refuses absolute locations, locations that
// leave modelDir after cleaning, and symbolic links that resolve outside
// modelDir; a file that does not exist is an error too (errors.Is
// fs.ErrNotExist).
func ResolveLocation(modelDir, location string) (string, error) {
	if modelDir == "" {
		return "", fmt.Errorf("external data location %q: the model's directory is unknown (Model.Dir is empty; load the model with Load or set Dir)", location)
	}
	dir, err := filepath.Abs(modelDir)
	if err != nil {
		return "", err
	}
	outside := func(what string) error {
		return externalErr(ExternalOutside, fmt.Errorf("external data location %q %s the model directory %s; painterc only reads external data inside the model's directory (CVE-2024-27318)", location, what, dir))
	}
	switch {
	case location == "":
		return "", errors.New("external data location is empty")
	case strings.ContainsRune(location, 0):
		return "", fmt.Errorf("external data location %q contains a NUL byte", location)
	case filepath.IsAbs(location) || strings.HasPrefix(location, "/") || strings.HasPrefix(location, `\`) || filepath.VolumeName(location) != "":
		return "", outside("is an absolute path, outside")
	}
	clean := filepath.Clean(location)
	if clean == ".." || strings.HasPrefix(clean, "../") || strings.HasPrefix(clean, `..\`) {
		return "", outside("leaves")
	}
	if clean == "." {
		return "", fmt.Errorf("external data location %q names the model directory itself, not a file", location)
	}
	full := filepath.Join(dir, clean)
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("model directory %s: %w", dir, pathErr(err))
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", externalErr(ExternalMissing, notExist(fmt.Sprintf("external data file %s (location %q) does not exist", full, location)))
		}
		return "", fmt.Errorf("external data file %s (location %q): %w", full, location, pathErr(err))
	}
	if rel, err := filepath.Rel(realDir, real); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", outside(fmt.Sprintf("resolves through a symbolic link to %s, outside", real))
	}
	return real, nil
}

// notExistError is a missing-file message that errors.Is(fs.ErrNotExist).
type notExistError string

func notExist(msg string) error { return notExistError(msg) }

func (e notExistError) Error() string { return string(e) }

func (e notExistError) Unwrap() error { return fs.ErrNotExist }

// extFile is a resolved, size-checked external reference.
type extFile struct {
	path   string
	off, n int64
}

// extLookup caches, over one pass across a model's tensors, what resolving
// their external references finds: a model with hundreds of tensors in one
// data file resolves (and EvalSymlinks) that location once, not per tensor.
type extLookup struct {
	sizes    map[string]int64  // file size by resolved path
	resolved map[string]string // resolved path by location
}

func newExtLookup() *extLookup {
	return &extLookup{sizes: map[string]int64{}, resolved: map[string]string{}}
}

// externalRange resolves t's external data and checks that its file holds
// the bytes it names. c, when not nil, caches what it learns.
func (m *Model) externalRange(t *Tensor, c *extLookup) (extFile, error) {
	info, err := t.External()
	if err != nil {
		return extFile{}, err
	}
	var sizes map[string]int64
	path, ok := "", false
	if c != nil {
		sizes = c.sizes
		path, ok = c.resolved[info.Location]
	}
	if !ok {
		if path, err = ResolveLocation(m.Dir, info.Location); err != nil {
			return extFile{}, fmt.Errorf("%s: %w", t.label(), err)
		}
		if c != nil {
			c.resolved[info.Location] = path
		}
	}
	size, ok := sizes[path]
	if !ok {
		fi, err := os.Stat(path)
		if err != nil {
			return extFile{}, fmt.Errorf("%s: external data file %s: %w", t.label(), path, pathErr(err))
		}
		if !fi.Mode().IsRegular() {
			return extFile{}, fmt.Errorf("%s: external data file %s is not a regular file", t.label(), path)
		}
		size = fi.Size()
		if sizes != nil {
			sizes[path] = size
		}
	}
	n := info.Length
	if n < 0 {
		n = size - info.Offset
	}
	if info.Offset > size || n > size-info.Offset {
		if info.Offset > math.MaxInt64-n {
			// offset+length does not fit in 64 bits: say so rather than
			// print a negative end byte.
			return extFile{}, externalErr(ExternalShort, fmt.Errorf("%s: external data file %s is %d bytes, but the tensor's range overflows (offset %d, length %d: the end is past 2^63)",
				t.label(), path, size, info.Offset, n))
		}
		return extFile{}, externalErr(ExternalShort, fmt.Errorf("%s: external data file %s is %d bytes, but the tensor needs bytes %d to %d (offset %d, length %d)",
			t.label(), path, size, info.Offset, info.Offset+n, info.Offset, n))
	}
	return extFile{path: path, off: info.Offset, n: n}, nil
}

// checkExternal validates every external reference in m (Load calls it).
func (m *Model) checkExternal() error {
	c := newExtLookup()
	return m.eachTensor(func(t *Tensor, _ tensorSite) error {
		if !t.IsExternal() {
			return nil
		}
		_, err := m.externalRange(t, c)
		return err
	})
}

// ExternalFiles returns the paths of the external data files m reads
// (resolved as Load resolved them), each once, in the order the tensors
// name them: the inputs a command must never write onto besides the model.
func (m *Model) ExternalFiles() []string {
	c := newExtLookup()
	var out []string
	seen := map[string]bool{}
	m.eachTensor(func(t *Tensor, _ tensorSite) error {
		if t.IsExternal() {
			if f, err := m.externalRange(t, c); err == nil && !seen[f.path] {
				seen[f.path] = true
				out = append(out, f.path)
			}
		}
		return nil
	})
	return out
}

// tensorSite says where a tensor sits in a model.
type tensorSite int

const (
	siteInitializer tensorSite = iota // GraphProto.initializer, in any graph
	siteAttribute                     // an attribute's t or tensors (Constant values)
	siteSparse                        // values or indices of a sparse tensor
	siteFunction                      // anywhere inside a model-local function
)

// eachTensor calls fn for every tensor in m: in the main graph and its
// subgraphs, in training info graphs, and in functions.
func (m *Model) eachTensor(fn func(*Tensor, tensorSite) error) error {
	w := tensorWalker{fn: fn}
	if err := w.graph(m.Graph, false, 0); err != nil {
		return err
	}
	for _, ti := range m.TrainingInfo {
		if ti == nil {
			continue
		}
		if err := w.graph(ti.Initialization, false, 0); err != nil {
			return err
		}
		if err := w.graph(ti.Algorithm, false, 0); err != nil {
			return err
		}
	}
	for _, f := range m.Functions {
		if f == nil {
			continue
		}
		for _, a := range f.AttributeProto {
			if err := w.attr(a, true, 0); err != nil {
				return err
			}
		}
		for _, n := range f.Node {
			if err := w.node(n, true, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

type tensorWalker struct {
	fn func(*Tensor, tensorSite) error
}

func (w *tensorWalker) visit(t *Tensor, s tensorSite, inFunc bool) error {
	if t == nil {
		return nil
	}
	if inFunc {
		s = siteFunction
	}
	return w.fn(t, s)
}

func (w *tensorWalker) sparse(s *SparseTensor, inFunc bool) error {
	if s == nil {
		return nil
	}
	if err := w.visit(s.Values, siteSparse, inFunc); err != nil {
		return err
	}
	return w.visit(s.Indices, siteSparse, inFunc)
}

func (w *tensorWalker) graph(g *Graph, inFunc bool, depth int) error {
	if g == nil {
		return nil
	}
	if depth > MaxDepth {
		return fmt.Errorf("graphs nested deeper than %d", MaxDepth)
	}
	for _, t := range g.Initializer {
		if err := w.visit(t, siteInitializer, inFunc); err != nil {
			return err
		}
	}
	for _, s := range g.SparseInitializer {
		if err := w.sparse(s, inFunc); err != nil {
			return err
		}
	}
	for _, n := range g.Node {
		if err := w.node(n, inFunc, depth); err != nil {
			return err
		}
	}
	return nil
}

func (w *tensorWalker) node(n *Node, inFunc bool, depth int) error {
	if n == nil {
		return nil
	}
	for _, a := range n.Attribute {
		if err := w.attr(a, inFunc, depth); err != nil {
			return err
		}
	}
	return nil
}

func (w *tensorWalker) attr(a *Attribute, inFunc bool, depth int) error {
	if a == nil {
		return nil
	}
	if err := w.visit(a.T, siteAttribute, inFunc); err != nil {
		return err
	}
	for _, t := range a.Tensors {
		if err := w.visit(t, siteAttribute, inFunc); err != nil {
			return err
		}
	}
	if err := w.sparse(a.SparseTensor, inFunc); err != nil {
		return err
	}
	for _, s := range a.SparseTensors {
		if err := w.sparse(s, inFunc); err != nil {
			return err
		}
	}
	if err := w.graph(a.G, inFunc, depth+1); err != nil {
		return err
	}
	for _, g := range a.Graphs {
		if err := w.graph(g, inFunc, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// extMu guards Model.ext, created on first use.
var extMu sync.Mutex

func (m *Model) extFiles() *extCache {
	extMu.Lock()
	defer extMu.Unlock()
	if m.ext == nil {
		m.ext = &extCache{}
	}
	return m.ext
}

// extCache holds the external data files TensorBytes mapped, by path.
type extCache struct {
	mu    sync.Mutex
	files map[string]*mapping
}

func (c *extCache) get(path string) (*mapping, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if mp, ok := c.files[path]; ok {
		return mp, nil
	}
	mp, err := openMapping(path)
	if err != nil {
		return nil, err
	}
	if c.files == nil {
		c.files = map[string]*mapping{}
	}
	c.files[path] = mp
	return mp, nil
}

func (c *extCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for p, mp := range c.files {
		if e := mp.close(); err == nil {
			err = e
		}
		delete(c.files, p)
	}
	return err
}

// TensorBytes returns t's payload as raw little-endian bytes, the layout of
// raw_data, wherever it is stored:
//   - raw_data: returned as is (a view of the model file for Load);
//   - external data: a view of the data file, mapped read-only once per file
//     and kept until m.Close;
//   - the typed fields: converted, in a new slice. int32_data holds INT32 (4
//     bytes each), INT16, UINT16, FLOAT16 and BFLOAT16 (2 bytes: the low
//     16 bits), and INT8, UINT8, BOOL, the FLOAT8 types and the packed 4-bit
//     types (1 byte each); uint64_data holds UINT32 (4 bytes) and UINT64;
//     float_data FLOAT and COMPLEX64; double_data DOUBLE and COMPLEX128.
//
// STRING tensors have no raw form and are an error. The returned bytes must
// not be modified.
func (m *Model) TensorBytes(t *Tensor) ([]byte, error) {
	if t == nil {
		return nil, errors.New("TensorBytes: nil tensor")
	}
	if t.IsExternal() {
		r, err := m.externalRange(t, nil)
		if err != nil {
			return nil, err
		}
		mp, err := m.extFiles().get(r.path)
		if err != nil {
			return nil, fmt.Errorf("%s: external data file %s: %w", t.label(), r.path, pathErr(err))
		}
		if r.off > int64(len(mp.data)) || r.n > int64(len(mp.data))-r.off {
			return nil, fmt.Errorf("%s: external data file %s is %d bytes, but the tensor needs bytes %d to %d",
				t.label(), r.path, len(mp.data), r.off, r.off+r.n)
		}
		end := r.off + r.n
		return mp.data[r.off:end:end], nil
	}
	if len(t.RawData) > 0 || t.Has(9) {
		return t.RawData, nil
	}
	switch t.DataType {
	case Float, Complex64:
		b := make([]byte, 4*len(t.FloatData))
		for i, v := range t.FloatData {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b, nil
	case Double, Complex128:
		b := make([]byte, 8*len(t.DoubleData))
		for i, v := range t.DoubleData {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
		return b, nil
	case Int64:
		b := make([]byte, 8*len(t.Int64Data))
		for i, v := range t.Int64Data {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
		}
		return b, nil
	case Uint64:
		b := make([]byte, 8*len(t.Uint64Data))
		for i, v := range t.Uint64Data {
			binary.LittleEndian.PutUint64(b[8*i:], v)
		}
		return b, nil
	case Uint32:
		b := make([]byte, 4*len(t.Uint64Data))
		for i, v := range t.Uint64Data {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
		}
		return b, nil
	case Int32:
		b := make([]byte, 4*len(t.Int32Data))
		for i, v := range t.Int32Data {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
		}
		return b, nil
	case Int16, Uint16, Float16, BFloat16:
		b := make([]byte, 2*len(t.Int32Data))
		for i, v := range t.Int32Data {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
		}
		return b, nil
	case Int8, Uint8, Bool, Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ, Uint4, Int4, Float4E2M1:
		b := make([]byte, len(t.Int32Data))
		for i, v := range t.Int32Data {
			b[i] = byte(v)
		}
		return b, nil
	case String:
		return nil, fmt.Errorf("%s: a STRING tensor has no raw byte form", t.label())
	}
	return nil, fmt.Errorf("%s: cannot lay out data of type %d as raw bytes", t.label(), t.DataType)
}

// dataJob is one payload Save writes to the new external data file.
type dataJob struct {
	dst  int64  // offset in the new data file
	n    int64  // payload size
	mem  []byte // an in-file payload (raw_data), or
	file string // an input external data file (resolved path) ...
	off  int64  // ... and the payload's offset in it
}

// savePlan is what Save writes.
type savePlan struct {
	override map[*Tensor]*Tensor // tensors written in place of the model's
	jobs     []dataJob
	dataPath string // the new data file, "" when none
	size     int64  // the model file's size
	notes    []string
}

const defaultThreshold = 1024

// planSave decides where every payload goes. external forces in-file
// tensors out as if SaveOptions.ExternalData were set.
func planSave(path string, m *Model, o SaveOptions, external bool) (*savePlan, error) {
	threshold := o.Threshold
	if threshold <= 0 {
		threshold = defaultThreshold
	}
	outDir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	absPath := filepath.Join(outDir, filepath.Base(path))
	moveInFile := o.ExternalData || external

	// Files the new data file must not replace: the input's data files, its
	// model file, and the output model itself.
	var protect []string
	var protectInfo []os.FileInfo
	protectFile := func(p string) {
		protect = append(protect, p)
		if fi, err := os.Stat(p); err == nil {
			protectInfo = append(protectInfo, fi)
		}
	}
	protectFile(absPath)
	if m.srcPath != "" {
		if p, err := filepath.Abs(m.srcPath); err == nil {
			protectFile(p)
		}
	}

	if o.Location != "" {
		if _, err := checkLocation(o.Location, outDir); err != nil {
			return nil, err
		}
	}
	plan := &savePlan{}
	type move struct {
		t   *Tensor
		job dataJob
	}
	var moves []move
	seen := map[*Tensor]bool{}
	lookup := newExtLookup()
	sameFile := map[[2]string]bool{}
	referenced := map[string]bool{}
	err = m.eachTensor(func(t *Tensor, site tensorSite) error {
		if seen[t] {
			return nil
		}
		seen[t] = true
		if t.IsExternal() {
			r, err := m.externalRange(t, lookup)
			if err != nil {
				return err
			}
			if !referenced[r.path] {
				referenced[r.path] = true
				protectFile(r.path)
			}
			info, _ := t.External()
			key := [2]string{r.path, info.Location}
			keep, ok := sameFile[key]
			if !ok {
				if out, err := ResolveLocation(outDir, info.Location); err == nil {
					a, e1 := os.Stat(out)
					b, e2 := os.Stat(r.path)
					keep = e1 == nil && e2 == nil && os.SameFile(a, b)
				}
				sameFile[key] = keep
			}
			if !keep {
				moves = append(moves, move{t, dataJob{n: r.n, file: r.path, off: r.off}})
			}
			return nil
		}
		if moveInFile && (site == siteInitializer || site == siteAttribute) &&
			t.DataType != String && int64(len(t.RawData)) >= threshold {
			moves = append(moves, move{t, dataJob{n: int64(len(t.RawData)), mem: t.RawData}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out, err := os.Stat(absPath); err == nil {
		for p := range referenced {
			if fi, err := os.Stat(p); err == nil && os.SameFile(out, fi) {
				return nil, fmt.Errorf("refusing to overwrite %s: the model reads external data from it, and painterc never modifies its input; choose another output path", p)
			}
		}
	}

	if len(moves) > 0 {
		loc, err := chooseLocation(path, outDir, o, protect, protectInfo, &plan.notes)
		if err != nil {
			return nil, err
		}
		plan.dataPath = filepath.Join(outDir, filepath.Clean(loc))
		plan.override = make(map[*Tensor]*Tensor, len(moves))
		var pos int64
		for _, mv := range moves {
			align := int64(64)
			if mv.job.n >= 4096 {
				align = 4096
			}
			pos = (pos + align - 1) / align * align
			mv.job.dst = pos
			pos += mv.job.n
			plan.jobs = append(plan.jobs, mv.job)
			plan.override[mv.t] = externalized(mv.t, loc, mv.job.dst, mv.job.n)
		}
	}
	plan.size, err = encodedSize(m, plan.override)
	if err != nil {
		return nil, err
	}
	if plan.size > maxInFile {
		if !moveInFile {
			p, err := planSave(path, m, o, true)
			if err != nil {
				return nil, err
			}
			p.notes = append([]string{fmt.Sprintf("the model would be %d bytes, over protobuf's 2 GiB limit; wrote tensors of %d bytes or more to external data file %s", plan.size, threshold, p.dataPath)}, p.notes...)
			return p, nil
		}
		return nil, fmt.Errorf("the model is %d bytes even with tensors of %d bytes or more in external data; protobuf cannot read models over 2 GiB (lower SaveOptions.Threshold)", plan.size, threshold)
	}
	return plan, nil
}

// checkLocation checks that a user-chosen data file location stays inside
// the output's directory, and cleans it.
func checkLocation(loc, outDir string) (string, error) {
	clean := filepath.Clean(loc)
	if filepath.IsAbs(loc) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("SaveOptions.Location %q must be a file name relative to the output's directory %s, inside it", loc, outDir)
	}
	return clean, nil
}

// chooseLocation picks the new data file's location, relative to outDir.
func chooseLocation(path, outDir string, o SaveOptions, protect []string, protectInfo []os.FileInfo, notes *[]string) (string, error) {
	collides := func(loc string) bool {
		full := filepath.Join(outDir, filepath.Clean(loc))
		for _, p := range protect {
			if p == full {
				return true
			}
		}
		if fi, err := os.Stat(full); err == nil {
			for _, pi := range protectInfo {
				if os.SameFile(fi, pi) {
					return true
				}
			}
		}
		return false
	}
	if o.Location != "" {
		loc := o.Location
		clean, err := checkLocation(loc, outDir)
		if err != nil {
			return "", err
		}
		if collides(loc) {
			return "", fmt.Errorf("SaveOptions.Location %q names a file the model reads or writes (%s); writing the new external data there would destroy data the input refers to; choose another Location",
				loc, filepath.Join(outDir, clean))
		}
		return filepath.ToSlash(clean), nil
	}
	base := filepath.Base(path)
	loc := base + ".data"
	for i := 1; collides(loc); i++ {
		if i > 1000 {
			return "", fmt.Errorf("no free name for the external data file next to %s", path)
		}
		loc = fmt.Sprintf("%s.%d.data", base, i)
	}
	if loc != base+".data" {
		*notes = append(*notes, fmt.Sprintf("%s is data the input model reads; wrote the new external data to %s instead", base+".data", loc))
	}
	return loc, nil
}

// externalized returns a copy of t that refers to its payload at off in the
// data file loc. Other external_data entries (checksum, unknown keys) are
// kept after location, offset and length.
func externalized(t *Tensor, loc string, off, n int64) *Tensor {
	c := *t
	c.RawData = nil
	c.ClearHas(9)
	c.DataLocation = LocationExternal
	c.SetHas(14)
	entries := []*StringStringEntry{
		{Key: "location", Value: loc},
		{Key: "offset", Value: strconv.FormatInt(off, 10)},
		{Key: "length", Value: strconv.FormatInt(n, 10)},
	}
	for _, e := range t.ExternalData {
		if e != nil && e.Key != "location" && e.Key != "offset" && e.Key != "length" {
			entries = append(entries, e)
		}
	}
	c.ExternalData = entries
	return &c
}

var zeros [4096]byte

// writeData writes the planned payloads to f, streaming them: payloads from
// the mapped model file or from input data files are copied file to file
// inside the kernel where it can, else through a small buffer.
func writeData(f *os.File, m *Model, plan *savePlan) error {
	files := map[string]*os.File{}
	defer func() {
		for _, sf := range files {
			sf.Close()
		}
	}()
	var pos int64
	for _, j := range plan.jobs {
		for pos < j.dst {
			k := min(j.dst-pos, int64(len(zeros)))
			if _, err := f.Write(zeros[:k]); err != nil {
				return err
			}
			pos += k
		}
		if j.file == "" {
			b := j.mem
			if m.src != nil && m.src.f != nil {
				if off, ok := m.src.offsetOf(b); ok {
					done, _ := kernelCopy(f, m.src.f, off, int64(len(b)))
					b = b[done:]
				}
			}
			if _, err := f.Write(b); err != nil {
				return err
			}
		} else {
			src := files[j.file]
			if src == nil {
				var err error
				if src, err = os.Open(j.file); err != nil {
					return err
				}
				files[j.file] = src
			}
			done, _ := kernelCopy(f, src, j.off, j.n)
			if done < j.n {
				k, err := io.Copy(f, io.NewSectionReader(src, j.off+done, j.n-done))
				if err != nil {
					return err
				}
				if k != j.n-done {
					return fmt.Errorf("%s: ended before byte %d (the file shrank while saving?)", j.file, j.off+j.n)
				}
			}
		}
		pos = j.dst + j.n
	}
	return nil
}
