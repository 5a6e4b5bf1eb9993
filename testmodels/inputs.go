package testmodels

import (
	"fmt"

	"github.com/painterc/painterc/schedule"
)

// InputOptions says what RandomInputs makes.
type InputOptions struct {
	Batch int   // default 1
	Seq   int   // new tokens; default 8
	Past  int   // cached tokens (KV models only); 0 gives empty past tensors
	Seed  int64 // token ids, token types and past values are drawn from it
	// Pad masks out the first Pad positions (past and new counted together)
	// of batch row 0, as left padding does.
	Pad int
}

// RandomInputs returns feeds for Build(s, sched) and Reference: random
// token ids, an all-ones attention_mask (but for Pad), position_ids
// Past..Past+Seq-1 (none for the genai layout), random token_type_ids (BERT), and, with a KV cache,
// random past_key_values for every instance of sched.
func RandomInputs(s Spec, sched schedule.Schedule, o InputOptions) (map[string]Tensor, error) {
	s, err := s.normalized()
	if err != nil {
		return nil, err
	}
	if o.Batch == 0 {
		o.Batch = 1
	}
	if o.Seq == 0 {
		o.Seq = 8
	}
	if o.Batch < 0 || o.Seq < 0 || o.Past < 0 || o.Pad < 0 {
		return nil, fmt.Errorf("testmodels: negative input size %+v", o)
	}
	if !s.KVCache && o.Past > 0 {
		return nil, fmt.Errorf("testmodels: a past needs a KV-cache model")
	}
	total := o.Past + o.Seq
	if s.Family != Llama && total > s.MaxPos {
		return nil, fmt.Errorf("testmodels: %d positions exceed the model's %d", total, s.MaxPos)
	}
	B, S := int64(o.Batch), int64(o.Seq)
	r := newRNG(o.Seed, "inputs")
	ints := func(n int, f func(i int) int64) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = f(i)
		}
		return v
	}
	feeds := map[string]Tensor{
		"input_ids": {Shape: []int64{B, S}, Int: ints(o.Batch*o.Seq, func(int) int64 { return int64(r.intn(s.Vocab)) })},
	}
	switch s.Family {
	case BERT:
		feeds["attention_mask"] = Tensor{Shape: []int64{B, S}, Int: ints(o.Batch*o.Seq, func(i int) int64 {
			if i < o.Pad {
				return 0
			}
			return 1
		})}
		feeds["token_type_ids"] = Tensor{Shape: []int64{B, S}, Int: ints(o.Batch*o.Seq, func(int) int64 { return int64(r.intn(2)) })}
	default:
		feeds["attention_mask"] = Tensor{Shape: []int64{B, int64(total)}, Int: ints(o.Batch*total, func(i int) int64 {
			if i < o.Pad {
				return 0
			}
			return 1
		})}
		if !s.GenAI { // genai's GroupQueryAttention counts positions itself
			feeds["position_ids"] = Tensor{Shape: []int64{B, S}, Int: ints(o.Batch*o.Seq, func(i int) int64 { return int64(o.Past + i%o.Seq) })}
		}
	}
	if s.KVCache {
		shape := []int64{B, int64(s.KVHeads), int64(o.Past), int64(s.HeadDim())}
		for k := range Instances(sched) {
			for _, kind := range []string{"key", "value"} {
				v := make([]float32, numel(shape))
				for i := range v {
					v[i] = r.uniform()
				}
				feeds[fmt.Sprintf("past_key_values.%d.%s", k, kind)] = Tensor{Shape: shape, Float: v}
			}
		}
	}
	return feeds, nil
}
