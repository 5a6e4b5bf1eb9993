// Package npy reads and writes NumPy .npy files (format versions 1.0, 2.0
// and 3.0) as runtime.Tensor values: C order, little-endian, one array per
// file. It refuses, with a message saying how to convert, arrays that are
// Fortran-ordered or big-endian, and dtypes with no runtime.DataType
// counterpart (strings, objects, structured, complex, datetime). It never
// panics on malformed input.
//
// dtypes: <f2 <f4 <f8, |i1 <i2 <i4 <i8, |u1 <u2 <u4 <u8, |b1. bfloat16
// has no NumPy dtype, so Write refuses it; convert with Tensor.Float32s.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/runtime"
)

var (
	// ErrFormat is matched (errors.Is) by errors for input that is not a
	// well-formed .npy file.
	ErrFormat = errors.New("npy: not a valid .npy file")
	// ErrUnsupported is matched by errors for well-formed files (or tensors)
	// this package does not handle: big-endian, Fortran order, or a dtype
	// without a counterpart.
	ErrUnsupported = errors.New("npy: unsupported array")
)

const (
	magic = "\x93NUMPY"
	// MaxHeaderLen bounds the header Read accepts (NumPy itself defaults to
	// 10000 bytes); real headers are about a hundred bytes.
	MaxHeaderLen = 1 << 20
	align        = 64 // NumPy aligns the data to 64 bytes
)

var descrs = map[runtime.DataType]string{
	runtime.Float16: "<f2", runtime.Float: "<f4", runtime.Double: "<f8",
	runtime.Int8: "|i1", runtime.Int16: "<i2", runtime.Int32: "<i4", runtime.Int64: "<i8",
	runtime.Uint8: "|u1", runtime.Uint16: "<u2", runtime.Uint32: "<u4", runtime.Uint64: "<u8",
	runtime.Bool: "|b1",
}

// kind+size (without byte order) -> type
var byKind = map[string]runtime.DataType{
	"f2": runtime.Float16, "f4": runtime.Float, "f8": runtime.Double,
	"i1": runtime.Int8, "i2": runtime.Int16, "i4": runtime.Int32, "i8": runtime.Int64,
	"u1": runtime.Uint8, "u2": runtime.Uint16, "u4": runtime.Uint32, "u8": runtime.Uint64,
	"b1": runtime.Bool,
}

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

// Descr returns the NumPy dtype string for dt, e.g. "<f4".
func Descr(dt runtime.DataType) (string, error) {
	if d, ok := descrs[dt]; ok {
		return d, nil
	}
	if dt == runtime.BFloat16 {
		return "", unsupported("bfloat16 has no NumPy dtype; convert the tensor to float32 first (Tensor.Float32s)")
	}
	return "", unsupported("%s has no NumPy dtype this package writes", dt)
}

// ParseDescr maps a NumPy dtype string ("<f4", "|b1", ...) to a DataType.
func ParseDescr(descr string) (runtime.DataType, error) {
	if len(descr) < 2 {
		return 0, unsupported("dtype %q is not supported", descr)
	}
	order, kind := descr[0], descr[1:]
	if order != '<' && order != '>' && order != '|' && order != '=' {
		order, kind = '=', descr // "f4" without a byte-order character
	}
	dt, ok := byKind[kind]
	if !ok {
		return 0, unsupported("dtype %q is not supported (supported: <f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1)", descr)
	}
	if dt.Size() == 1 {
		return dt, nil // byte order is meaningless for one-byte types
	}
	switch order {
	case '<':
		return dt, nil
	case '>':
		return 0, unsupported("big-endian data (dtype %q) is not supported; convert it in NumPy with a.astype('<%s')", descr, kind)
	}
	return 0, unsupported("dtype %q does not say its byte order; save it from NumPy with an explicit little-endian dtype ('<%s')", descr, kind)
}

// ReadFile reads one array from a .npy file.
func ReadFile(path string) (*runtime.Tensor, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := Read(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Read reads one array from r. It reads exactly the header and the data the
// header announces, so several arrays written back to back can be read in
// turn.
func Read(r io.Reader) (*runtime.Tensor, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, formatErr("reading the magic string: %v", noEOF(err))
	}
	if string(pre[:6]) != magic {
		return nil, formatErr("missing the \\x93NUMPY magic string")
	}
	major, minor := pre[6], pre[7]
	var hlen uint64
	switch major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, formatErr("reading the header length: %v", noEOF(err))
		}
		hlen = uint64(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, formatErr("reading the header length: %v", noEOF(err))
		}
		hlen = uint64(binary.LittleEndian.Uint32(b[:]))
	default:
		return nil, unsupported("format version %d.%d (supported: 1.0, 2.0, 3.0)", major, minor)
	}
	if hlen > MaxHeaderLen {
		return nil, formatErr("header of %d bytes is longer than the %d allowed", hlen, MaxHeaderLen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, formatErr("reading the %d-byte header: %v", hlen, noEOF(err))
	}
	h, err := parseHeader(string(hdr))
	if err != nil {
		return nil, err
	}
	if h.fortran {
		return nil, unsupported("Fortran-ordered (fortran_order: True) arrays are not supported; save a C-ordered copy with np.save(path, np.ascontiguousarray(a))")
	}
	dt, err := ParseDescr(h.descr)
	if err != nil {
		return nil, err
	}
	n := runtime.NumElements(h.shape)
	if n < 0 || n > math.MaxInt64/int64(dt.Size()) {
		return nil, formatErr("shape %s is too large", runtime.FormatShape(h.shape))
	}
	size := n * int64(dt.Size())
	data, err := readN(r, size)
	if err != nil {
		return nil, formatErr("reading %d bytes of %s data for shape %s: %v", size, h.descr, runtime.FormatShape(h.shape), err)
	}
	return &runtime.Tensor{DType: dt, Shape: h.shape, Data: data}, nil
}

// readN reads exactly n bytes without trusting n for the allocation: a
// header announcing terabytes over a short stream fails after reading what
// is there, not by allocating.
func readN(r io.Reader, n int64) ([]byte, error) {
	const chunk = 64 << 20
	if n <= chunk {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, noEOF(err)
	}
	var buf bytes.Buffer
	buf.Grow(chunk)
	got, err := io.CopyN(&buf, r, n)
	if err != nil {
		return nil, fmt.Errorf("got %d bytes: %w", got, noEOF(err))
	}
	return buf.Bytes(), nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

type header struct {
	descr   string
	fortran bool
	shape   []int64
}

// parseHeader parses the Python dict literal NumPy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
func parseHeader(s string) (*header, error) {
	p := &lit{s: s}
	var h header
	seen := map[string]bool{}
	p.space()
	if !p.eat('{') {
		return nil, formatErr("header %q is not a dict", clip(s))
	}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return nil, formatErr("header %q: key: %v", clip(s), err)
		}
		p.space()
		if !p.eat(':') {
			return nil, formatErr("header %q: want ':' after %q", clip(s), key)
		}
		p.space()
		if seen[key] {
			return nil, formatErr("header %q: key %q repeated", clip(s), key)
		}
		seen[key] = true
		switch key {
		case "descr":
			if p.peek() == '[' {
				return nil, unsupported("structured dtypes (record arrays) are not supported")
			}
			if h.descr, err = p.str(); err != nil {
				return nil, formatErr("header %q: descr: %v", clip(s), err)
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
			default:
				return nil, formatErr("header %q: fortran_order must be True or False", clip(s))
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return nil, formatErr("header %q: shape: %v", clip(s), err)
			}
		default:
			return nil, formatErr("header %q: unexpected key %q", clip(s), key)
		}
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if p.eat('}') {
			break
		}
		return nil, formatErr("header %q: want ',' or '}' at offset %d", clip(s), p.i)
	}
	if rest := strings.TrimSpace(p.s[p.i:]); rest != "" {
		return nil, formatErr("header %q: trailing %q", clip(s), clip(rest))
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return nil, formatErr("header %q: missing key %q", clip(s), k)
		}
	}
	return &h, nil
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// lit is a cursor over a Python literal.
type lit struct {
	s string
	i int
}

func (p *lit) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *lit) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *lit) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func (p *lit) word(w string) bool {
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str reads a quoted string without escapes (dtype strings and keys have
// none).
func (p *lit) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("want a quoted string at offset %d", p.i)
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at offset %d", p.i)
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", fmt.Errorf("escapes in strings are not supported")
	}
	p.i += end + 2
	return v, nil
}

// tuple reads "()", "(3,)", "(2, 3)" (Python 2 "3L" accepted).
func (p *lit) tuple() ([]int64, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("want a tuple at offset %d", p.i)
	}
	dims := []int64{}
	for {
		p.space()
		if p.eat(')') {
			break
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if start == p.i {
			return nil, fmt.Errorf("want a non-negative integer at offset %d", p.i)
		}
		d, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("dimension %q: %v", p.s[start:p.i], err)
		}
		p.eat('L')
		dims = append(dims, d)
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if p.eat(')') {
			break // "(3)" is an int in Python; NumPy never writes it, but accept it
		}
		return nil, fmt.Errorf("want ',' or ')' at offset %d", p.i)
	}
	return dims, nil
}

// WriteFile writes t to path as a .npy file, replacing it atomically.
func WriteFile(path string, t *runtime.Tensor) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	w := bufio.NewWriterSize(f, 1<<16)
	err = Write(w, t)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Write writes t to w in .npy format: version 1.0 (2.0 when the header
// needs more than 65535 bytes), data aligned to 64 bytes as NumPy does.
func Write(w io.Writer, t *runtime.Tensor) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	descr, err := Descr(t.DType)
	if err != nil {
		return err
	}
	var sh strings.Builder
	sh.WriteByte('(')
	for i, d := range t.Shape {
		if i > 0 {
			sh.WriteString(", ")
		}
		sh.WriteString(strconv.FormatInt(d, 10))
	}
	if len(t.Shape) == 1 {
		sh.WriteByte(',')
	}
	sh.WriteByte(')')
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, sh.String())

	version, lenBytes := byte(1), 2
	total := len(magic) + 2 + lenBytes + len(dict) + 1
	if pad := (align - total%align) % align; len(dict)+pad+1 > math.MaxUint16 {
		version, lenBytes = 2, 4
		total = len(magic) + 2 + lenBytes + len(dict) + 1
	}
	pad := (align - total%align) % align
	hlen := len(dict) + pad + 1

	b := append([]byte(magic), version, 0)
	if lenBytes == 2 {
		b = binary.LittleEndian.AppendUint16(b, uint16(hlen))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(hlen))
	}
	b = append(b, dict...)
	b = append(b, strings.Repeat(" ", pad)...)
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err = w.Write(t.Data)
	return err
}
