package testmodels

import (
	"strconv"

	"github.com/painterc/painterc/onnx"
)

// Fused Llama: the layout of onnxruntime-genai's model builder and of ORT's
// transformers optimizer, where each residual Add is fused into the
// normalization that follows it:
//
//	/model/layers.0/input_layernorm/...                     RMSNorm of the embedding (no residual yet)
//	/model/layers.{i}/input_layernorm/SkipLayerNorm         com.microsoft.SkipSimplifiedLayerNormalization(a, r):
//	                                                        output 0 = RMSNorm(a+r), output 3 = a+r
//	/model/layers.{i}/post_attention_layernorm/SkipLayerNorm  the same after attention
//	/model/layers.{T}/final_norm_layernorm/SkipLayerNorm    the final norm, scoped as a phantom layer T
//
// So block i hands block i+1 a pair: its MLP output and its mid-block
// residual, which block i+1 adds. The computed function is exactly the
// Llama family's, from the same weights.
type llamaFused struct {
	llama

	seqlensK, totalLen string            // the genai layout's GroupQueryAttention side inputs
	normOuts           map[string]string // genai norm output name -> the node that writes it
}

func (m *llamaFused) prologue() string {
	if m.s.GenAI {
		return m.genaiPrologue()
	}
	return m.llama.prologue()
}

func (m *llamaFused) io(slots int) {
	if m.s.GenAI {
		m.genaiIO(slots)
		return
	}
	m.llama.io(slots)
}

const msDomain = "com.microsoft"

// skipNorm emits SkipSimplifiedLayerNormalization(a, r, w) and returns
// (RMSNorm(a+r)*w, a+r).
func (m *llamaFused) skipNorm(scope, a, r, w string) (norm, sum string) {
	b := m.b
	name := b.nodeName(scope, "SkipLayerNorm")
	outs := []string{"", "", "", ""}
	for _, j := range []int{0, 3} {
		switch {
		case m.s.GenAI:
			outs[j] = m.genaiNormOutput(scope, name, j)
		case name != "":
			outs[j] = name + b.outSep + strconv.Itoa(j)
		default:
			outs[j] = b.anonValue("SkipLayerNorm")
		}
	}
	b.g.Node = append(b.g.Node, &onnx.Node{
		Name: name, OpType: "SkipSimplifiedLayerNormalization", Domain: msDomain,
		Input: []string{a, r, w}, Output: outs,
		Attribute: []*onnx.Attribute{attrFloat("epsilon", llamaEps)},
	})
	return outs[0], outs[3]
}

// norm normalizes the incoming stream: a plain RMSNorm when it is one tensor
// (block 0 reading the embedding), the fused skip norm when it is a pair.
func (m *llamaFused) norm(scope string, x []string, w string) (norm, residual string) {
	if len(x) == 1 {
		return m.rmsNorm(scope, x[0], w), x[0]
	}
	return m.skipNorm(scope, x[0], x[1], w)
}

func (m *llamaFused) blockStream(i int, x []string, slot int) []string {
	if m.s.GenAI {
		return m.genaiBlock(i, x, slot)
	}
	b, s := m.b, m.s
	L := layerScope(s, "/model/layers", i)
	P := llamaParam(i)
	h, res := m.norm(L+"/input_layernorm", x, b.param(P+"input_layernorm.weight", P+"input_layernorm.weight", []int{s.Hidden}, initNorm))
	a := m.attentionBlock(i, L, h, slot)
	h, res = m.skipNorm(L+"/post_attention_layernorm", a, res, b.param(P+"post_attention_layernorm.weight", P+"post_attention_layernorm.weight", []int{s.Hidden}, initNorm))
	return []string{m.mlpBlock(i, L, h), res}
}

func (m *llamaFused) epilogueStream(x []string) {
	if m.s.GenAI {
		m.genaiEpilogue(x)
		return
	}
	b, s := m.b, m.s
	w := b.param("model.norm.weight", "model.norm.weight", []int{s.Hidden}, initNorm)
	scope := layerScope(s, "/model/layers", s.Layers) + "/final_norm_layernorm"
	h, _ := m.norm(scope, x, w)
	head := b.param("lm_head.weight", anonWeight(s.Layers*llamaAnon), []int{s.Hidden, s.Vocab}, initLinear)
	b.opTo("logits", "/lm_head", "MatMul", []string{h, head})
}
