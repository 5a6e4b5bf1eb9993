package testmodels

import (
	"fmt"
	"math"

	"github.com/painterc/painterc/schedule"
)

// Tensor is a host tensor for Reference: Float holds float32 data, Int holds
// int64 data, row-major in Shape.
type Tensor struct {
	Shape []int64
	Float []float32
	Int   []int64
}

// numel is the element count of a shape.
func numel(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}

// Reference computes the model Build(s, sched) with plain Go loops, from the
// same weights and without ONNX: the numeric oracle the graphs are checked
// against. feeds and the result are keyed by the graph's input and output
// names (input_ids, attention_mask, position_ids or token_type_ids,
// past_key_values.{k}.key/.value; logits or last_hidden_state,
// present.{k}.key/.value). Matrix products and reductions accumulate in
// float64; values are rounded to float32 between ops.
func Reference(s Spec, sched schedule.Schedule, feeds map[string]Tensor) (map[string]Tensor, error) {
	s, err := s.normalized()
	if err != nil {
		return nil, err
	}
	if err := checkSchedule(s, sched); err != nil {
		return nil, err
	}
	if s.ExternalData != "" {
		return nil, fmt.Errorf("testmodels: Reference cannot compute a model built with ExternalData: its weights are whatever the data file holds, not the seeded ones")
	}
	r := &ref{s: s, w: newWeights(s.Seed), feeds: feeds, out: map[string]Tensor{}}
	// The int4 model's weights, dequantized; its MatMulNBits also quantize
	// the activations to int8 (accuracy_level 4), which Reference does not,
	// so it matches the int4 graph only loosely.
	r.w.int4 = s.Int4
	r.w.fp16 = s.Float16
	if err := r.setup(len(Instances(sched))); err != nil {
		return nil, err
	}
	var x []float32
	// Each family's block is its attention sublayer then its MLP
	// sublayer; a sub-block step runs one of them.
	var attn func(i int, x []float32, slot int) []float32
	var mlp func(i int, x []float32) []float32
	switch s.Family {
	case Llama:
		x, attn, mlp = r.llamaEmbed(), r.llamaAttn, r.llamaMLP
	case GPT2:
		x, attn, mlp = r.gpt2Embed(), r.gpt2Attn, r.gpt2MLP
	case BERT:
		x, attn, mlp = r.bertEmbed(), r.bertAttn, r.bertMLP
	}
	block := func(i int, x []float32, slot int) []float32 { return mlp(i, attn(i, x, slot)) }
	slot := 0
	walk(sched.Steps, func(members []int, part schedule.Part) {
		switch {
		case part == schedule.Attn:
			x = attn(members[0], x, slot)
			slot++
			return
		case part == schedule.MLP:
			x = mlp(members[0], x)
			return
		case len(members) == 1:
			x = block(members[0], x, slot)
			slot++
			return
		}
		sum := make([]float32, len(x))
		for _, m := range members {
			y := block(m, x, slot)
			slot++
			for j := range sum {
				sum[j] += y[j]
			}
		}
		inv := 1 / float32(len(members))
		for j := range sum {
			sum[j] *= inv
		}
		x = sum
	})
	B, S := int64(r.B), int64(r.S)
	switch s.Family {
	case Llama:
		x = r.rmsNorm(x, r.w.get("model.norm.weight", []int{s.Hidden}, initNorm))
		w := r.w.get("lm_head.weight", []int{s.Hidden, s.Vocab}, initLinear)
		r.out["logits"] = Tensor{Shape: []int64{B, S, int64(s.Vocab)}, Float: matmul(x, w, s.Hidden, s.Vocab)}
	case GPT2:
		x = r.layerNorm(x, r.w.get("transformer.ln_f.weight", []int{s.Hidden}, initNorm),
			r.w.get("transformer.ln_f.bias", []int{s.Hidden}, initBias), gpt2Eps)
		wte := r.w.get("transformer.wte.weight", []int{s.Vocab, s.Hidden}, initEmbed)
		r.out["logits"] = Tensor{Shape: []int64{B, S, int64(s.Vocab)}, Float: matmul(x, transposed(wte, s.Vocab, s.Hidden), s.Hidden, s.Vocab)}
	case BERT:
		r.out["last_hidden_state"] = Tensor{Shape: []int64{B, S, int64(s.Hidden)}, Float: x}
	}
	return r.out, nil
}

type ref struct {
	s     Spec
	w     *weights
	feeds map[string]Tensor
	out   map[string]Tensor

	B, S, P  int
	ids, pos []int64
	mask     []float32 // additive, [B, S, P+S]
	cos, sin []float32 // Llama rotary tables, [B, S, d]
}

func (r *ref) setup(slots int) error {
	s := r.s
	get := func(name string, wantInt bool) (Tensor, error) {
		t, ok := r.feeds[name]
		if !ok {
			return t, fmt.Errorf("testmodels: reference: missing input %q", name)
		}
		if numel(t.Shape) != len(t.Int)+len(t.Float) || (wantInt && len(t.Float) > 0) || (!wantInt && len(t.Int) > 0) {
			return t, fmt.Errorf("testmodels: reference: input %q: shape %v does not fit its data", name, t.Shape)
		}
		return t, nil
	}
	ids, err := get("input_ids", true)
	if err != nil {
		return err
	}
	if len(ids.Shape) != 2 {
		return fmt.Errorf("testmodels: reference: input_ids must be [batch, seq], got %v", ids.Shape)
	}
	r.B, r.S, r.ids = int(ids.Shape[0]), int(ids.Shape[1]), ids.Int
	for _, id := range r.ids {
		if id < 0 || id >= int64(s.Vocab) {
			return fmt.Errorf("testmodels: reference: token %d out of range", id)
		}
	}
	if s.KVCache {
		pk, err := get("past_key_values.0.key", false)
		if err != nil {
			return err
		}
		if len(pk.Shape) != 4 {
			return fmt.Errorf("testmodels: reference: past_key_values.0.key must be 4-d, got %v", pk.Shape)
		}
		r.P = int(pk.Shape[2])
		want := []int64{int64(r.B), int64(s.KVHeads), int64(r.P), int64(s.HeadDim())}
		for k := 0; k < slots; k++ {
			for _, kind := range []string{"key", "value"} {
				name := fmt.Sprintf("past_key_values.%d.%s", k, kind)
				t, err := get(name, false)
				if err != nil {
					return err
				}
				if fmt.Sprint(t.Shape) != fmt.Sprint(want) {
					return fmt.Errorf("testmodels: reference: %s must be %v, got %v", name, want, t.Shape)
				}
			}
		}
		if _, ok := r.feeds[fmt.Sprintf("past_key_values.%d.key", slots)]; ok {
			return fmt.Errorf("testmodels: reference: feeds have more past slots than the schedule's %d instances", slots)
		}
	}
	T := r.P + r.S
	am, err := get("attention_mask", true)
	if err != nil {
		return err
	}
	if len(am.Shape) != 2 || int(am.Shape[0]) != r.B || int(am.Shape[1]) != T {
		return fmt.Errorf("testmodels: reference: attention_mask must be [%d, %d], got %v", r.B, T, am.Shape)
	}
	r.mask = make([]float32, r.B*r.S*T)
	for b := 0; b < r.B; b++ {
		for i := 0; i < r.S; i++ {
			for j := 0; j < T; j++ {
				ok := am.Int[b*T+j] != 0
				if s.Family != BERT {
					ok = ok && j <= r.P+i
				}
				if !ok {
					r.mask[(b*r.S+i)*T+j] = f32Min
				}
			}
		}
	}
	switch s.Family {
	case Llama, GPT2:
		var pos Tensor
		if s.GenAI {
			// GroupQueryAttention rotates position past_length + i, which
			// is HF's position for an unpadded row.
			for _, v := range am.Int {
				if v == 0 {
					return fmt.Errorf("testmodels: reference: the genai layout counts positions from the mask's length; give it an all-ones attention_mask")
				}
			}
			pos = Tensor{Shape: []int64{int64(r.B), int64(r.S)}}
			for b := 0; b < r.B; b++ {
				for i := 0; i < r.S; i++ {
					pos.Int = append(pos.Int, int64(r.P+i))
				}
			}
		} else if pos, err = get("position_ids", true); err != nil {
			return err
		}
		if len(pos.Shape) != 2 || int(pos.Shape[0]) != r.B || int(pos.Shape[1]) != r.S {
			return fmt.Errorf("testmodels: reference: position_ids must be [%d, %d], got %v", r.B, r.S, pos.Shape)
		}
		if s.Family == GPT2 {
			for _, p := range pos.Int {
				if p < 0 || p >= int64(s.MaxPos) {
					return fmt.Errorf("testmodels: reference: position %d out of range", p)
				}
			}
		}
		if s.Family == Llama {
			d := s.HeadDim()
			inv := invFreq(d)
			r.cos = make([]float32, r.B*r.S*d)
			r.sin = make([]float32, r.B*r.S*d)
			for bs, p := range pos.Int {
				for j := 0; j < d; j++ {
					f := float32(p) * inv[j%(d/2)]
					r.cos[bs*d+j] = float32(math.Cos(float64(f)))
					r.sin[bs*d+j] = float32(math.Sin(float64(f)))
				}
			}
		}
		r.pos = pos.Int
	case BERT:
		tt, err := get("token_type_ids", true)
		if err != nil {
			return err
		}
		if numel(tt.Shape) != r.B*r.S {
			return fmt.Errorf("testmodels: reference: token_type_ids must be [%d, %d], got %v", r.B, r.S, tt.Shape)
		}
		if r.S > s.MaxPos {
			return fmt.Errorf("testmodels: reference: sequence %d longer than %d positions", r.S, s.MaxPos)
		}
	}
	return nil
}

// ---- families ----

func (r *ref) gather(table []float32, ids []int64, width int) []float32 {
	out := make([]float32, len(ids)*width)
	for n, id := range ids {
		copy(out[n*width:(n+1)*width], table[int(id)*width:(int(id)+1)*width])
	}
	return out
}

func (r *ref) llamaEmbed() []float32 {
	s := r.s
	return r.gather(r.w.get("model.embed_tokens.weight", []int{s.Vocab, s.Hidden}, initEmbed), r.ids, s.Hidden)
}

// llamaAttn is block i's attention sublayer: x + Attn(norm(x)).
func (r *ref) llamaAttn(i int, x []float32, slot int) []float32 {
	s, w := r.s, r.w
	H, nh, kvh, d := s.Hidden, s.Heads, s.KVHeads, s.HeadDim()
	P := fmt.Sprintf("model.layers.%d.", i)
	lin := func(name string, in, out int) []float32 {
		return w.get(P+name+".weight", []int{in, out}, initLinear)
	}
	h := r.rmsNorm(x, w.get(P+"input_layernorm.weight", []int{H}, initNorm))
	q := r.toHeads(matmul(h, lin("self_attn.q_proj", H, nh*d), H, nh*d), nh, d)
	k := r.toHeads(matmul(h, lin("self_attn.k_proj", H, kvh*d), H, kvh*d), kvh, d)
	v := r.toHeads(matmul(h, lin("self_attn.v_proj", H, kvh*d), H, kvh*d), kvh, d)
	r.rope(q, nh)
	r.rope(k, kvh)
	k, v = r.cache(slot, k, v, kvh, d)
	a := r.attention(q, k, v, nh, kvh, d)
	return add(x, matmul(a, lin("self_attn.o_proj", nh*d, H), nh*d, H))
}

// llamaMLP is block i's MLP sublayer: x + MLP(norm(x)).
func (r *ref) llamaMLP(i int, x []float32) []float32 {
	s, w := r.s, r.w
	H := s.Hidden
	P := fmt.Sprintf("model.layers.%d.", i)
	lin := func(name string, in, out int) []float32 {
		return w.get(P+name+".weight", []int{in, out}, initLinear)
	}
	h := r.rmsNorm(x, w.get(P+"post_attention_layernorm.weight", []int{H}, initNorm))
	g := matmul(h, lin("mlp.gate_proj", H, s.FF), H, s.FF)
	u := matmul(h, lin("mlp.up_proj", H, s.FF), H, s.FF)
	for j, gv := range g {
		sg := float32(1 / (1 + math.Exp(-float64(gv))))
		g[j] = gv * sg * u[j]
	}
	return add(x, matmul(g, lin("mlp.down_proj", s.FF, H), s.FF, H))
}

func (r *ref) gpt2Embed() []float32 {
	s := r.s
	te := r.gather(r.w.get("transformer.wte.weight", []int{s.Vocab, s.Hidden}, initEmbed), r.ids, s.Hidden)
	pe := r.gather(r.w.get("transformer.wpe.weight", []int{s.MaxPos, s.Hidden}, initEmbed), r.pos, s.Hidden)
	return add(te, pe)
}

// gpt2Attn is block i's attention sublayer: x + Attn(ln_1(x)).
func (r *ref) gpt2Attn(i int, x []float32, slot int) []float32 {
	s, w := r.s, r.w
	H, nh, d := s.Hidden, s.Heads, s.HeadDim()
	P := fmt.Sprintf("transformer.h.%d.", i)
	vec := func(name string, n int, kind initKind) []float32 { return w.get(P+name, []int{n}, kind) }
	mat := func(name string, in, out int) []float32 { return w.get(P+name, []int{in, out}, initLinear) }

	h := r.layerNorm(x, vec("ln_1.weight", H, initNorm), vec("ln_1.bias", H, initBias), gpt2Eps)
	qkv := addBias(matmul(h, mat("attn.c_attn.weight", H, 3*H), H, 3*H), vec("attn.c_attn.bias", 3*H, initBias))
	rows := len(qkv) / (3 * H)
	part := func(p int) []float32 {
		out := make([]float32, rows*H)
		for n := 0; n < rows; n++ {
			copy(out[n*H:(n+1)*H], qkv[n*3*H+p*H:n*3*H+(p+1)*H])
		}
		return r.toHeads(out, nh, d)
	}
	q, k, v := part(0), part(1), part(2)
	k, v = r.cache(slot, k, v, nh, d)
	a := r.attention(q, k, v, nh, nh, d)
	a = addBias(matmul(a, mat("attn.c_proj.weight", H, H), H, H), vec("attn.c_proj.bias", H, initBias))
	return add(a, x)
}

// gpt2MLP is block i's MLP sublayer: x + MLP(ln_2(x)).
func (r *ref) gpt2MLP(i int, x []float32) []float32 {
	s, w := r.s, r.w
	H := s.Hidden
	P := fmt.Sprintf("transformer.h.%d.", i)
	vec := func(name string, n int, kind initKind) []float32 { return w.get(P+name, []int{n}, kind) }
	mat := func(name string, in, out int) []float32 { return w.get(P+name, []int{in, out}, initLinear) }
	h := r.layerNorm(x, vec("ln_2.weight", H, initNorm), vec("ln_2.bias", H, initBias), gpt2Eps)
	f := addBias(matmul(h, mat("mlp.c_fc.weight", H, s.FF), H, s.FF), vec("mlp.c_fc.bias", s.FF, initBias))
	c := math.Sqrt(2 / math.Pi)
	for j, fv := range f {
		z := float64(fv)
		f[j] = float32(0.5 * z * (1 + math.Tanh(c*(z+0.044715*z*z*z))))
	}
	f = addBias(matmul(f, mat("mlp.c_proj.weight", s.FF, H), s.FF, H), vec("mlp.c_proj.bias", H, initBias))
	return add(x, f)
}

func (r *ref) bertEmbed() []float32 {
	s := r.s
	E := "bert.embeddings."
	we := r.gather(r.w.get(E+"word_embeddings.weight", []int{s.Vocab, s.Hidden}, initEmbed), r.ids, s.Hidden)
	te := r.gather(r.w.get(E+"token_type_embeddings.weight", []int{2, s.Hidden}, initEmbed), r.feeds["token_type_ids"].Int, s.Hidden)
	pos := make([]int64, r.B*r.S)
	for n := range pos {
		pos[n] = int64(n % r.S)
	}
	pe := r.gather(r.w.get(E+"position_embeddings.weight", []int{s.MaxPos, s.Hidden}, initEmbed), pos, s.Hidden)
	x := add(add(we, te), pe)
	return r.layerNorm(x, r.w.get(E+"LayerNorm.weight", []int{s.Hidden}, initNorm), r.w.get(E+"LayerNorm.bias", []int{s.Hidden}, initBias), bertEps)
}

// bertAttn is block i's attention sublayer, post-norm: LN(x + Attn(x)).
func (r *ref) bertAttn(i int, x []float32, _ int) []float32 {
	s, w := r.s, r.w
	H, nh, d := s.Hidden, s.Heads, s.HeadDim()
	P := fmt.Sprintf("bert.encoder.layer.%d.", i)
	lin := func(name string, in, out int, y []float32) []float32 {
		return addBias(matmul(y, w.get(P+name+".weight", []int{in, out}, initLinear), in, out), w.get(P+name+".bias", []int{out}, initBias))
	}
	vec := func(name string, kind initKind) []float32 { return w.get(P+name, []int{H}, kind) }
	q := r.toHeads(lin("attention.self.query", H, H, x), nh, d)
	k := r.toHeads(lin("attention.self.key", H, H, x), nh, d)
	v := r.toHeads(lin("attention.self.value", H, H, x), nh, d)
	a := lin("attention.output.dense", H, H, r.attention(q, k, v, nh, nh, d))
	return r.layerNorm(add(a, x), vec("attention.output.LayerNorm.weight", initNorm), vec("attention.output.LayerNorm.bias", initBias), bertEps)
}

// bertMLP is block i's MLP sublayer, post-norm: LN(x + FFN(x)).
func (r *ref) bertMLP(i int, x []float32) []float32 {
	s, w := r.s, r.w
	H := s.Hidden
	P := fmt.Sprintf("bert.encoder.layer.%d.", i)
	lin := func(name string, in, out int, y []float32) []float32 {
		return addBias(matmul(y, w.get(P+name+".weight", []int{in, out}, initLinear), in, out), w.get(P+name+".bias", []int{out}, initBias))
	}
	vec := func(name string, kind initKind) []float32 { return w.get(P+name, []int{H}, kind) }
	f := lin("intermediate.dense", H, s.FF, x)
	for j, fv := range f {
		z := float64(fv)
		f[j] = float32(z * 0.5 * (1 + math.Erf(z/math.Sqrt2)))
	}
	f = lin("output.dense", s.FF, H, f)
	return r.layerNorm(add(f, x), vec("output.LayerNorm.weight", initNorm), vec("output.LayerNorm.bias", initBias), bertEps)
}

// ---- attention ----

// toHeads turns [B*S, n*d] into [B, n, S, d].
func (r *ref) toHeads(x []float32, n, d int) []float32 {
	out := make([]float32, len(x))
	for b := 0; b < r.B; b++ {
		for t := 0; t < r.S; t++ {
			for h := 0; h < n; h++ {
				copy(out[((b*n+h)*r.S+t)*d:][:d], x[(b*r.S+t)*n*d+h*d:][:d])
			}
		}
	}
	return out
}

// rope applies the rotary embedding in place to x [B, n, S, d].
func (r *ref) rope(x []float32, n int) {
	d := r.s.HeadDim()
	half := d / 2
	tmp := make([]float32, d)
	for b := 0; b < r.B; b++ {
		for h := 0; h < n; h++ {
			for t := 0; t < r.S; t++ {
				row := x[((b*n+h)*r.S+t)*d:][:d]
				cs := r.cos[(b*r.S+t)*d:][:d]
				sn := r.sin[(b*r.S+t)*d:][:d]
				for j := 0; j < d; j++ {
					var rot float32 // rotate_half(x)[j]
					if j < half {
						rot = -row[j+half]
					} else {
						rot = row[j-half]
					}
					tmp[j] = row[j]*cs[j] + rot*sn[j]
				}
				copy(row, tmp)
			}
		}
	}
}

// cache prepends slot's past K/V ([B, n, P, d]) to k, v ([B, n, S, d]) and
// records the results as present.{slot}.*; without a cache it returns k, v.
func (r *ref) cache(slot int, k, v []float32, n, d int) ([]float32, []float32) {
	if !r.s.KVCache {
		return k, v
	}
	T := r.P + r.S
	cat := func(kind string, cur []float32) []float32 {
		past := r.feeds[fmt.Sprintf("past_key_values.%d.%s", slot, kind)] // checked by setup
		out := make([]float32, r.B*n*T*d)
		for bh := 0; bh < r.B*n; bh++ {
			copy(out[bh*T*d:], past.Float[bh*r.P*d:(bh+1)*r.P*d])
			copy(out[bh*T*d+r.P*d:], cur[bh*r.S*d:(bh+1)*r.S*d])
		}
		r.out[fmt.Sprintf("present.%d.%s", slot, kind)] = Tensor{
			Shape: []int64{int64(r.B), int64(n), int64(T), int64(d)}, Float: out}
		return out
	}
	return cat("key", k), cat("value", v)
}

// attention computes softmax(q k^T / sqrt(d) + mask) v for q [B, nh, S, d]
// and k, v [B, kvh, T, d] (query head h reads kv head h / (nh/kvh)), and
// returns [B*S, nh*d].
func (r *ref) attention(q, k, v []float32, nh, kvh, d int) []float32 {
	S := r.S
	T := len(k) / (r.B * kvh * d)
	rep := nh / kvh
	scale := float32(math.Sqrt(float64(d)))
	out := make([]float32, r.B*S*nh*d)
	sc := make([]float64, T)
	for b := 0; b < r.B; b++ {
		for h := 0; h < nh; h++ {
			kv := b*kvh + h/rep
			for i := 0; i < S; i++ {
				qi := q[((b*nh+h)*S+i)*d:][:d]
				mx := math.Inf(-1)
				for j := 0; j < T; j++ {
					kj := k[(kv*T+j)*d:][:d]
					var dot float64
					for c := 0; c < d; c++ {
						dot += float64(qi[c]) * float64(kj[c])
					}
					// Rounded to float32 at each op, as the graph does, so that a
					// fully masked row comes out uniform on both sides.
					val := float32(dot)/scale + r.mask[(b*S+i)*T+j]
					sc[j] = float64(val)
					mx = math.Max(mx, sc[j])
				}
				var z float64
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					z += sc[j]
				}
				o := out[(b*S+i)*nh*d+h*d:][:d]
				for c := 0; c < d; c++ {
					var acc float64
					for j := 0; j < T; j++ {
						acc += sc[j] / z * float64(v[(kv*T+j)*d+c])
					}
					o[c] = float32(acc)
				}
			}
		}
	}
	return out
}

// ---- elementwise and reductions ----

// matmul multiplies x [rows, in] by w [in, out].
func matmul(x, w []float32, in, out int) []float32 {
	rows := len(x) / in
	y := make([]float32, rows*out)
	acc := make([]float64, out)
	for n := 0; n < rows; n++ {
		clear(acc)
		for i, xv := range x[n*in : (n+1)*in] {
			xf := float64(xv)
			wr := w[i*out : (i+1)*out]
			for j, wv := range wr {
				acc[j] += xf * float64(wv)
			}
		}
		for j, a := range acc {
			y[n*out+j] = float32(a)
		}
	}
	return y
}

func add(a, b []float32) []float32 {
	out := make([]float32, len(a))
	for i := range a {
		out[i] = a[i] + b[i]
	}
	return out
}

// addBias adds bias to every row of x, in place.
func addBias(x, bias []float32) []float32 {
	n := len(bias)
	for i := range x {
		x[i] += bias[i%n]
	}
	return x
}

func (r *ref) rmsNorm(x, w []float32) []float32 {
	H := r.s.Hidden
	out := make([]float32, len(x))
	for n := 0; n < len(x)/H; n++ {
		row := x[n*H : (n+1)*H]
		var ss float64
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		inv := 1 / math.Sqrt(ss/float64(H)+llamaEps)
		for j, v := range row {
			out[n*H+j] = float32(float64(w[j]) * float64(v) * inv)
		}
	}
	return out
}

func (r *ref) layerNorm(x, g, b []float32, eps float64) []float32 {
	H := r.s.Hidden
	out := make([]float32, len(x))
	for n := 0; n < len(x)/H; n++ {
		row := x[n*H : (n+1)*H]
		var mean, vr float64
		for _, v := range row {
			mean += float64(v)
		}
		mean /= float64(H)
		for _, v := range row {
			dv := float64(v) - mean
			vr += dv * dv
		}
		inv := 1 / math.Sqrt(vr/float64(H)+eps)
		for j, v := range row {
			out[n*H+j] = float32((float64(v)-mean)*inv*float64(g[j]) + float64(b[j]))
		}
	}
	return out
}
