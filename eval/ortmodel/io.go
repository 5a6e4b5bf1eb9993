package ortmodel

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
)

// The names ortmodel feeds and reads, as optimum and onnxruntime-genai
// export them.
const (
	inputIDs      = "input_ids"
	attentionMask = "attention_mask"
	positionIDs   = "position_ids"
	tokenTypeIDs  = "token_type_ids"
	useCacheFlag  = "use_cache_branch"
	logitsName    = "logits"
)

// The epilogue's names (epilogue.go).
const (
	positionsName = "painterc.positions"
	targetsName   = "painterc.targets"
	logprobsName  = "painterc.logprobs"
	argmaxName    = "painterc.argmax"
)

var (
	pastRE    = regexp.MustCompile(`^past_key_values\.(\d+)\.(key|value)$`)
	presentRE = regexp.MustCompile(`^present\.(\d+)\.(key|value)$`)
)

// cacheSlot is one KV-cache slot: its past inputs, their layout, and the
// present outputs that continue them ("" when the model has none).
type cacheSlot struct {
	index            int
	key, value       string
	presKey, presVal string
	dtype            onnx.DataType
	kvHeads, headDim int64
}

// iface is what New found in the model's interface.
type iface struct {
	ids, mask, pos, types string // "" when the model lacks the input
	useCache              string // optimum's merged-decoder flag, "" when absent
	idsType, maskType     onnx.DataType
	posType, typesType    onnx.DataType

	slots []cacheSlot // sorted by index
	// cached: every slot has both presents, so a run's presents can be fed
	// back as the next run's pasts.
	cached bool

	logits     *onnx.ValueInfo
	logitsType onnx.DataType
	logitsDims []int64 // -1 where not static
	causal     bool    // logits [batch, seq, vocab]; else [batch, labels]
}

// info turns a graph value into the runtime's description, for messages.
func info(v *onnx.ValueInfo) runtime.IOInfo {
	io := runtime.IOInfo{Name: v.Name, Kind: "tensor"}
	tt := tensorType(v)
	if tt == nil {
		io.Kind = "unknown"
		if v.Type != nil && v.Type.TensorType == nil {
			io.Kind = "non-tensor"
		}
		return io
	}
	io.DType = tt.ElemType
	if tt.Shape != nil {
		for _, d := range tt.Shape.Dim {
			v, name := int64(-1), d.DimParam
			if d.Has(1) || d.DimValue > 0 {
				v = d.DimValue
			}
			io.Shape = append(io.Shape, v)
			io.DimNames = append(io.DimNames, name)
		}
	}
	return io
}

func tensorType(v *onnx.ValueInfo) *onnx.TensorType {
	if v == nil || v.Type == nil {
		return nil
	}
	return v.Type.TensorType
}

// rank is the declared rank of v, or -1 when its shape is unknown.
func rank(v *onnx.ValueInfo) int {
	tt := tensorType(v)
	if tt == nil || tt.Shape == nil {
		return -1
	}
	return len(tt.Shape.Dim)
}

func isInt(d onnx.DataType) bool { return d == onnx.Int64 || d == onnx.Int32 }

// findIO reads the model's graph inputs and outputs by name and role and
// returns every problem in one error that names each input it cannot fill.
// headSize, when positive, stands in for a cache input's symbolic head_dim:
// onnxruntime-genai's builder names it kv_cache_dim and gives its value
// only in genai_config.json (see package genaicfg).
func findIO(g *onnx.Graph, headSize int64) (*iface, error) {
	init := map[string]bool{}
	for _, t := range g.Initializer {
		init[t.Name] = true
	}
	f := &iface{}
	var problems []string
	rejected := map[string]bool{}
	bad := func(v *onnx.ValueInfo, want string) {
		rejected[v.Name] = true
		problems = append(problems, fmt.Sprintf("  %q %s: %s", v.Name, describe(v), want))
	}
	slots := map[int]*cacheSlot{}
	slot := func(i int) *cacheSlot {
		if slots[i] == nil {
			slots[i] = &cacheSlot{index: i}
		}
		return slots[i]
	}
	for _, v := range g.Input {
		if init[v.Name] {
			continue // an initializer listed as an input (IR < 4): it has a value
		}
		tt := tensorType(v)
		intInput := func(dst *string, dt *onnx.DataType) {
			if tt == nil || !isInt(tt.ElemType) || rank(v) != 2 {
				bad(v, "want int64 or int32 [batch, sequence]")
				return
			}
			*dst, *dt = v.Name, tt.ElemType
		}
		switch v.Name {
		case inputIDs:
			intInput(&f.ids, &f.idsType)
			continue
		case attentionMask:
			intInput(&f.mask, &f.maskType)
			continue
		case positionIDs:
			intInput(&f.pos, &f.posType)
			continue
		case tokenTypeIDs:
			intInput(&f.types, &f.typesType)
			continue
		}
		if v.Name == useCacheFlag {
			// optimum's decoder_model_merged.onnx: an If on this flag picks
			// the branch that reads the cache.
			if io := info(v); tt == nil || tt.ElemType != onnx.Bool || len(io.Shape) > 1 || (len(io.Shape) == 1 && io.Shape[0] != 1) {
				bad(v, "want optimum's bool [1] flag")
			} else {
				f.useCache = v.Name
			}
			continue
		}
		if m := pastRE.FindStringSubmatch(v.Name); m != nil {
			i, err := strconv.Atoi(m[1])
			io := info(v)
			if len(io.Shape) == 4 && io.Shape[3] <= 0 && headSize > 0 {
				io.Shape[3] = headSize
			}
			if err != nil || tt == nil || (tt.ElemType != onnx.Float && tt.ElemType != onnx.Float16 && tt.ElemType != onnx.BFloat16) ||
				len(io.Shape) != 4 || io.Shape[1] <= 0 || io.Shape[3] <= 0 {
				bad(v, "want a float32, float16 or bfloat16 cache input [batch, kv_heads, past_sequence_length, head_dim] with static kv_heads and head_dim (or a genai_config.json beside the model giving model.decoder.head_size)")
				continue
			}
			s := slot(i)
			if m[2] == "key" {
				s.key = v.Name
			} else {
				s.value = v.Name
			}
			if s.dtype != 0 && (s.dtype != tt.ElemType || s.kvHeads != io.Shape[1] || s.headDim != io.Shape[3]) {
				bad(v, fmt.Sprintf("want the same type and shape as the slot's other cache input (%s[batch %d past %d])", s.dtype, s.kvHeads, s.headDim))
				continue
			}
			s.dtype, s.kvHeads, s.headDim = tt.ElemType, io.Shape[1], io.Shape[3]
			continue
		}
		bad(v, "not an input ortmodel can fill; it feeds input_ids, attention_mask, position_ids, token_type_ids, past_key_values.{i}.key/.value and use_cache_branch")
	}
	if f.ids == "" {
		problems = append(problems, fmt.Sprintf("  %q: missing; want an int64 or int32 [batch, sequence] input of token ids", inputIDs))
	}
	for _, v := range g.Output {
		if v.Name == logitsName {
			f.logits = v
			continue
		}
		if m := presentRE.FindStringSubmatch(v.Name); m != nil {
			i, _ := strconv.Atoi(m[1])
			if s := slots[i]; s != nil {
				if m[2] == "key" {
					s.presKey = v.Name
				} else {
					s.presVal = v.Name
				}
			}
		}
	}
	var idx []int
	for i := range slots {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		s := slots[i]
		if s.key == "" || s.value == "" {
			have, miss := s.key, fmt.Sprintf("past_key_values.%d.value", i)
			if have == "" {
				have, miss = s.value, fmt.Sprintf("past_key_values.%d.key", i)
			}
			if !rejected[miss] {
				problems = append(problems, fmt.Sprintf("  %q: missing; want it beside %q, each cache slot has a key and a value", miss, have))
			}
		}
	}
	f.cached = len(idx) > 0
	for _, i := range idx {
		s := *slots[i]
		f.slots = append(f.slots, s)
		if s.presKey == "" || s.presVal == "" {
			f.cached = false
		}
	}
	if f.logits == nil {
		var outs []string
		for _, v := range g.Output {
			outs = append(outs, fmt.Sprintf("%q %s", v.Name, describe(v)))
		}
		problems = append(problems, fmt.Sprintf("  output %q: missing; want logits [batch, sequence, vocab] (a causal LM) or [batch, labels] (a classifier); the outputs are %s", logitsName, strings.Join(outs, ", ")))
	} else {
		io := info(f.logits)
		switch {
		case io.Kind != "tensor" || (io.DType != onnx.Float && io.DType != onnx.Float16 && io.DType != onnx.BFloat16):
			problems = append(problems, fmt.Sprintf("  output %q %s: want float32, float16 or bfloat16", logitsName, describe(f.logits)))
		case len(io.Shape) == 3:
			f.causal = true
		case len(io.Shape) == 2:
			if len(f.slots) > 0 {
				problems = append(problems, fmt.Sprintf("  output %q %s: a [batch, labels] classifier has no KV cache", logitsName, describe(f.logits)))
			}
		default:
			problems = append(problems, fmt.Sprintf("  output %q %s: want [batch, sequence, vocab] (a causal LM) or [batch, labels] (a classifier)", logitsName, describe(f.logits)))
		}
		f.logitsType, f.logitsDims = io.DType, io.Shape
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("ortmodel: cannot run model %q:\n%s", g.Name, strings.Join(problems, "\n"))
	}
	return f, nil
}

// describe renders v's type as "int64[batch sequence_length]".
func describe(v *onnx.ValueInfo) string {
	s := info(v).String()
	return strings.TrimPrefix(s, v.Name+": ")
}
