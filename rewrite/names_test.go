package rewrite

import (
	"regexp"
	"strconv"
	"testing"
)

// layerScopeRE is what layerHint computes, as a regexp: the oracle for its
// hand-written scanner.
var layerScopeRE = regexp.MustCompile(`(?:^|/|\.)(?:layers|layer|h|blocks|block|decoder_layers)\.(\d+)(?:/|$|\.)`)

func layerHintRE(name string) int {
	m := layerScopeRE.FindAllStringSubmatch(name, -1)
	if m == nil {
		return -1
	}
	i, err := strconv.Atoi(m[len(m)-1][1])
	if err != nil {
		return -1
	}
	return i
}

func TestLayerHintMatchesRegexp(t *testing.T) {
	names := []string{
		"", "/model/layers.3/self_attn/q_proj/MatMul", "/transformer/h.11/attn/c_attn/MatMul",
		"/bert/encoder/layer.0/attention/self/query/MatMul", "model.layers.7.mlp", "layers.2",
		"/model/layers.1.layers.2/x", "/model/layers.1/layers.2/x", "/model/layers.10/final_norm_layernorm/SkipLayerNorm",
		"Constant_12", "onnx::MatMul_3", "/h.x/y", "/h./y", "/h.1x/y", "/sh.1/y", "a.h.1", "h.1.h.2", "h.1/h.2.h.3",
		"/model/decoder_layers.4/Add", "/blocks.5", "/block.6.", "/layers.99999999999999999999999/x",
		"/model/layers.3/mlp/Mul_output_0", "layers.3h.4", "/layers.1..layers.2", "..h.1", "/layer.2/layer.3",
	}
	for _, n := range names {
		if got, want := layerHint(n), layerHintRE(n); got != want {
			t.Errorf("layerHint(%q) = %d, regexp says %d", n, got, want)
		}
	}
}

func FuzzLayerHint(f *testing.F) {
	for _, s := range []string{"/model/layers.3/x", "h.1.h.2", "/layer.2/layer.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := layerHint(s), layerHintRE(s); got != want {
			t.Errorf("layerHint(%q) = %d, regexp says %d", s, got, want)
		}
	})
}
