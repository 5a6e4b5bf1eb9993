package ortmodel

import (
	"fmt"
	"slices"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
)

// openSession encodes m (its graph and in-file tensors) and opens an ONNX
// Runtime session on it.
//
// Weights stored as external data stay where they are: the encoded model
// keeps their references, and ORT resolves them against m.Dir and reads
// the files itself (runtime.NewSessionWithExternalData), memory-mapping
// each tensor's range as it does for a model loaded by path. So a model of
// any size loads, where encoding the weights in-file stopped at protobuf's
// 2 GiB, painterc copies no weights, and nothing is written: the compiled
// variant needs no file of its own, and the input's folder is never
// written to. docs/large-models.md compares this with the other routes.
func openSession(m *onnx.Model, so runtime.SessionOptions) (*runtime.Session, error) {
	m, err := inlineSmallExternal(m)
	if err != nil {
		return nil, err
	}
	data, err := onnx.Encode(m)
	if err != nil {
		return nil, fmt.Errorf("ortmodel: encoding model %q: %w", m.Graph.Name, err)
	}
	name := m.Graph.Name
	if name == "" {
		name = "model"
	}
	var sess *runtime.Session
	if m.Dir != "" { // loaded from a file: external locations are relative to its folder
		sess, err = runtime.NewSessionWithExternalData(data, name, m.Dir, so)
	} else {
		sess, err = runtime.NewSessionFromBytes(data, name, so)
	}
	if err != nil {
		return nil, fmt.Errorf("ortmodel: %w", err)
	}
	return sess, nil
}

// smallExternal is the size below which an external initializer is copied
// into the encoded model. ORT's shape inference reads shape-like constants
// (a Reshape's shape, a Slice's starts) from the graph and cannot read them
// from a data file when the model comes from memory ("Cannot parse data
// from external tensors"); exporters keep such tensors in-file (onnx's
// default threshold is 1 KiB), but a model saved with every tensor external
// would not load. Copying the small ones costs little: weights are matrices.
const smallExternal = 64 << 10

// inlineSmallExternal returns m with each external tensor of its main
// graph under smallExternal bytes (initializers, and tensor attributes such
// as Constant values) copied in-file, or m itself when there is none.
func inlineSmallExternal(m *onnx.Model) (*onnx.Model, error) {
	small := func(t *onnx.Tensor) (bool, error) {
		if !t.IsExternal() {
			return false, nil
		}
		info, err := t.External()
		if err != nil {
			return false, fmt.Errorf("ortmodel: %w", err)
		}
		return info.Length >= 0 && info.Length < smallExternal, nil
	}
	inline := func(t *onnx.Tensor) (*onnx.Tensor, error) {
		raw, err := m.TensorBytes(t)
		if err != nil {
			return nil, fmt.Errorf("ortmodel: %w", err)
		}
		return &onnx.Tensor{Name: t.Name, Dims: t.Dims, DataType: t.DataType, RawData: raw, DocString: t.DocString}, nil
	}
	var g *onnx.Graph // m's graph, copied on the first change
	own := func() {
		if g == nil {
			c := *m.Graph
			c.Initializer = slices.Clone(c.Initializer)
			c.Node = slices.Clone(c.Node)
			g = &c
		}
	}
	for i, t := range m.Graph.Initializer {
		if ok, err := small(t); err != nil {
			return nil, err
		} else if ok {
			own()
			if g.Initializer[i], err = inline(t); err != nil {
				return nil, err
			}
		}
	}
	for i, n := range m.Graph.Node {
		for j, a := range n.Attribute {
			if a.T == nil {
				continue
			}
			ok, err := small(a.T)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			own()
			if g.Node[i] == n { // copy the node and its attribute list once
				nc := *n
				nc.Attribute = slices.Clone(n.Attribute)
				g.Node[i] = &nc
			}
			ac := *a
			if ac.T, err = inline(a.T); err != nil {
				return nil, err
			}
			g.Node[i].Attribute[j] = &ac
		}
	}
	if g == nil {
		return m, nil
	}
	mc := *m
	mc.Graph = g
	return &mc, nil
}
