package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// MaxDepth is the deepest nesting of messages Decode accepts and Encode
// writes. It is protobuf's own default recursion limit, so every file the
// reference implementation reads, Decode reads too; deeper input is an
// error, never a stack overflow.
const MaxDepth = 100

// DecodeError says where and why an input is not a well-formed ModelProto.
type DecodeError struct {
	// File is the file Load read; empty for Decode.
	File string
	// Path lists the messages from the model down to the one that is
	// malformed, e.g. `graph "main_graph"`, `node 12 ("/model/layers.0/Add")`,
	// `attribute "axis"`.
	Path []string
	// Field is the field number the problem is in (0: the tag itself), and
	// FieldName its name in onnx.proto when the field is known.
	Field     int
	FieldName string
	// Offset is the byte offset in the input where the problem starts.
	Offset int64
	// Msg says what is wrong, e.g. "truncated varint".
	Msg string
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": not an ONNX model: ")
	} else {
		b.WriteString("decode: ")
	}
	if len(e.Path) > 0 {
		b.WriteString(shortPath(e.Path))
		b.WriteString(": ")
	}
	if e.Field != 0 {
		fmt.Fprintf(&b, "field %d", e.Field)
		if e.FieldName != "" {
			fmt.Fprintf(&b, " (%s)", e.FieldName)
		}
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s at byte %d", e.Msg, e.Offset)
	return b.String()
}

// pathEnds is how many frames of a path an error message keeps at each end.
// A model nested hundreds of subgraphs deep would otherwise print the same
// "graph > node 0 (If) > attribute" frames hundreds of times.
const pathEnds = 4

// shortPath joins a message path, cutting its middle when it is long.
func shortPath(path []string) string {
	if len(path) <= 2*pathEnds+1 {
		return strings.Join(path, " > ")
	}
	head := strings.Join(path[:pathEnds], " > ")
	tail := strings.Join(path[len(path)-pathEnds:], " > ")
	return fmt.Sprintf("%s > ... (%d more levels) ... > %s", head, len(path)-2*pathEnds, tail)
}

// in prepends a frame to the error's message path.
func (e *DecodeError) in(frame string) *DecodeError {
	e.Path = append([]string{frame}, e.Path...)
	return e
}

// Decode parses a serialized ModelProto.
//
// The result shares memory with data: TensorProto.raw_data, the bytes fields
// of attributes and string tensors, and unknown fields are sub-slices of data
// (capacity-limited, so appending to them copies). data must stay unchanged
// while the model is in use. Strings are copied.
//
// Every field seen is marked present (Wire.Has), unknown fields are kept
// verbatim, and the packing of repeated scalars is remembered, so that
// Encode reproduces data byte for byte when the model is not modified and
// data was written the way protobuf's serializers write (ascending field
// numbers, unknown fields last).
func Decode(data []byte) (*Model, error) {
	m := &Model{}
	d := decoder{}
	if err := d.model(data, 0, m); err != nil {
		return nil, err
	}
	return m, nil
}

type decoder struct {
	depth    int
	interned map[string]string // op types, attribute names, dim params, ...
}

// intern returns b as a string, sharing one copy of the short strings that
// repeat throughout a model (op types, attribute names, dim params).
func (d *decoder) intern(b []byte) string {
	if len(b) > 64 {
		return string(b)
	}
	if s, ok := d.interned[string(b)]; ok {
		return s
	}
	if d.interned == nil {
		d.interned = map[string]string{}
	}
	s := string(b)
	d.interned[s] = s
	return s
}

// istr reads a string field through d.intern.
func (r *reader) istr(d *decoder, dst *string, w *Wire) *DecodeError {
	if e := r.want(protowire.BytesType); e != nil {
		return e
	}
	*dst = d.intern(r.v)
	w.SetHas(r.num)
	return nil
}

// enter counts one more level of message nesting.
func (d *decoder) enter(r *reader) *DecodeError {
	d.depth++
	if d.depth > MaxDepth {
		return &DecodeError{Offset: int64(r.base), Msg: fmt.Sprintf("messages nested deeper than %d", MaxDepth)}
	}
	return nil
}

func (d *decoder) leave() { d.depth-- }

// msgKind names a message type and its fields, for error messages.
type msgKind struct {
	name   string
	fields map[int]string
}

// reader walks the fields of one message.
type reader struct {
	b    []byte // the message's bytes
	base int    // offset of b[0] in the whole input
	pos  int
	kind *msgKind

	num   int
	typ   protowire.Type
	start int    // offset in b of the current field's tag
	vpos  int    // offset in b of the current field's value (its length, for bytes)
	dpos  int    // offset in b of a bytes value's data
	u     uint64 // varint, fixed32 or fixed64 value
	v     []byte // bytes value: a capacity-limited sub-slice of b
}

func (r *reader) more() bool { return r.pos < len(r.b) }

// abs is the absolute offset of the current bytes field's data.
func (r *reader) abs() int { return r.base + r.dpos }

func (r *reader) fail(at int, msg string) *DecodeError {
	e := &DecodeError{Field: r.num, Offset: int64(r.base + at), Msg: msg}
	if r.kind != nil && r.num != 0 {
		e.FieldName = r.kind.fields[r.num]
	}
	return e
}

func varintProblem(code int) string {
	if errors.Is(protowire.ParseError(code), io.ErrUnexpectedEOF) {
		return "truncated varint"
	}
	return "varint overflows 64 bits"
}

// parseProblem is protowire's message for a parse error code without its
// "proto:" prefix, which protobuf-go deliberately writes with a regular or a
// non-breaking space at random per build, so that nobody matches its text.
// painterc's messages must be stable: docs/errors.md and tests quote them.
func parseProblem(code int) string {
	msg := protowire.ParseError(code).Error()
	msg = strings.TrimPrefix(strings.Replace(msg, "\u00a0", " ", 1), "proto: ")
	return msg
}

// next reads the next field: its tag and its whole value.
func (r *reader) next() *DecodeError {
	r.num = 0
	r.start = r.pos
	tag, n := protowire.ConsumeVarint(r.b[r.pos:])
	if n < 0 {
		return r.fail(r.pos, varintProblem(n)+" in a field tag")
	}
	num, typ := tag>>3, protowire.Type(tag&7)
	if num == 0 || num > uint64(protowire.MaxValidNumber) {
		return r.fail(r.pos, fmt.Sprintf("invalid field number %d", num))
	}
	r.num, r.typ = int(num), typ
	r.pos += n
	r.vpos = r.pos
	rest := r.b[r.pos:]
	switch typ {
	case protowire.VarintType:
		v, n := protowire.ConsumeVarint(rest)
		if n < 0 {
			return r.fail(r.pos, varintProblem(n))
		}
		r.u = v
		r.pos += n
	case protowire.Fixed32Type:
		if len(rest) < 4 {
			return r.fail(r.pos, fmt.Sprintf("truncated fixed32 (%d of 4 bytes)", len(rest)))
		}
		r.u = uint64(binary.LittleEndian.Uint32(rest))
		r.pos += 4
	case protowire.Fixed64Type:
		if len(rest) < 8 {
			return r.fail(r.pos, fmt.Sprintf("truncated fixed64 (%d of 8 bytes)", len(rest)))
		}
		r.u = binary.LittleEndian.Uint64(rest)
		r.pos += 8
	case protowire.BytesType:
		l, n := protowire.ConsumeVarint(rest)
		if n < 0 {
			return r.fail(r.pos, varintProblem(n)+" in a length")
		}
		if l > math.MaxInt64 {
			return r.fail(r.pos, fmt.Sprintf("negative length %d", int64(l)))
		}
		if l > uint64(len(rest)-n) {
			what := "input"
			if r.kind != nil && r.kind.name != "model" {
				what = r.kind.name + " message"
			}
			return r.fail(r.pos, fmt.Sprintf("length %d runs past the end of the %s (%d bytes left)", l, what, len(rest)-n))
		}
		s := r.pos + n
		e := s + int(l)
		r.dpos = s
		r.v = r.b[s:e:e]
		r.pos = e
	case protowire.StartGroupType:
		n := protowire.ConsumeFieldValue(protowire.Number(num), typ, rest)
		if n < 0 {
			return r.fail(r.pos, "malformed group: "+parseProblem(n))
		}
		r.pos += n
	case protowire.EndGroupType:
		return r.fail(r.start, "unexpected end-group marker")
	default:
		return r.fail(r.start, fmt.Sprintf("invalid wire type %d", typ))
	}
	return nil
}

func wireName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "length-delimited"
	case protowire.StartGroupType:
		return "group"
	}
	return fmt.Sprintf("type %d", t)
}

func (r *reader) want(t protowire.Type) *DecodeError {
	if r.typ != t {
		return r.fail(r.start, fmt.Sprintf("wrong wire type %s, want %s", wireName(r.typ), wireName(t)))
	}
	return nil
}

// unknown keeps the current field verbatim.
func (r *reader) unknown(w *Wire) {
	rec := r.b[r.start:r.pos:r.pos]
	if len(w.Unknown) == 0 {
		w.Unknown = rec // a view; capacity-limited, so appends copy
		return
	}
	w.Unknown = append(w.Unknown, rec...)
}

func (r *reader) str(dst *string, w *Wire) *DecodeError {
	if e := r.want(protowire.BytesType); e != nil {
		return e
	}
	*dst = string(r.v)
	w.SetHas(r.num)
	return nil
}

func (r *reader) bytes(dst *[]byte, w *Wire) *DecodeError {
	if e := r.want(protowire.BytesType); e != nil {
		return e
	}
	*dst = r.v
	w.SetHas(r.num)
	return nil
}

func (r *reader) strs(dst *[]string) *DecodeError {
	if e := r.want(protowire.BytesType); e != nil {
		return e
	}
	*dst = append(*dst, string(r.v))
	return nil
}

func (r *reader) bytess(dst *[][]byte) *DecodeError {
	if e := r.want(protowire.BytesType); e != nil {
		return e
	}
	*dst = append(*dst, r.v)
	return nil
}

func (r *reader) float32(dst *float32, w *Wire) *DecodeError {
	if e := r.want(protowire.Fixed32Type); e != nil {
		return e
	}
	*dst = math.Float32frombits(uint32(r.u))
	w.SetHas(r.num)
	return nil
}

type varintKind interface {
	~int32 | ~int64 | ~uint64
}

func setVarint[T varintKind](r *reader, dst *T, w *Wire) *DecodeError {
	if e := r.want(protowire.VarintType); e != nil {
		return e
	}
	*dst = T(r.u)
	w.SetHas(r.num)
	return nil
}

// repVarint reads one record of a repeated varint field, packed or not.
func repVarint[T varintKind](r *reader, dst *[]T, w *Wire) *DecodeError {
	switch r.typ {
	case protowire.VarintType:
		*dst = append(*dst, T(r.u))
		w.setPacked(r.num, false)
		return nil
	case protowire.BytesType:
		b := r.v
		n := 0
		for _, c := range b {
			if c < 0x80 {
				n++
			}
		}
		if cap(*dst)-len(*dst) < n {
			s := make([]T, len(*dst), len(*dst)+n)
			copy(s, *dst)
			*dst = s
		}
		for p := 0; p < len(b); {
			v, k := protowire.ConsumeVarint(b[p:])
			if k < 0 {
				return r.fail(r.dpos+p, varintProblem(k)+" in packed data")
			}
			*dst = append(*dst, T(v))
			p += k
		}
		w.setPacked(r.num, true)
		return nil
	}
	return r.want(protowire.VarintType)
}

func repFloat32(r *reader, dst *[]float32, w *Wire) *DecodeError {
	switch r.typ {
	case protowire.Fixed32Type:
		*dst = append(*dst, math.Float32frombits(uint32(r.u)))
		w.setPacked(r.num, false)
		return nil
	case protowire.BytesType:
		b := r.v
		if len(b)%4 != 0 {
			return r.fail(r.dpos, fmt.Sprintf("packed fixed32 data of %d bytes is not a multiple of 4", len(b)))
		}
		s := growTo(*dst, len(b)/4)
		for i := 0; i+4 <= len(b); i += 4 {
			s = append(s, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
		}
		*dst = s
		w.setPacked(r.num, true)
		return nil
	}
	return r.want(protowire.Fixed32Type)
}

func repFloat64(r *reader, dst *[]float64, w *Wire) *DecodeError {
	switch r.typ {
	case protowire.Fixed64Type:
		*dst = append(*dst, math.Float64frombits(r.u))
		w.setPacked(r.num, false)
		return nil
	case protowire.BytesType:
		b := r.v
		if len(b)%8 != 0 {
			return r.fail(r.dpos, fmt.Sprintf("packed fixed64 data of %d bytes is not a multiple of 8", len(b)))
		}
		s := growTo(*dst, len(b)/8)
		for i := 0; i+8 <= len(b); i += 8 {
			s = append(s, math.Float64frombits(binary.LittleEndian.Uint64(b[i:])))
		}
		*dst = s
		w.setPacked(r.num, true)
		return nil
	}
	return r.want(protowire.Fixed64Type)
}

func growTo[T any](s []T, extra int) []T {
	if cap(s)-len(s) >= extra {
		return s
	}
	t := make([]T, len(s), len(s)+extra)
	copy(t, s)
	return t
}

// frame describes one message of a decode error's path. Its name is only
// looked up when an error happened.
type frame struct {
	field     string
	nameField int  // field number of the message's name, 0 if none
	altField  int  // a second field to show when the name is empty (op_type)
	nameFirst bool // show `attribute "axis"` rather than `attribute 3 ("axis")`
}

func (f *frame) label(idx int, b []byte) string {
	name := ""
	if f.nameField != 0 {
		name = peekString(b, f.nameField)
	}
	switch {
	case name != "" && (idx < 0 || f.nameFirst):
		return fmt.Sprintf("%s %q", f.field, name)
	case name != "":
		return fmt.Sprintf("%s %d (%q)", f.field, idx, name)
	}
	alt := ""
	if f.altField != 0 {
		alt = peekString(b, f.altField)
	}
	switch {
	case idx < 0 && alt != "":
		return fmt.Sprintf("%s (%s)", f.field, alt)
	case idx < 0:
		return f.field
	case alt != "":
		return fmt.Sprintf("%s %d (%s)", f.field, idx, alt)
	}
	return fmt.Sprintf("%s %d", f.field, idx)
}

// peekString finds the last value of string field num in a message,
// tolerating malformed input (it stops at the first bad field).
func peekString(b []byte, num int) string {
	s := ""
	for len(b) > 0 {
		n, t, k := protowire.ConsumeTag(b)
		if k < 0 {
			break
		}
		b = b[k:]
		k = protowire.ConsumeFieldValue(n, t, b)
		if k < 0 {
			break
		}
		if int(n) == num && t == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b)
			s = string(v)
		}
		b = b[k:]
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// oneMsg decodes a singular message field, merging into an existing value as
// protobuf does when a message field appears twice.
func oneMsg[T any](d *decoder, r *reader, dst **T, w *Wire, dec func(*decoder, []byte, int, *T) *DecodeError, f *frame) *DecodeError {
	if e := r.want(protowire.BytesType); e != nil {
		return e
	}
	if *dst == nil {
		*dst = new(T)
	}
	w.SetHas(r.num)
	if e := dec(d, r.v, r.abs(), *dst); e != nil {
		return e.in(f.label(-1, r.v))
	}
	return nil
}

// repMsg decodes one element of a repeated message field.
func repMsg[T any](d *decoder, r *reader, dst *[]*T, dec func(*decoder, []byte, int, *T) *DecodeError, f *frame) *DecodeError {
	if e := r.want(protowire.BytesType); e != nil {
		return e
	}
	x := new(T)
	*dst = append(*dst, x)
	if e := dec(d, r.v, r.abs(), x); e != nil {
		return e.in(f.label(len(*dst)-1, r.v))
	}
	return nil
}

var (
	kModel = msgKind{"model", map[int]string{1: "ir_version", 2: "producer_name", 3: "producer_version", 4: "domain",
		5: "model_version", 6: "doc_string", 7: "graph", 8: "opset_import", 14: "metadata_props", 20: "training_info", 25: "functions"}}
	kOpset    = msgKind{"opset_import", map[int]string{1: "domain", 2: "version"}}
	kEntry    = msgKind{"string entry", map[int]string{1: "key", 2: "value"}}
	kTraining = msgKind{"training_info", map[int]string{1: "initialization", 2: "algorithm", 3: "initialization_binding", 4: "update_binding"}}
	kGraph    = msgKind{"graph", map[int]string{1: "node", 2: "name", 5: "initializer", 10: "doc_string", 11: "input", 12: "output",
		13: "value_info", 14: "quantization_annotation", 15: "sparse_initializer", 16: "metadata_props"}}
	kAnnot = msgKind{"quantization_annotation", map[int]string{1: "tensor_name", 2: "quant_parameter_tensor_names"}}
	kNode  = msgKind{"node", map[int]string{1: "input", 2: "output", 3: "name", 4: "op_type", 5: "attribute", 6: "doc_string",
		7: "domain", 8: "overload", 9: "metadata_props"}}
	kAttr = msgKind{"attribute", map[int]string{1: "name", 2: "f", 3: "i", 4: "s", 5: "t", 6: "g", 7: "floats", 8: "ints",
		9: "strings", 10: "tensors", 11: "graphs", 13: "doc_string", 14: "tp", 15: "type_protos", 20: "type",
		21: "ref_attr_name", 22: "sparse_tensor", 23: "sparse_tensors"}}
	kValueInfo = msgKind{"value_info", map[int]string{1: "name", 2: "type", 3: "doc_string", 4: "metadata_props"}}
	kTensor    = msgKind{"tensor", map[int]string{1: "dims", 2: "data_type", 3: "segment", 4: "float_data", 5: "int32_data",
		6: "string_data", 7: "int64_data", 8: "name", 9: "raw_data", 10: "double_data", 11: "uint64_data", 12: "doc_string",
		13: "external_data", 14: "data_location", 16: "metadata_props"}}
	kSegment  = msgKind{"segment", map[int]string{1: "begin", 2: "end"}}
	kSparse   = msgKind{"sparse_tensor", map[int]string{1: "values", 2: "indices", 3: "dims"}}
	kType     = msgKind{"type", map[int]string{1: "tensor_type", 4: "sequence_type", 5: "map_type", 6: "denotation", 7: "opaque_type", 8: "sparse_tensor_type", 9: "optional_type"}}
	kTensorT  = msgKind{"tensor_type", map[int]string{1: "elem_type", 2: "shape"}}
	kSeqT     = msgKind{"sequence_type", map[int]string{1: "elem_type"}}
	kMapT     = msgKind{"map_type", map[int]string{1: "key_type", 2: "value_type"}}
	kOptT     = msgKind{"optional_type", map[int]string{1: "elem_type"}}
	kOpaqueT  = msgKind{"opaque_type", map[int]string{1: "domain", 2: "name"}}
	kShape    = msgKind{"shape", map[int]string{1: "dim"}}
	kDim      = msgKind{"dim", map[int]string{1: "dim_value", 2: "dim_param", 3: "denotation"}}
	kFunction = msgKind{"function", map[int]string{1: "name", 4: "input", 5: "output", 6: "attribute", 7: "node", 8: "doc_string",
		9: "opset_import", 10: "domain", 11: "attribute_proto", 12: "value_info", 13: "overload", 14: "metadata_props"}}
)

var (
	frGraph        = &frame{field: "graph", nameField: 2, nameFirst: true}
	frOpset        = &frame{field: "opset_import", nameField: 1}
	frMetadata     = &frame{field: "metadata_props", nameField: 1}
	frTraining     = &frame{field: "training_info"}
	frFunction     = &frame{field: "function", nameField: 1, nameFirst: true}
	frInit         = &frame{field: "initialization", nameField: 2}
	frAlgo         = &frame{field: "algorithm", nameField: 2}
	frInitBind     = &frame{field: "initialization_binding", nameField: 1}
	frUpdateBind   = &frame{field: "update_binding", nameField: 1}
	frNode         = &frame{field: "node", nameField: 3, altField: 4}
	frInitializer  = &frame{field: "initializer", nameField: 8}
	frSparseInit   = &frame{field: "sparse_initializer"}
	frInput        = &frame{field: "input", nameField: 1}
	frOutput       = &frame{field: "output", nameField: 1}
	frValueInfo    = &frame{field: "value_info", nameField: 1}
	frAnnot        = &frame{field: "quantization_annotation", nameField: 1}
	frQuantParam   = &frame{field: "quant_parameter_tensor_names", nameField: 1}
	frAttribute    = &frame{field: "attribute", nameField: 1, nameFirst: true}
	frAttrTensor   = &frame{field: "tensor", nameField: 8}
	frAttrGraph    = &frame{field: "graph", nameField: 2, nameFirst: true}
	frAttrSparse   = &frame{field: "sparse_tensor"}
	frAttrTP       = &frame{field: "type"}
	frAttrTensors  = &frame{field: "tensor", nameField: 8}
	frAttrGraphs   = &frame{field: "graph", nameField: 2}
	frAttrSparses  = &frame{field: "sparse_tensor"}
	frAttrTPs      = &frame{field: "type"}
	frType         = &frame{field: "type"}
	frSegment      = &frame{field: "segment"}
	frExternal     = &frame{field: "external_data", nameField: 1}
	frValues       = &frame{field: "values", nameField: 8}
	frIndices      = &frame{field: "indices", nameField: 8}
	frTensorType   = &frame{field: "tensor_type"}
	frSeqType      = &frame{field: "sequence_type"}
	frMapType      = &frame{field: "map_type"}
	frOptType      = &frame{field: "optional_type"}
	frSparseType   = &frame{field: "sparse_tensor_type"}
	frOpaqueType   = &frame{field: "opaque_type"}
	frElemType     = &frame{field: "elem_type"}
	frValueType    = &frame{field: "value_type"}
	frShape        = &frame{field: "shape"}
	frDim          = &frame{field: "dim", nameField: 2}
	frFuncAttr     = &frame{field: "attribute_proto", nameField: 1, nameFirst: true}
	frFuncNode     = &frame{field: "node", nameField: 3, altField: 4}
	frFuncValue    = &frame{field: "value_info", nameField: 1}
	frFuncOpset    = &frame{field: "opset_import", nameField: 1}
	frFuncMetadata = &frame{field: "metadata_props", nameField: 1}
)

func (d *decoder) model(b []byte, base int, m *Model) *DecodeError {
	r := reader{b: b, base: base, kind: &kModel}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = setVarint(&r, &m.IRVersion, &m.Wire)
		case 2:
			e = r.str(&m.ProducerName, &m.Wire)
		case 3:
			e = r.str(&m.ProducerVersion, &m.Wire)
		case 4:
			e = r.str(&m.Domain, &m.Wire)
		case 5:
			e = setVarint(&r, &m.ModelVersion, &m.Wire)
		case 6:
			e = r.str(&m.DocString, &m.Wire)
		case 7:
			e = oneMsg(d, &r, &m.Graph, &m.Wire, (*decoder).graph, frGraph)
		case 8:
			e = repMsg(d, &r, &m.OpsetImport, (*decoder).opset, frOpset)
		case 14:
			e = repMsg(d, &r, &m.MetadataProps, (*decoder).entry, frMetadata)
		case 20:
			e = repMsg(d, &r, &m.TrainingInfo, (*decoder).training, frTraining)
		case 25:
			e = repMsg(d, &r, &m.Functions, (*decoder).function, frFunction)
		default:
			r.unknown(&m.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) opset(b []byte, base int, o *OperatorSet) *DecodeError {
	r := reader{b: b, base: base, kind: &kOpset}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = r.istr(d, &o.Domain, &o.Wire)
		case 2:
			e = setVarint(&r, &o.Version, &o.Wire)
		default:
			r.unknown(&o.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) entry(b []byte, base int, s *StringStringEntry) *DecodeError {
	r := reader{b: b, base: base, kind: &kEntry}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = r.istr(d, &s.Key, &s.Wire)
		case 2:
			e = r.str(&s.Value, &s.Wire)
		default:
			r.unknown(&s.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) training(b []byte, base int, t *TrainingInfo) *DecodeError {
	r := reader{b: b, base: base, kind: &kTraining}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = oneMsg(d, &r, &t.Initialization, &t.Wire, (*decoder).graph, frInit)
		case 2:
			e = oneMsg(d, &r, &t.Algorithm, &t.Wire, (*decoder).graph, frAlgo)
		case 3:
			e = repMsg(d, &r, &t.InitializationBinding, (*decoder).entry, frInitBind)
		case 4:
			e = repMsg(d, &r, &t.UpdateBinding, (*decoder).entry, frUpdateBind)
		default:
			r.unknown(&t.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) graph(b []byte, base int, g *Graph) *DecodeError {
	r := reader{b: b, base: base, kind: &kGraph}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = repMsg(d, &r, &g.Node, (*decoder).node, frNode)
		case 2:
			e = r.str(&g.Name, &g.Wire)
		case 5:
			e = repMsg(d, &r, &g.Initializer, (*decoder).tensor, frInitializer)
		case 10:
			e = r.str(&g.DocString, &g.Wire)
		case 11:
			e = repMsg(d, &r, &g.Input, (*decoder).valueInfo, frInput)
		case 12:
			e = repMsg(d, &r, &g.Output, (*decoder).valueInfo, frOutput)
		case 13:
			e = repMsg(d, &r, &g.ValueInfo, (*decoder).valueInfo, frValueInfo)
		case 14:
			e = repMsg(d, &r, &g.QuantizationAnnotation, (*decoder).annotation, frAnnot)
		case 15:
			e = repMsg(d, &r, &g.SparseInitializer, (*decoder).sparse, frSparseInit)
		case 16:
			e = repMsg(d, &r, &g.MetadataProps, (*decoder).entry, frMetadata)
		default:
			r.unknown(&g.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) annotation(b []byte, base int, a *TensorAnnotation) *DecodeError {
	r := reader{b: b, base: base, kind: &kAnnot}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = r.str(&a.TensorName, &a.Wire)
		case 2:
			e = repMsg(d, &r, &a.QuantParameterTensorNames, (*decoder).entry, frQuantParam)
		default:
			r.unknown(&a.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) node(b []byte, base int, n *Node) *DecodeError {
	r := reader{b: b, base: base, kind: &kNode}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = r.strs(&n.Input)
		case 2:
			e = r.strs(&n.Output)
		case 3:
			e = r.str(&n.Name, &n.Wire)
		case 4:
			e = r.istr(d, &n.OpType, &n.Wire)
		case 5:
			e = repMsg(d, &r, &n.Attribute, (*decoder).attribute, frAttribute)
		case 6:
			e = r.str(&n.DocString, &n.Wire)
		case 7:
			e = r.istr(d, &n.Domain, &n.Wire)
		case 8:
			e = r.str(&n.Overload, &n.Wire)
		case 9:
			e = repMsg(d, &r, &n.MetadataProps, (*decoder).entry, frMetadata)
		default:
			r.unknown(&n.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) attribute(b []byte, base int, a *Attribute) *DecodeError {
	r := reader{b: b, base: base, kind: &kAttr}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = r.istr(d, &a.Name, &a.Wire)
		case 2:
			e = r.float32(&a.F, &a.Wire)
		case 3:
			e = setVarint(&r, &a.I, &a.Wire)
		case 4:
			e = r.bytes(&a.S, &a.Wire)
		case 5:
			e = oneMsg(d, &r, &a.T, &a.Wire, (*decoder).tensor, frAttrTensor)
		case 6:
			e = oneMsg(d, &r, &a.G, &a.Wire, (*decoder).graph, frAttrGraph)
		case 7:
			e = repFloat32(&r, &a.Floats, &a.Wire)
		case 8:
			e = repVarint(&r, &a.Ints, &a.Wire)
		case 9:
			e = r.bytess(&a.Strings)
		case 10:
			e = repMsg(d, &r, &a.Tensors, (*decoder).tensor, frAttrTensors)
		case 11:
			e = repMsg(d, &r, &a.Graphs, (*decoder).graph, frAttrGraphs)
		case 13:
			e = r.str(&a.DocString, &a.Wire)
		case 14:
			e = oneMsg(d, &r, &a.TP, &a.Wire, (*decoder).typ, frAttrTP)
		case 15:
			e = repMsg(d, &r, &a.TypeProtos, (*decoder).typ, frAttrTPs)
		case 20:
			e = setVarint(&r, &a.Type, &a.Wire)
		case 21:
			e = r.str(&a.RefAttrName, &a.Wire)
		case 22:
			e = oneMsg(d, &r, &a.SparseTensor, &a.Wire, (*decoder).sparse, frAttrSparse)
		case 23:
			e = repMsg(d, &r, &a.SparseTensors, (*decoder).sparse, frAttrSparses)
		default:
			r.unknown(&a.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) valueInfo(b []byte, base int, v *ValueInfo) *DecodeError {
	r := reader{b: b, base: base, kind: &kValueInfo}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = r.str(&v.Name, &v.Wire)
		case 2:
			e = oneMsg(d, &r, &v.Type, &v.Wire, (*decoder).typ, frType)
		case 3:
			e = r.str(&v.DocString, &v.Wire)
		case 4:
			e = repMsg(d, &r, &v.MetadataProps, (*decoder).entry, frMetadata)
		default:
			r.unknown(&v.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) tensor(b []byte, base int, t *Tensor) *DecodeError {
	r := reader{b: b, base: base, kind: &kTensor}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = repVarint(&r, &t.Dims, &t.Wire)
		case 2:
			e = setVarint(&r, &t.DataType, &t.Wire)
		case 3:
			e = oneMsg(d, &r, &t.Segment, &t.Wire, (*decoder).segment, frSegment)
		case 4:
			e = repFloat32(&r, &t.FloatData, &t.Wire)
		case 5:
			e = repVarint(&r, &t.Int32Data, &t.Wire)
		case 6:
			e = r.bytess(&t.StringData)
		case 7:
			e = repVarint(&r, &t.Int64Data, &t.Wire)
		case 8:
			e = r.str(&t.Name, &t.Wire)
		case 9:
			e = r.bytes(&t.RawData, &t.Wire)
		case 10:
			e = repFloat64(&r, &t.DoubleData, &t.Wire)
		case 11:
			e = repVarint(&r, &t.Uint64Data, &t.Wire)
		case 12:
			e = r.str(&t.DocString, &t.Wire)
		case 13:
			e = repMsg(d, &r, &t.ExternalData, (*decoder).entry, frExternal)
		case 14:
			e = setVarint(&r, &t.DataLocation, &t.Wire)
		case 16:
			e = repMsg(d, &r, &t.MetadataProps, (*decoder).entry, frMetadata)
		default:
			r.unknown(&t.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) segment(b []byte, base int, s *Segment) *DecodeError {
	r := reader{b: b, base: base, kind: &kSegment}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = setVarint(&r, &s.Begin, &s.Wire)
		case 2:
			e = setVarint(&r, &s.End, &s.Wire)
		default:
			r.unknown(&s.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) sparse(b []byte, base int, s *SparseTensor) *DecodeError {
	r := reader{b: b, base: base, kind: &kSparse}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = oneMsg(d, &r, &s.Values, &s.Wire, (*decoder).tensor, frValues)
		case 2:
			e = oneMsg(d, &r, &s.Indices, &s.Wire, (*decoder).tensor, frIndices)
		case 3:
			e = repVarint(&r, &s.Dims, &s.Wire)
		default:
			r.unknown(&s.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

// typ decodes TypeProto. Its value is a oneof: a later member replaces an
// earlier one, as in protobuf.
func (d *decoder) typ(b []byte, base int, t *Type) *DecodeError {
	r := reader{b: b, base: base, kind: &kType}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			keepOnly(t, 1)
			e = oneMsg(d, &r, &t.TensorType, &t.Wire, (*decoder).tensorType, frTensorType)
		case 4:
			keepOnly(t, 4)
			e = oneMsg(d, &r, &t.SequenceType, &t.Wire, (*decoder).seqType, frSeqType)
		case 5:
			keepOnly(t, 5)
			e = oneMsg(d, &r, &t.MapType, &t.Wire, (*decoder).mapType, frMapType)
		case 6:
			e = r.str(&t.Denotation, &t.Wire)
		case 7:
			keepOnly(t, 7)
			e = oneMsg(d, &r, &t.OpaqueType, &t.Wire, (*decoder).opaqueType, frOpaqueType)
		case 8:
			keepOnly(t, 8)
			e = oneMsg(d, &r, &t.SparseTensorType, &t.Wire, (*decoder).sparseType, frSparseType)
		case 9:
			keepOnly(t, 9)
			e = oneMsg(d, &r, &t.OptionalType, &t.Wire, (*decoder).optType, frOptType)
		default:
			r.unknown(&t.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

// keepOnly clears every member of TypeProto's value oneof but field n.
func keepOnly(t *Type, n int) {
	if n != 1 {
		t.TensorType = nil
		t.ClearHas(1)
	}
	if n != 4 {
		t.SequenceType = nil
		t.ClearHas(4)
	}
	if n != 5 {
		t.MapType = nil
		t.ClearHas(5)
	}
	if n != 7 {
		t.OpaqueType = nil
		t.ClearHas(7)
	}
	if n != 8 {
		t.SparseTensorType = nil
		t.ClearHas(8)
	}
	if n != 9 {
		t.OptionalType = nil
		t.ClearHas(9)
	}
}

func (d *decoder) tensorType(b []byte, base int, t *TensorType) *DecodeError {
	r := reader{b: b, base: base, kind: &kTensorT}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = setVarint(&r, &t.ElemType, &t.Wire)
		case 2:
			e = oneMsg(d, &r, &t.Shape, &t.Wire, (*decoder).shape, frShape)
		default:
			r.unknown(&t.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) sparseType(b []byte, base int, t *SparseTensorType) *DecodeError {
	r := reader{b: b, base: base, kind: &kTensorT}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = setVarint(&r, &t.ElemType, &t.Wire)
		case 2:
			e = oneMsg(d, &r, &t.Shape, &t.Wire, (*decoder).shape, frShape)
		default:
			r.unknown(&t.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) seqType(b []byte, base int, t *SequenceType) *DecodeError {
	r := reader{b: b, base: base, kind: &kSeqT}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = oneMsg(d, &r, &t.ElemType, &t.Wire, (*decoder).typ, frElemType)
		default:
			r.unknown(&t.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) optType(b []byte, base int, t *OptionalType) *DecodeError {
	r := reader{b: b, base: base, kind: &kOptT}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = oneMsg(d, &r, &t.ElemType, &t.Wire, (*decoder).typ, frElemType)
		default:
			r.unknown(&t.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) mapType(b []byte, base int, t *MapType) *DecodeError {
	r := reader{b: b, base: base, kind: &kMapT}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = setVarint(&r, &t.KeyType, &t.Wire)
		case 2:
			e = oneMsg(d, &r, &t.ValueType, &t.Wire, (*decoder).typ, frValueType)
		default:
			r.unknown(&t.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) opaqueType(b []byte, base int, t *OpaqueType) *DecodeError {
	r := reader{b: b, base: base, kind: &kOpaqueT}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = r.str(&t.Domain, &t.Wire)
		case 2:
			e = r.str(&t.Name, &t.Wire)
		default:
			r.unknown(&t.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) shape(b []byte, base int, s *TensorShape) *DecodeError {
	r := reader{b: b, base: base, kind: &kShape}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = repMsg(d, &r, &s.Dim, (*decoder).dim, frDim)
		default:
			r.unknown(&s.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

// dim decodes TensorShapeProto.Dimension; dim_value and dim_param are a
// oneof, so a later one replaces an earlier one.
func (d *decoder) dim(b []byte, base int, x *Dimension) *DecodeError {
	r := reader{b: b, base: base, kind: &kDim}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			if e = setVarint(&r, &x.DimValue, &x.Wire); e == nil {
				x.DimParam = ""
				x.ClearHas(2)
			}
		case 2:
			if e = r.istr(d, &x.DimParam, &x.Wire); e == nil {
				x.DimValue = 0
				x.ClearHas(1)
			}
		case 3:
			e = r.istr(d, &x.Denotation, &x.Wire)
		default:
			r.unknown(&x.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}

func (d *decoder) function(b []byte, base int, f *Function) *DecodeError {
	r := reader{b: b, base: base, kind: &kFunction}
	if e := d.enter(&r); e != nil {
		return e
	}
	for r.more() {
		if e := r.next(); e != nil {
			return e
		}
		var e *DecodeError
		switch r.num {
		case 1:
			e = r.str(&f.Name, &f.Wire)
		case 4:
			e = r.strs(&f.Input)
		case 5:
			e = r.strs(&f.Output)
		case 6:
			e = r.strs(&f.Attribute)
		case 7:
			e = repMsg(d, &r, &f.Node, (*decoder).node, frFuncNode)
		case 8:
			e = r.str(&f.DocString, &f.Wire)
		case 9:
			e = repMsg(d, &r, &f.OpsetImport, (*decoder).opset, frFuncOpset)
		case 10:
			e = r.str(&f.Domain, &f.Wire)
		case 11:
			e = repMsg(d, &r, &f.AttributeProto, (*decoder).attribute, frFuncAttr)
		case 12:
			e = repMsg(d, &r, &f.ValueInfo, (*decoder).valueInfo, frFuncValue)
		case 13:
			e = r.str(&f.Overload, &f.Wire)
		case 14:
			e = repMsg(d, &r, &f.MetadataProps, (*decoder).entry, frFuncMetadata)
		default:
			r.unknown(&f.Wire)
		}
		if e != nil {
			return e
		}
	}
	d.leave()
	return nil
}
