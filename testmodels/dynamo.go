package testmodels

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/painterc/painterc/onnx"
)

// The torch dynamo exporter layout (Spec.Dynamo), as torch >= 2.5 writes a
// model with torch.onnx.export(..., dynamo=True) and onnxscript's optimizer:
//
//   - nodes are named node_{Op}_{N} and values val_{N}: no name carries a
//     module scope or a layer index;
//   - the scope lives in each node's metadata_props:
//     pkg.torch.onnx.name_scopes, the Python repr of the cumulative module
//     paths, then the node's own FX name (['', 'model', 'model.layers.0',
//     'model.layers.0.self_attn', ..., 'matmul_41']);
//     pkg.torch.onnx.class_hierarchy, the classes along them, then the aten
//     op (aten.matmul.default); and namespace, the "/"-joined "path: class"
//     list;
//   - initializers are named after their parameters
//     (model.layers.0.input_layernorm.weight), except the linear weights,
//     whose transpose the optimizer folded into a new constant val_{N}
//     (metadata pkg.onnxscript.optimizer.folded_from naming the parameter);
//   - IR version 10, opset 18 (ReduceMean takes its axes as an input).
//
// Graph inputs and outputs keep their names (input_ids, ..., logits,
// present.{k}.key). The graph is the family's torch-style one, renamed:
// the same function from the same weights.

// Metadata keys of the dynamo layout.
const (
	DynamoScopesKey  = "pkg.torch.onnx.name_scopes"
	DynamoClassesKey = "pkg.torch.onnx.class_hierarchy"
	DynamoNSKey      = "namespace"
	DynamoFoldedKey  = "pkg.onnxscript.optimizer.folded_from"
)

// toDynamo rewrites a finished torch-style model m into the dynamo layout.
func toDynamo(m *onnx.Model, s Spec, params map[string]string) {
	g := m.Graph
	// Every node's module scope, from its torch-style name; an unnamed node
	// (a Constant) takes the scope of its first reader, as dynamo records
	// the module that created the constant.
	scope := make([]string, len(g.Node))
	readers := map[string][]int{}
	for i, n := range g.Node {
		for _, in := range n.Input {
			readers[in] = append(readers[in], i)
		}
	}
	var scopeOf func(i int) string
	scopeOf = func(i int) string {
		n := g.Node[i]
		if n.Name != "" {
			if j := strings.LastIndex(n.Name, "/"); j >= 0 {
				return n.Name[:j]
			}
			return ""
		}
		for _, o := range n.Output {
			for _, r := range readers[o] {
				if r > i {
					return scopeOf(r)
				}
			}
		}
		return ""
	}
	for i := range g.Node {
		scope[i] = scopeOf(i)
	}

	// ReduceMean-18 takes axes as an input.
	var nodes []*onnx.Node
	var scopes []string
	for i, n := range g.Node {
		if n.OpType == "ReduceMean" {
			var keep []*onnx.Attribute
			for _, a := range n.Attribute {
				if a.Name == "axes" {
					c := &onnx.Node{OpType: "Constant", Output: []string{n.Output[0] + "/axes"},
						Attribute: []*onnx.Attribute{attrTensor("value", i64s(a.Ints))}}
					nodes, scopes = append(nodes, c), append(scopes, scope[i])
					n.Input = append(n.Input, c.Output[0])
					continue
				}
				keep = append(keep, a)
			}
			n.Attribute = keep
		}
		nodes, scopes = append(nodes, n), append(scopes, scope[i])
	}
	g.Node = nodes

	// Rename values: graph inputs and outputs keep their names, parameters
	// too, folded linear weights and every intermediate become val_N.
	keep := map[string]bool{"": true}
	for _, v := range g.Input {
		keep[v.Name] = true
	}
	for _, v := range g.Output {
		keep[v.Name] = true
	}
	rename := map[string]string{}
	next := 0
	val := func() string { next++; return "val_" + strconv.Itoa(next-1) }
	for _, t := range g.Initializer {
		if strings.HasPrefix(t.Name, "onnx::") {
			old := t.Name
			t.Name = val()
			rename[old] = t.Name
			t.MetadataProps = append(t.MetadataProps, &onnx.StringStringEntry{Key: DynamoFoldedKey, Value: params[old]})
		}
	}
	for i, n := range g.Node {
		n.Name = "node_" + n.OpType + "_" + strconv.Itoa(i)
		for j, o := range n.Output {
			if !keep[o] {
				rename[o] = val()
				n.Output[j] = rename[o]
			}
		}
		for j, in := range n.Input {
			if r, ok := rename[in]; ok {
				n.Input[j] = r
			}
		}
		paths, classes := modulePaths(s.Family, scopes[i])
		// The last entry is the node's own FX name and the aten op it
		// came from.
		paths = append(paths, strings.ToLower(n.OpType)+"_"+strconv.Itoa(i))
		classes = append(classes, "aten."+strings.ToLower(n.OpType)+".default")
		var ns []string
		for k := range paths {
			ns = append(ns, paths[k]+": "+classes[k])
		}
		n.MetadataProps = append(n.MetadataProps,
			&onnx.StringStringEntry{Key: DynamoScopesKey, Value: pyRepr(paths)},
			&onnx.StringStringEntry{Key: DynamoClassesKey, Value: pyRepr(classes)},
			&onnx.StringStringEntry{Key: DynamoNSKey, Value: strings.Join(ns, "/")},
		)
	}
	m.IRVersion = 10
	for _, o := range m.OpsetImport {
		if o.Domain == "" {
			o.Version = 18
		}
	}
	m.ProducerName, m.ProducerVersion = "pytorch", "2.5.0"
}

// modulePaths turns a torch-style scope (/model/layers.3/self_attn/q_proj)
// into dynamo's cumulative module paths [”, 'model', 'model.layers.3',
// ...] and the class of each.
func modulePaths(f Family, scope string) (paths, classes []string) {
	paths = []string{""}
	classes = []string{moduleClass(f, "")}
	cur := ""
	for _, seg := range strings.Split(scope, "/") {
		if seg == "" {
			continue
		}
		if cur != "" {
			cur += "."
		}
		cur += seg
		paths = append(paths, cur)
		classes = append(classes, moduleClass(f, seg))
	}
	return paths, classes
}

var indexed = regexp.MustCompile(`^([a-z_]+)\.\d+$`)

// moduleClass is the Hugging Face class of a module named seg (the last
// part of its path; "" for the model itself).
func moduleClass(f Family, seg string) string {
	if m := indexed.FindStringSubmatch(seg); m != nil {
		seg = m[1] + ".N"
	}
	pkg := map[Family]string{Llama: "transformers.models.llama.modeling_llama.", GPT2: "transformers.models.gpt2.modeling_gpt2.", BERT: "transformers.models.bert.modeling_bert."}[f]
	switch seg {
	case "":
		return pkg + map[Family]string{Llama: "LlamaForCausalLM", GPT2: "GPT2LMHeadModel", BERT: "BertModel"}[f]
	case "model":
		return pkg + "LlamaModel"
	case "transformer":
		return pkg + "GPT2Model"
	case "bert":
		return pkg + "BertModel"
	case "layers.N":
		return pkg + "LlamaDecoderLayer"
	case "h.N":
		return pkg + "GPT2Block"
	case "layer.N":
		return pkg + "BertLayer"
	case "embed_tokens", "wte", "wpe", "word_embeddings", "position_embeddings", "token_type_embeddings":
		return "torch.nn.modules.sparse.Embedding"
	case "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head", "query", "key", "value", "dense":
		return "torch.nn.modules.linear.Linear"
	case "c_attn", "c_proj", "c_fc":
		return "transformers.pytorch_utils.Conv1D"
	case "input_layernorm", "post_attention_layernorm", "norm":
		return pkg + "LlamaRMSNorm"
	case "ln_1", "ln_2", "ln_f", "LayerNorm":
		return "torch.nn.modules.normalization.LayerNorm"
	case "self_attn":
		return pkg + "LlamaAttention"
	case "attn":
		return pkg + "GPT2Attention"
	case "mlp":
		return pkg + map[Family]string{Llama: "LlamaMLP", GPT2: "GPT2MLP"}[f]
	case "rotary_emb":
		return pkg + "LlamaRotaryEmbedding"
	case "act_fn", "act", "intermediate_act_fn":
		return "transformers.activations." + map[Family]string{Llama: "SiLUActivation", GPT2: "NewGELUActivation", BERT: "GELUActivation"}[f]
	}
	return "torch.nn.modules.module.Module"
}

// pyRepr renders a list of strings as Python's repr does (for the plain
// names used here: single quotes, no escapes needed).
func pyRepr(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "'" + x + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}
