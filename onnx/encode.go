package onnx

import (
	"fmt"
	"io"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Encoding rules (they make Decode→Encode byte-identical for files written
// by protobuf's C++ and upb serializers, which is what onnx, onnxruntime and
// torch.onnx use):
//
//   - Known fields are written in ascending field-number order, then the
//     message's unknown fields verbatim, in the order they were read.
//   - A singular scalar, string or bytes field is written when it is non-zero
//     or non-empty, or when its presence bit is set (Wire.Has): a zero that
//     was in the input is written again. This holds for AttributeProto's value
//     fields too.
//   - A message field is written when non-nil; a nil element of a repeated
//     message field is written as an empty message.
//   - Repeated scalars are written packed when they were read packed, unpacked
//     when they were read unpacked, and otherwise as onnx.proto declares them:
//     TensorProto float_data, int32_data, int64_data, double_data and
//     uint64_data are [packed = true]; TensorProto.dims,
//     SparseTensorProto.dims and AttributeProto floats and ints are not.
//   - TensorShapeProto.Dimension's dim_value and dim_param are a oneof:
//     dim_value is written when set or present, dim_param when non-empty or
//     present. A Dimension with both a non-zero value and a parameter, and a
//     TypeProto with two value kinds, are errors.
//
// Encoding takes two passes over the model: the first computes the size of
// every message once (memoized in pre-order, so the whole encode is linear),
// the second writes. Large payloads are handed to the output as they are,
// never copied into a buffer (see Write).

// payloadMin is the smallest bytes field Write passes straight to the
// destination instead of through its buffer.
const payloadMin = 64 << 10

// Encode serializes m. Its output is the whole file in memory; use Write or
// Save for large models.
func Encode(m *Model) ([]byte, error) {
	e := &encoder{}
	n, err := e.measure(m)
	if err != nil {
		return nil, err
	}
	e.out = make([]byte, 0, n)
	e.flushAt = math.MaxInt
	e.model(m)
	if err := e.finish(n); err != nil {
		return nil, err
	}
	return e.out, nil
}

// Write streams m to w. It never holds the whole encoding in memory: message
// headers and small fields go through a 256 KiB buffer, and payloads of 64
// KiB or more (raw_data above all) are passed to w directly. When w is an
// *os.File and a payload is a view of the file a model was loaded from,
// Write copies it inside the kernel (copy_file_range, then sendfile, then a
// plain write as fallbacks), so the mapped pages are never touched.
func Write(w io.Writer, m *Model) error {
	_, err := writeModel(w, m, nil)
	return err
}

// writeModel streams m to w, with tensors replaced as override says, and
// returns the number of bytes written.
func writeModel(w io.Writer, m *Model, override map[*Tensor]*Tensor) (int64, error) {
	e := &encoder{tensors: override}
	n, err := e.measure(m)
	if err != nil {
		return 0, err
	}
	e.w = w
	e.out = make([]byte, 0, 256<<10)
	e.flushAt = 192 << 10
	e.sink = payloadSink(w, m)
	e.model(m)
	e.flush()
	if err := e.finish(n); err != nil {
		return 0, err
	}
	return int64(n), nil
}

// encodedSize returns the size of m's encoding with tensors replaced as
// override says.
func encodedSize(m *Model, override map[*Tensor]*Tensor) (int64, error) {
	e := &encoder{tensors: override}
	n, err := e.measure(m)
	return int64(n), err
}

type encoder struct {
	sizing bool
	sizes  []int // message body sizes, in pre-order
	idx    int   // next entry of sizes to write
	depth  int

	out     []byte
	flushAt int
	w       io.Writer
	sink    func([]byte) error // writes a large payload; nil: w.Write
	written int
	err     error

	tensors map[*Tensor]*Tensor // tensors to write in place of others (Save)
}

func (e *encoder) measure(m *Model) (int, error) {
	if m == nil {
		return 0, fmt.Errorf("encode: nil model")
	}
	e.sizing = true
	n := e.model(m)
	e.sizing = false
	e.idx = 0
	return n, e.err
}

func (e *encoder) finish(n int) error {
	if e.err != nil {
		return e.err
	}
	total := len(e.out)
	if e.w != nil {
		total = e.written + len(e.out)
	}
	if e.idx != len(e.sizes) || total != n {
		return fmt.Errorf("encode: the model changed while it was being written (%d bytes planned, %d written)", n, total)
	}
	return nil
}

func (e *encoder) fail(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("encode: "+format, args...)
	}
}

func (e *encoder) flush() {
	if e.w == nil || len(e.out) == 0 {
		return
	}
	if e.err == nil {
		_, e.err = e.w.Write(e.out)
	}
	e.written += len(e.out)
	e.out = e.out[:0]
}

func (e *encoder) maybeFlush() {
	if len(e.out) >= e.flushAt {
		e.flush()
	}
}

func (e *encoder) tag(num int, t protowire.Type) {
	e.maybeFlush()
	e.out = protowire.AppendVarint(e.out, uint64(num)<<3|uint64(t))
}

// payload appends b, or passes it to the destination directly when large.
func (e *encoder) payload(b []byte) {
	if e.w == nil || len(b) < payloadMin {
		e.out = append(e.out, b...)
		return
	}
	e.flush()
	e.written += len(b)
	if e.err != nil {
		return
	}
	if e.sink != nil {
		e.err = e.sink(b)
	} else {
		_, e.err = e.w.Write(b)
	}
}

func sizeTag(num int) int { return protowire.SizeVarint(uint64(num) << 3) }

func sizeLen(n int) int { return protowire.SizeVarint(uint64(n)) + n }

// Field writers. In the sizing pass each returns the bytes its field takes;
// in the writing pass it writes them and returns 0.

func (e *encoder) str(num int, s string, w *Wire) int {
	if s == "" && !w.Has(num) {
		return 0
	}
	if e.sizing {
		return sizeTag(num) + sizeLen(len(s))
	}
	e.tag(num, protowire.BytesType)
	e.out = protowire.AppendVarint(e.out, uint64(len(s)))
	if len(s) >= payloadMin && e.w != nil {
		e.payload([]byte(s))
	} else {
		e.out = append(e.out, s...)
	}
	return 0
}

func (e *encoder) bytes(num int, b []byte, w *Wire) int {
	if len(b) == 0 && !w.Has(num) {
		return 0
	}
	return e.bytesAlways(num, b)
}

func (e *encoder) bytesAlways(num int, b []byte) int {
	if e.sizing {
		return sizeTag(num) + sizeLen(len(b))
	}
	e.tag(num, protowire.BytesType)
	e.out = protowire.AppendVarint(e.out, uint64(len(b)))
	e.payload(b)
	return 0
}

func (e *encoder) strs(num int, ss []string) int {
	n := 0
	for _, s := range ss {
		if e.sizing {
			n += sizeTag(num) + sizeLen(len(s))
			continue
		}
		e.tag(num, protowire.BytesType)
		e.out = protowire.AppendVarint(e.out, uint64(len(s)))
		e.out = append(e.out, s...)
	}
	return n
}

func (e *encoder) bytess(num int, bs [][]byte) int {
	n := 0
	for _, b := range bs {
		n += e.bytesAlways(num, b)
	}
	return n
}

func (e *encoder) varint(num int, v uint64, present bool) int {
	if v == 0 && !present {
		return 0
	}
	if e.sizing {
		return sizeTag(num) + protowire.SizeVarint(v)
	}
	e.tag(num, protowire.VarintType)
	e.out = protowire.AppendVarint(e.out, v)
	return 0
}

func (e *encoder) i64(num int, v int64, w *Wire) int { return e.varint(num, uint64(v), w.Has(num)) }

// i32 writes an int32 or enum field: negative values take ten bytes,
// sign-extended, as protobuf writes them.
func (e *encoder) i32(num int, v int32, w *Wire) int {
	return e.varint(num, uint64(int64(v)), w.Has(num))
}

func (e *encoder) f32(num int, v float32, w *Wire) int {
	bits := math.Float32bits(v)
	if bits == 0 && !w.Has(num) {
		return 0
	}
	if e.sizing {
		return sizeTag(num) + 4
	}
	e.tag(num, protowire.Fixed32Type)
	e.out = protowire.AppendFixed32(e.out, bits)
	return 0
}

func toU64[T varintKind](v T) uint64 { return uint64(int64(v)) }

// repVarints writes a repeated varint field. packedDefault is what
// onnx.proto declares, used when the input did not say.
func repVarints[T varintKind](e *encoder, num int, vs []T, w *Wire, packedDefault bool) int {
	packed := w.isPacked(num, packedDefault)
	if len(vs) == 0 && !(packed && w.Has(num)) {
		return 0
	}
	if !packed {
		if e.sizing {
			n := 0
			for _, v := range vs {
				n += protowire.SizeVarint(toU64(v))
			}
			return n + len(vs)*sizeTag(num)
		}
		for _, v := range vs {
			e.tag(num, protowire.VarintType)
			e.out = protowire.AppendVarint(e.out, toU64(v))
		}
		return 0
	}
	body := 0
	for _, v := range vs {
		body += protowire.SizeVarint(toU64(v))
	}
	if e.sizing {
		return sizeTag(num) + sizeLen(body)
	}
	e.tag(num, protowire.BytesType)
	e.out = protowire.AppendVarint(e.out, uint64(body))
	for i, v := range vs {
		if i&4095 == 4095 {
			e.maybeFlush()
		}
		e.out = protowire.AppendVarint(e.out, toU64(v))
	}
	return 0
}

func repFixed32s(e *encoder, num int, vs []float32, w *Wire, packedDefault bool) int {
	packed := w.isPacked(num, packedDefault)
	if len(vs) == 0 && !(packed && w.Has(num)) {
		return 0
	}
	if !packed {
		if e.sizing {
			return len(vs) * (sizeTag(num) + 4)
		}
		for _, v := range vs {
			e.tag(num, protowire.Fixed32Type)
			e.out = protowire.AppendFixed32(e.out, math.Float32bits(v))
		}
		return 0
	}
	if e.sizing {
		return sizeTag(num) + sizeLen(4*len(vs))
	}
	e.tag(num, protowire.BytesType)
	e.out = protowire.AppendVarint(e.out, uint64(4*len(vs)))
	for i, v := range vs {
		if i&4095 == 4095 {
			e.maybeFlush()
		}
		e.out = protowire.AppendFixed32(e.out, math.Float32bits(v))
	}
	return 0
}

func repFixed64s(e *encoder, num int, vs []float64, w *Wire, packedDefault bool) int {
	packed := w.isPacked(num, packedDefault)
	if len(vs) == 0 && !(packed && w.Has(num)) {
		return 0
	}
	if !packed {
		if e.sizing {
			return len(vs) * (sizeTag(num) + 8)
		}
		for _, v := range vs {
			e.tag(num, protowire.Fixed64Type)
			e.out = protowire.AppendFixed64(e.out, math.Float64bits(v))
		}
		return 0
	}
	if e.sizing {
		return sizeTag(num) + sizeLen(8*len(vs))
	}
	e.tag(num, protowire.BytesType)
	e.out = protowire.AppendVarint(e.out, uint64(8*len(vs)))
	for i, v := range vs {
		if i&4095 == 4095 {
			e.maybeFlush()
		}
		e.out = protowire.AppendFixed64(e.out, math.Float64bits(v))
	}
	return 0
}

// msg writes one message field: in the sizing pass it records the body's
// size in pre-order, in the writing pass it uses that record.
func msg[T any](e *encoder, num int, x *T, body func(*encoder, *T) int) int {
	if e.err != nil {
		return 0
	}
	if e.sizing {
		e.depth++
		if e.depth > MaxDepth {
			e.fail("messages nested deeper than %d (does a graph contain itself?)", MaxDepth)
			e.depth--
			return 0
		}
		slot := len(e.sizes)
		e.sizes = append(e.sizes, 0)
		n := 0
		if x != nil {
			n = body(e, x)
		}
		e.sizes[slot] = n
		e.depth--
		return sizeTag(num) + sizeLen(n)
	}
	if e.idx >= len(e.sizes) {
		e.fail("the model changed while it was being written")
		return 0
	}
	n := e.sizes[e.idx]
	e.idx++
	e.tag(num, protowire.BytesType)
	e.out = protowire.AppendVarint(e.out, uint64(n))
	if x != nil {
		body(e, x)
	}
	return 0
}

func msgs[T any](e *encoder, num int, xs []*T, body func(*encoder, *T) int) int {
	n := 0
	for _, x := range xs {
		n += msg(e, num, x, body)
	}
	return n
}

func (e *encoder) unknown(w *Wire) int {
	if len(w.Unknown) == 0 {
		return 0
	}
	if e.sizing {
		return len(w.Unknown)
	}
	e.maybeFlush()
	e.payload(w.Unknown)
	return 0
}

// tensorFor returns the tensor to write in place of t.
func (e *encoder) tensorFor(t *Tensor) *Tensor {
	if e.tensors != nil {
		if r, ok := e.tensors[t]; ok {
			return r
		}
	}
	return t
}

func (e *encoder) model(m *Model) int {
	w := &m.Wire
	n := e.i64(1, m.IRVersion, w)
	n += e.str(2, m.ProducerName, w)
	n += e.str(3, m.ProducerVersion, w)
	n += e.str(4, m.Domain, w)
	n += e.i64(5, m.ModelVersion, w)
	n += e.str(6, m.DocString, w)
	if m.Graph != nil {
		n += msg(e, 7, m.Graph, (*encoder).graph)
	}
	n += msgs(e, 8, m.OpsetImport, (*encoder).opset)
	n += msgs(e, 14, m.MetadataProps, (*encoder).entry)
	n += msgs(e, 20, m.TrainingInfo, (*encoder).training)
	n += msgs(e, 25, m.Functions, (*encoder).function)
	return n + e.unknown(w)
}

func (e *encoder) opset(o *OperatorSet) int {
	w := &o.Wire
	n := e.str(1, o.Domain, w)
	n += e.i64(2, o.Version, w)
	return n + e.unknown(w)
}

func (e *encoder) entry(s *StringStringEntry) int {
	w := &s.Wire
	n := e.str(1, s.Key, w)
	n += e.str(2, s.Value, w)
	return n + e.unknown(w)
}

func (e *encoder) training(t *TrainingInfo) int {
	w := &t.Wire
	n := 0
	if t.Initialization != nil {
		n += msg(e, 1, t.Initialization, (*encoder).graph)
	}
	if t.Algorithm != nil {
		n += msg(e, 2, t.Algorithm, (*encoder).graph)
	}
	n += msgs(e, 3, t.InitializationBinding, (*encoder).entry)
	n += msgs(e, 4, t.UpdateBinding, (*encoder).entry)
	return n + e.unknown(w)
}

func (e *encoder) graph(g *Graph) int {
	w := &g.Wire
	n := msgs(e, 1, g.Node, (*encoder).node)
	n += e.str(2, g.Name, w)
	for _, t := range g.Initializer {
		n += msg(e, 5, e.tensorFor(t), (*encoder).tensor)
	}
	n += e.str(10, g.DocString, w)
	n += msgs(e, 11, g.Input, (*encoder).valueInfo)
	n += msgs(e, 12, g.Output, (*encoder).valueInfo)
	n += msgs(e, 13, g.ValueInfo, (*encoder).valueInfo)
	n += msgs(e, 14, g.QuantizationAnnotation, (*encoder).annotation)
	n += msgs(e, 15, g.SparseInitializer, (*encoder).sparse)
	n += msgs(e, 16, g.MetadataProps, (*encoder).entry)
	return n + e.unknown(w)
}

func (e *encoder) annotation(a *TensorAnnotation) int {
	w := &a.Wire
	n := e.str(1, a.TensorName, w)
	n += msgs(e, 2, a.QuantParameterTensorNames, (*encoder).entry)
	return n + e.unknown(w)
}

func (e *encoder) node(x *Node) int {
	w := &x.Wire
	n := e.strs(1, x.Input)
	n += e.strs(2, x.Output)
	n += e.str(3, x.Name, w)
	n += e.str(4, x.OpType, w)
	n += msgs(e, 5, x.Attribute, (*encoder).attribute)
	n += e.str(6, x.DocString, w)
	n += e.str(7, x.Domain, w)
	n += e.str(8, x.Overload, w)
	n += msgs(e, 9, x.MetadataProps, (*encoder).entry)
	return n + e.unknown(w)
}

func (e *encoder) attribute(a *Attribute) int {
	w := &a.Wire
	n := e.str(1, a.Name, w)
	n += e.f32(2, a.F, w)
	n += e.i64(3, a.I, w)
	n += e.bytes(4, a.S, w)
	if a.T != nil {
		n += msg(e, 5, e.tensorFor(a.T), (*encoder).tensor)
	}
	if a.G != nil {
		n += msg(e, 6, a.G, (*encoder).graph)
	}
	n += repFixed32s(e, 7, a.Floats, w, false)
	n += repVarints(e, 8, a.Ints, w, false)
	n += e.bytess(9, a.Strings)
	for _, t := range a.Tensors {
		n += msg(e, 10, e.tensorFor(t), (*encoder).tensor)
	}
	n += msgs(e, 11, a.Graphs, (*encoder).graph)
	n += e.str(13, a.DocString, w)
	if a.TP != nil {
		n += msg(e, 14, a.TP, (*encoder).typ)
	}
	n += msgs(e, 15, a.TypeProtos, (*encoder).typ)
	n += e.i32(20, int32(a.Type), w)
	n += e.str(21, a.RefAttrName, w)
	if a.SparseTensor != nil {
		n += msg(e, 22, a.SparseTensor, (*encoder).sparse)
	}
	n += msgs(e, 23, a.SparseTensors, (*encoder).sparse)
	return n + e.unknown(w)
}

func (e *encoder) valueInfo(v *ValueInfo) int {
	w := &v.Wire
	n := e.str(1, v.Name, w)
	if v.Type != nil {
		n += msg(e, 2, v.Type, (*encoder).typ)
	}
	n += e.str(3, v.DocString, w)
	n += msgs(e, 4, v.MetadataProps, (*encoder).entry)
	return n + e.unknown(w)
}

func (e *encoder) tensor(t *Tensor) int {
	w := &t.Wire
	n := repVarints(e, 1, t.Dims, w, false)
	n += e.i32(2, int32(t.DataType), w)
	if t.Segment != nil {
		n += msg(e, 3, t.Segment, (*encoder).segment)
	}
	n += repFixed32s(e, 4, t.FloatData, w, true)
	n += repVarints(e, 5, t.Int32Data, w, true)
	n += e.bytess(6, t.StringData)
	n += repVarints(e, 7, t.Int64Data, w, true)
	n += e.str(8, t.Name, w)
	n += e.bytes(9, t.RawData, w)
	n += repFixed64s(e, 10, t.DoubleData, w, true)
	n += repVarints(e, 11, t.Uint64Data, w, true)
	n += e.str(12, t.DocString, w)
	n += msgs(e, 13, t.ExternalData, (*encoder).entry)
	n += e.i32(14, int32(t.DataLocation), w)
	n += msgs(e, 16, t.MetadataProps, (*encoder).entry)
	return n + e.unknown(w)
}

func (e *encoder) segment(s *Segment) int {
	w := &s.Wire
	n := e.i64(1, s.Begin, w)
	n += e.i64(2, s.End, w)
	return n + e.unknown(w)
}

func (e *encoder) sparse(s *SparseTensor) int {
	w := &s.Wire
	n := 0
	if s.Values != nil {
		n += msg(e, 1, e.tensorFor(s.Values), (*encoder).tensor)
	}
	if s.Indices != nil {
		n += msg(e, 2, e.tensorFor(s.Indices), (*encoder).tensor)
	}
	n += repVarints(e, 3, s.Dims, w, false)
	return n + e.unknown(w)
}

func (e *encoder) typ(t *Type) int {
	w := &t.Wire
	if e.sizing {
		kinds := 0
		for _, set := range []bool{t.TensorType != nil, t.SequenceType != nil, t.MapType != nil,
			t.OpaqueType != nil, t.SparseTensorType != nil, t.OptionalType != nil} {
			if set {
				kinds++
			}
		}
		if kinds > 1 {
			e.fail("a TypeProto has %d value kinds set; its value is a oneof", kinds)
		}
	}
	n := 0
	if t.TensorType != nil {
		n += msg(e, 1, t.TensorType, (*encoder).tensorType)
	}
	if t.SequenceType != nil {
		n += msg(e, 4, t.SequenceType, (*encoder).seqType)
	}
	if t.MapType != nil {
		n += msg(e, 5, t.MapType, (*encoder).mapType)
	}
	n += e.str(6, t.Denotation, w)
	if t.OpaqueType != nil {
		n += msg(e, 7, t.OpaqueType, (*encoder).opaqueType)
	}
	if t.SparseTensorType != nil {
		n += msg(e, 8, t.SparseTensorType, (*encoder).sparseType)
	}
	if t.OptionalType != nil {
		n += msg(e, 9, t.OptionalType, (*encoder).optType)
	}
	return n + e.unknown(w)
}

func (e *encoder) tensorType(t *TensorType) int {
	w := &t.Wire
	n := e.i32(1, int32(t.ElemType), w)
	if t.Shape != nil {
		n += msg(e, 2, t.Shape, (*encoder).shape)
	}
	return n + e.unknown(w)
}

func (e *encoder) sparseType(t *SparseTensorType) int {
	w := &t.Wire
	n := e.i32(1, int32(t.ElemType), w)
	if t.Shape != nil {
		n += msg(e, 2, t.Shape, (*encoder).shape)
	}
	return n + e.unknown(w)
}

func (e *encoder) seqType(t *SequenceType) int {
	n := 0
	if t.ElemType != nil {
		n += msg(e, 1, t.ElemType, (*encoder).typ)
	}
	return n + e.unknown(&t.Wire)
}

func (e *encoder) optType(t *OptionalType) int {
	n := 0
	if t.ElemType != nil {
		n += msg(e, 1, t.ElemType, (*encoder).typ)
	}
	return n + e.unknown(&t.Wire)
}

func (e *encoder) mapType(t *MapType) int {
	w := &t.Wire
	n := e.i32(1, int32(t.KeyType), w)
	if t.ValueType != nil {
		n += msg(e, 2, t.ValueType, (*encoder).typ)
	}
	return n + e.unknown(w)
}

func (e *encoder) opaqueType(t *OpaqueType) int {
	w := &t.Wire
	n := e.str(1, t.Domain, w)
	n += e.str(2, t.Name, w)
	return n + e.unknown(w)
}

func (e *encoder) shape(s *TensorShape) int {
	n := msgs(e, 1, s.Dim, (*encoder).dim)
	return n + e.unknown(&s.Wire)
}

func (e *encoder) dim(d *Dimension) int {
	w := &d.Wire
	if d.DimValue != 0 && d.DimParam != "" {
		if e.sizing {
			e.fail("a dimension has both dim_value %d and dim_param %q; they are a oneof", d.DimValue, d.DimParam)
		}
		return 0
	}
	valueOn := d.DimValue != 0 || w.Has(1)
	paramOn := d.DimParam != "" || w.Has(2)
	if valueOn && paramOn { // both present, at most one non-zero
		if d.DimParam != "" {
			valueOn = false
		} else {
			paramOn = false
		}
	}
	n := 0
	if valueOn {
		n += e.varint(1, uint64(d.DimValue), true)
	}
	if paramOn {
		if e.sizing {
			n += sizeTag(2) + sizeLen(len(d.DimParam))
		} else {
			e.tag(2, protowire.BytesType)
			e.out = protowire.AppendVarint(e.out, uint64(len(d.DimParam)))
			e.out = append(e.out, d.DimParam...)
		}
	}
	n += e.str(3, d.Denotation, w)
	return n + e.unknown(w)
}

func (e *encoder) function(f *Function) int {
	w := &f.Wire
	n := e.str(1, f.Name, w)
	n += e.strs(4, f.Input)
	n += e.strs(5, f.Output)
	n += e.strs(6, f.Attribute)
	n += msgs(e, 7, f.Node, (*encoder).node)
	n += e.str(8, f.DocString, w)
	n += msgs(e, 9, f.OpsetImport, (*encoder).opset)
	n += e.str(10, f.Domain, w)
	n += msgs(e, 11, f.AttributeProto, (*encoder).attribute)
	n += msgs(e, 12, f.ValueInfo, (*encoder).valueInfo)
	n += e.str(13, f.Overload, w)
	n += msgs(e, 14, f.MetadataProps, (*encoder).entry)
	return n + e.unknown(w)
}
