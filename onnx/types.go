// Package onnx owns painterc's in-memory form of an ONNX model and its exact
// wire codec: decoding a ModelProto file into these types and encoding them
// back, byte for byte, including fields this codec does not know.
//
// The types mirror onnx.proto (ONNX IR 10). Field numbers are facts of that
// spec; the schema below is written by hand for painterc. Every message embeds
// Wire, which remembers what a decoded message needs to be re-encoded exactly:
// the unknown fields verbatim, which scalar fields were present even when zero
// (proto2 presence), and whether repeated scalars were packed.
//
// Large payloads (TensorProto.raw_data) are slices of the input file's bytes,
// not copies: a model loaded with Load keeps the file mapped until Close.
// The file must not be truncated or rewritten in place while it is loaded
// (painterc's own Save never does: it writes a new file and renames it).
//
// API:
//   - Decode, Encode, Write: the codec (decode.go, encode.go). Decode→Encode
//     of an unmodified model is byte-identical; unknown fields survive.
//   - Load, Save, SaveOptions, Model.Close: files (file.go). Load maps the
//     file; Save writes atomically and streams payloads file to file.
//   - Model.TensorBytes, ResolveLocation, Tensor.External: external data
//     (external.go), confined to the model's directory.
package onnx

// Wire is the per-message state that makes re-encoding byte-identical.
type Wire struct {
	// Unknown holds fields this codec does not know, verbatim (tag and
	// payload), in input order. They are written after the known fields, which
	// is where protobuf's own serializers put them.
	Unknown []byte

	has    uint64 // bit n: field n appeared in the input (proto2 presence)
	packed uint64 // bit n: repeated scalar field n appeared packed
}

// Has reports whether field number n was present in the decoded input.
func (w *Wire) Has(n int) bool { return n < 64 && w.has&(1<<uint(n)) != 0 }

// SetHas marks field n as present so it is written even when zero.
func (w *Wire) SetHas(n int) {
	if n < 64 {
		w.has |= 1 << uint(n)
	}
}

// ClearHas forgets that field n was present: a zero value is then omitted.
func (w *Wire) ClearHas(n int) {
	if n < 64 {
		w.has &^= 1 << uint(n)
		w.packed &^= 1 << uint(n)
	}
}

// setPacked records whether repeated scalar field n was seen packed.
func (w *Wire) setPacked(n int, packed bool) {
	if n < 64 {
		w.has |= 1 << uint(n)
		if packed {
			w.packed |= 1 << uint(n)
		} else {
			w.packed &^= 1 << uint(n)
		}
	}
}

func (w *Wire) isPacked(n int, dflt bool) bool {
	if n < 64 && w.has&(1<<uint(n)) != 0 {
		return w.packed&(1<<uint(n)) != 0
	}
	return dflt
}

// DataType is TensorProto.DataType.
type DataType int32

// The element types of TensorProto.DataType.
const (
	Undefined      DataType = 0
	Float          DataType = 1
	Uint8          DataType = 2
	Int8           DataType = 3
	Uint16         DataType = 4
	Int16          DataType = 5
	Int32          DataType = 6
	Int64          DataType = 7
	String         DataType = 8
	Bool           DataType = 9
	Float16        DataType = 10
	Double         DataType = 11
	Uint32         DataType = 12
	Uint64         DataType = 13
	Complex64      DataType = 14
	Complex128     DataType = 15
	BFloat16       DataType = 16
	Float8E4M3FN   DataType = 17
	Float8E4M3FNUZ DataType = 18
	Float8E5M2     DataType = 19
	Float8E5M2FNUZ DataType = 20
	Uint4          DataType = 21
	Int4           DataType = 22
	Float4E2M1     DataType = 23
)

// AttributeType is AttributeProto.AttributeType.
type AttributeType int32

// The attribute kinds of AttributeProto.AttributeType.
const (
	AttrUndefined     AttributeType = 0
	AttrFloat         AttributeType = 1
	AttrInt           AttributeType = 2
	AttrString        AttributeType = 3
	AttrTensor        AttributeType = 4
	AttrGraph         AttributeType = 5
	AttrSparseTensor  AttributeType = 11
	AttrTypeProto     AttributeType = 13
	AttrFloats        AttributeType = 6
	AttrInts          AttributeType = 7
	AttrStrings       AttributeType = 8
	AttrTensors       AttributeType = 9
	AttrGraphs        AttributeType = 10
	AttrSparseTensors AttributeType = 12
	AttrTypeProtos    AttributeType = 14
)

// DataLocation is TensorProto.DataLocation.
type DataLocation int32

// Where a tensor's payload lives.
const (
	LocationDefault  DataLocation = 0
	LocationExternal DataLocation = 1
)

// Model is ModelProto.
type Model struct {
	Wire
	IRVersion       int64                // 1
	OpsetImport     []*OperatorSet       // 8
	ProducerName    string               // 2
	ProducerVersion string               // 3
	Domain          string               // 4
	ModelVersion    int64                // 5
	DocString       string               // 6
	Graph           *Graph               // 7
	MetadataProps   []*StringStringEntry // 14
	TrainingInfo    []*TrainingInfo      // 20
	Functions       []*Function          // 25

	// Dir is the directory external data locations are relative to. Load
	// sets it to the model file's directory.
	Dir string

	closer  func() error // unmaps the file the payloads point into
	srcPath string       // the file Load read, for Save's same-file check
	src     *mapping     // Load's read-only mapping of srcPath and its open file
	ext     *extCache    // external data files mapped by TensorBytes
	derived bool         // made by Derive: src and ext belong to another model
}

// Derive returns an empty model that reads its payloads from the same files
// as m. A rewrite built on it (keeping m's tensors) saves by copying those
// payloads kernel-side from m's file rather than through the mapping, which
// keeps the rewrite's memory small, and Save refuses to overwrite m's file.
// The derived model owns nothing: Close m, not it, when both are done.
func (m *Model) Derive() *Model {
	return &Model{Dir: m.Dir, srcPath: m.srcPath, src: m.src, ext: m.ext, derived: true}
}

// Close releases the file mapping that tensor payloads point into and the
// external data files TensorBytes mapped. The model and every slice taken
// from it must not be used afterwards. Close is idempotent.
// Path is the file Load read the model from, or "" for a model built in
// memory.
func (m *Model) Path() string { return m.srcPath }

func (m *Model) Close() error {
	if m == nil {
		return nil
	}
	if m.derived {
		m.src, m.ext = nil, nil
		return nil
	}
	var err error
	extMu.Lock()
	ext := m.ext
	m.ext = nil
	extMu.Unlock()
	if ext != nil {
		err = ext.close()
	}
	if m.closer != nil {
		c := m.closer
		m.closer = nil
		if e := c(); err == nil {
			err = e
		}
	}
	m.src = nil
	return err
}

// OperatorSet is OperatorSetIdProto.
type OperatorSet struct {
	Wire
	Domain  string // 1
	Version int64  // 2
}

// StringStringEntry is StringStringEntryProto.
type StringStringEntry struct {
	Wire
	Key   string // 1
	Value string // 2
}

// TrainingInfo is TrainingInfoProto.
type TrainingInfo struct {
	Wire
	Initialization        *Graph               // 1
	Algorithm             *Graph               // 2
	InitializationBinding []*StringStringEntry // 3
	UpdateBinding         []*StringStringEntry // 4
}

// Graph is GraphProto.
type Graph struct {
	Wire
	Node                   []*Node              // 1
	Name                   string               // 2
	Initializer            []*Tensor            // 5
	SparseInitializer      []*SparseTensor      // 15
	DocString              string               // 10
	Input                  []*ValueInfo         // 11
	Output                 []*ValueInfo         // 12
	ValueInfo              []*ValueInfo         // 13
	QuantizationAnnotation []*TensorAnnotation  // 14
	MetadataProps          []*StringStringEntry // 16
}

// TensorAnnotation is TensorAnnotation.
type TensorAnnotation struct {
	Wire
	TensorName                string               // 1
	QuantParameterTensorNames []*StringStringEntry // 2
}

// Node is NodeProto.
type Node struct {
	Wire
	Input         []string             // 1
	Output        []string             // 2
	Name          string               // 3
	OpType        string               // 4
	Domain        string               // 7
	Overload      string               // 8
	Attribute     []*Attribute         // 5
	DocString     string               // 6
	MetadataProps []*StringStringEntry // 9
}

// Attribute is AttributeProto.
type Attribute struct {
	Wire
	Name          string          // 1
	RefAttrName   string          // 21
	DocString     string          // 13
	Type          AttributeType   // 20
	F             float32         // 2
	I             int64           // 3
	S             []byte          // 4
	T             *Tensor         // 5
	G             *Graph          // 6
	SparseTensor  *SparseTensor   // 22
	TP            *Type           // 14
	Floats        []float32       // 7
	Ints          []int64         // 8
	Strings       [][]byte        // 9
	Tensors       []*Tensor       // 10
	Graphs        []*Graph        // 11
	SparseTensors []*SparseTensor // 23
	TypeProtos    []*Type         // 15
}

// ValueInfo is ValueInfoProto.
type ValueInfo struct {
	Wire
	Name          string               // 1
	Type          *Type                // 2
	DocString     string               // 3
	MetadataProps []*StringStringEntry // 4
}

// Tensor is TensorProto.
type Tensor struct {
	Wire
	Dims          []int64              // 1
	DataType      DataType             // 2
	Segment       *Segment             // 3
	FloatData     []float32            // 4 (packed)
	Int32Data     []int32              // 5 (packed)
	StringData    [][]byte             // 6
	Int64Data     []int64              // 7 (packed)
	Name          string               // 8
	DocString     string               // 12
	RawData       []byte               // 9: a view of the input file when decoded
	ExternalData  []*StringStringEntry // 13
	DataLocation  DataLocation         // 14
	DoubleData    []float64            // 10 (packed)
	Uint64Data    []uint64             // 11 (packed)
	MetadataProps []*StringStringEntry // 16
}

// Segment is TensorProto.Segment.
type Segment struct {
	Wire
	Begin int64 // 1
	End   int64 // 2
}

// SparseTensor is SparseTensorProto.
type SparseTensor struct {
	Wire
	Values  *Tensor // 1
	Indices *Tensor // 2
	Dims    []int64 // 3
}

// Type is TypeProto. Exactly one of the value fields is set.
type Type struct {
	Wire
	TensorType       *TensorType       // 1
	SequenceType     *SequenceType     // 4
	MapType          *MapType          // 5
	OptionalType     *OptionalType     // 9
	SparseTensorType *SparseTensorType // 8
	OpaqueType       *OpaqueType       // 7
	Denotation       string            // 6
}

// TensorType is TypeProto.Tensor.
type TensorType struct {
	Wire
	ElemType DataType     // 1
	Shape    *TensorShape // 2
}

// SequenceType is TypeProto.Sequence.
type SequenceType struct {
	Wire
	ElemType *Type // 1
}

// MapType is TypeProto.Map.
type MapType struct {
	Wire
	KeyType   DataType // 1
	ValueType *Type    // 2
}

// OptionalType is TypeProto.Optional.
type OptionalType struct {
	Wire
	ElemType *Type // 1
}

// SparseTensorType is TypeProto.SparseTensor.
type SparseTensorType struct {
	Wire
	ElemType DataType     // 1
	Shape    *TensorShape // 2
}

// OpaqueType is TypeProto.Opaque.
type OpaqueType struct {
	Wire
	Domain string // 1
	Name   string // 2
}

// TensorShape is TensorShapeProto.
type TensorShape struct {
	Wire
	Dim []*Dimension // 1
}

// Dimension is TensorShapeProto.Dimension: a fixed size, a symbolic name, or
// unknown when neither is set.
type Dimension struct {
	Wire
	DimValue   int64  // 1 (oneof value)
	DimParam   string // 2 (oneof value)
	Denotation string // 3
}

// Function is FunctionProto.
type Function struct {
	Wire
	Name           string               // 1
	Input          []string             // 4
	Output         []string             // 5
	Attribute      []string             // 6
	AttributeProto []*Attribute         // 11
	Node           []*Node              // 7
	DocString      string               // 8
	OpsetImport    []*OperatorSet       // 9
	Domain         string               // 10
	Overload       string               // 13
	ValueInfo      []*ValueInfo         // 12
	MetadataProps  []*StringStringEntry // 14
}
