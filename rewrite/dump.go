package rewrite

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/painterc/painterc/onnx"
)

// Dump writes a model as stable, line-oriented text: the form of golden
// files and of --dump. Weights appear by name, type and size only, so a
// diff shows structure, not numbers.
func Dump(m *onnx.Model) string {
	var b strings.Builder
	fmt.Fprintf(&b, "model ir_version=%d producer=%q", m.IRVersion, m.ProducerName)
	for _, o := range m.OpsetImport {
		d := o.Domain
		if d == "" {
			d = "ai.onnx"
		}
		fmt.Fprintf(&b, " opset(%s)=%d", d, o.Version)
	}
	b.WriteByte('\n')
	for _, p := range m.MetadataProps {
		fmt.Fprintf(&b, "metadata %s = %q\n", p.Key, p.Value)
	}
	if m.Graph != nil {
		dumpGraph(&b, m.Graph, "")
	}
	return b.String()
}

func dumpGraph(b *strings.Builder, g *onnx.Graph, indent string) {
	fmt.Fprintf(b, "%sgraph %q\n", indent, g.Name)
	for _, v := range g.Input {
		fmt.Fprintf(b, "%s  input %s: %s\n", indent, v.Name, TypeString(v.Type))
	}
	for _, t := range g.Initializer {
		fmt.Fprintf(b, "%s  initializer %s: %s\n", indent, t.Name, tensorType(t))
	}
	for _, n := range g.Node {
		dumpNode(b, n, indent+"  ")
	}
	for _, v := range g.Output {
		fmt.Fprintf(b, "%s  output %s: %s\n", indent, v.Name, TypeString(v.Type))
	}
}

func dumpNode(b *strings.Builder, n *onnx.Node, indent string) {
	op := n.OpType
	if n.Domain != "" {
		op = n.Domain + "." + op
	}
	fmt.Fprintf(b, "%s%s = %s(%s)", indent, strings.Join(n.Output, ", "), op, strings.Join(n.Input, ", "))
	var sub []*onnx.Attribute
	if len(n.Attribute) > 0 {
		b.WriteString(" {")
		for i, a := range n.Attribute {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(a.Name)
			b.WriteByte('=')
			b.WriteString(attrString(a))
			if a.G != nil || len(a.Graphs) > 0 {
				sub = append(sub, a)
			}
		}
		b.WriteByte('}')
	}
	if n.Name != "" {
		fmt.Fprintf(b, "  # %s", n.Name)
	}
	b.WriteByte('\n')
	for _, a := range sub {
		for _, g := range attrGraphs(a) {
			fmt.Fprintf(b, "%s  attribute %s:\n", indent, a.Name)
			dumpGraph(b, g, indent+"    ")
		}
	}
}

func attrString(a *onnx.Attribute) string {
	switch a.Type {
	case onnx.AttrFloat:
		return formatFloat(a.F)
	case onnx.AttrInt:
		return strconv.FormatInt(a.I, 10)
	case onnx.AttrString:
		return strconv.Quote(string(a.S))
	case onnx.AttrTensor:
		if a.T == nil {
			return "tensor(nil)"
		}
		return "tensor " + tensorType(a.T)
	case onnx.AttrGraph:
		return "graph"
	case onnx.AttrFloats:
		parts := make([]string, len(a.Floats))
		for i, f := range a.Floats {
			parts[i] = formatFloat(f)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case onnx.AttrInts:
		parts := make([]string, len(a.Ints))
		for i, v := range a.Ints {
			parts[i] = strconv.FormatInt(v, 10)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case onnx.AttrStrings:
		parts := make([]string, len(a.Strings))
		for i, s := range a.Strings {
			parts[i] = strconv.Quote(string(s))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case onnx.AttrGraphs:
		return fmt.Sprintf("graphs(%d)", len(a.Graphs))
	}
	return fmt.Sprintf("<attribute type %d>", a.Type)
}

func formatFloat(f float32) string {
	if math.IsInf(float64(f), 0) || math.IsNaN(float64(f)) {
		return fmt.Sprint(f)
	}
	return strconv.FormatFloat(float64(f), 'g', -1, 32)
}

// tensorType renders an initializer's element type, shape and byte size.
func tensorType(t *onnx.Tensor) string {
	dims := make([]string, len(t.Dims))
	for i, d := range t.Dims {
		dims[i] = strconv.FormatInt(d, 10)
	}
	s := fmt.Sprintf("%s[%s]", t.DataType.String(), strings.Join(dims, ","))
	if t.DataLocation == onnx.LocationExternal {
		s += " external"
	}
	return s
}

// TypeString renders a value type as elem[dim,...] with symbolic dims by
// name and unknown dims as "?".
func TypeString(t *onnx.Type) string {
	switch {
	case t == nil:
		return "?"
	case t.TensorType != nil:
		return t.TensorType.ElemType.String() + shapeString(t.TensorType.Shape)
	case t.SparseTensorType != nil:
		return "sparse " + t.SparseTensorType.ElemType.String() + shapeString(t.SparseTensorType.Shape)
	case t.SequenceType != nil:
		return "seq(" + TypeString(t.SequenceType.ElemType) + ")"
	case t.OptionalType != nil:
		return "optional(" + TypeString(t.OptionalType.ElemType) + ")"
	case t.MapType != nil:
		return "map(" + t.MapType.KeyType.String() + ", " + TypeString(t.MapType.ValueType) + ")"
	}
	return "?"
}

func shapeString(s *onnx.TensorShape) string {
	if s == nil {
		return ""
	}
	parts := make([]string, len(s.Dim))
	for i, d := range s.Dim {
		switch {
		case d.DimParam != "":
			parts[i] = d.DimParam
		case d.DimValue != 0 || d.Has(1):
			parts[i] = strconv.FormatInt(d.DimValue, 10)
		default:
			parts[i] = "?"
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// DumpBlocks renders detection's result: which nodes went where.
func DumpBlocks(top *onnx.Graph, b *Blocks) string {
	g := b.NodeGraph(top)
	var s strings.Builder
	fmt.Fprintf(&s, "blocks T=%d method=%s\n", b.T, b.Method)
	for i, t := range b.Boundary {
		fmt.Fprintf(&s, "boundary %d %s\n", i, t)
	}
	for i, t := range b.Mid {
		if t == nil {
			fmt.Fprintf(&s, "mid %d none: %s\n", i, b.MidReason[i])
			continue
		}
		fmt.Fprintf(&s, "mid %d %s (attention half %d nodes, MLP half %d)\n", i, t, len(b.halves[i][0]), len(b.halves[i][1]))
	}
	for _, t := range b.SideInputs {
		fmt.Fprintf(&s, "side-input %s\n", t)
	}
	for i, kv := range b.KV {
		fmt.Fprintf(&s, "kv %d past=%s,%s present=%s,%s\n", i, kv.PastKey, kv.PastValue, kv.PresentKey, kv.PresentValue)
	}
	section := func(title string, nodes []int) {
		fmt.Fprintf(&s, "%s (%d nodes)\n", title, len(nodes))
		for _, i := range nodes {
			n := g.Node[i]
			fmt.Fprintf(&s, "  %s %s\n", n.OpType, nodeLabel(n, i))
		}
	}
	section("prologue", b.Prologue)
	if len(b.PrologueCopies) > 0 {
		section("prologue copies of block nodes (run on slot 0)", b.PrologueCopies)
	}
	for i, nodes := range b.Block {
		section(fmt.Sprintf("block %d", i), nodes)
	}
	section("epilogue", b.Epilogue)
	for _, n := range b.Notes {
		fmt.Fprintf(&s, "note %s\n", n)
	}
	return s.String()
}

func nodeLabel(n *onnx.Node, i int) string {
	if n.Name != "" {
		return n.Name
	}
	return fmt.Sprintf("#%d -> %s", i, strings.Join(n.Output, ","))
}
