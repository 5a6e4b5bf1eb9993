package rewrite

import (
	"fmt"
	"strings"

	"github.com/painterc/painterc/onnx"
)

// The torch dynamo exporter (torch >= 2.5, dynamo=True) names nodes
// node_{Op}_{N} and values val_{N}: no name carries a module scope. The
// scope is in each node's metadata_props instead:
//
//	pkg.torch.onnx.name_scopes  ['', 'model', 'model.layers.3', 'model.layers.3.self_attn', ...]
//	namespace                   ": LlamaForCausalLM/model: LlamaModel/model.layers.3: LlamaDecoderLayer/..."
//
// The list's first entry is the root (""), its last the node's own FX
// name (linear_8, add_3: no layer index), and the module paths between
// them carry the layer index as a torch-style name does (model.layers.3).
// The dynamo detector reads the whole list as one scope and finds the
// boundaries exactly as the names detector does.

const (
	dynamoScopesKey = "pkg.torch.onnx.name_scopes"
	dynamoNSKey     = "namespace"
)

// dynamoScope is n's module scope from its metadata, its paths joined by
// "/" (/model/model.layers.3/model.layers.3.self_attn/.../linear_8), or ""
// when it has none.
func dynamoScope(n *onnx.Node) string {
	var ns string
	for _, p := range n.MetadataProps {
		switch p.Key {
		case dynamoScopesKey:
			if paths := parsePyStrings(p.Value); len(paths) > 0 {
				return strings.Join(paths, "/")
			}
		case dynamoNSKey:
			ns = p.Value
		}
	}
	if ns == "" {
		return ""
	}
	// "path: class/path: class/...": the paths. Classes are dotted Python
	// names and carry no "/".
	var paths []string
	for _, part := range strings.Split(ns, "/") {
		path, _, _ := strings.Cut(part, ": ")
		paths = append(paths, path)
	}
	return strings.Join(paths, "/")
}

// parsePyStrings reads the Python repr of a list of plain strings:
// [”, 'model', 'model.layers.0']. It returns nil for anything else.
func parsePyStrings(s string) []string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil
	}
	var out []string
	for _, item := range strings.Split(s[1:len(s)-1], ",") {
		item = strings.TrimSpace(item)
		if len(item) < 2 || (item[0] != '\'' && item[0] != '"') || item[len(item)-1] != item[0] {
			return nil
		}
		out = append(out, item[1:len(item)-1])
	}
	return out
}

// boundariesByDynamoScope finds the boundaries from the scopes in node
// metadata; it does not apply (nil, nil) to a graph without them.
func boundariesByDynamoScope(ix *index) ([]Stream, error) {
	found := false
	for _, n := range ix.g.Node {
		if dynamoScope(n) != "" {
			found = true
			break
		}
	}
	if !found {
		return nil, nil
	}
	saved := ix.hints
	ix.hints = scopeHints(ix, dynamoScope)
	b, err := boundariesByName(ix)
	if err != nil {
		ix.hints = saved
		return nil, fmt.Errorf("%s", strings.Replace(err.Error(), "no node name carries", "no module scope carries", 1))
	}
	return b, nil
}
