package ortmodel

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
)

// step is one run of a causal model: B rows of new tokens, right-padded to
// the longest, after an optional cache of P positions per row.
type step struct {
	tokens [][]int // new tokens per row
	// score lists, per row, the positions (indices into the row's tokens)
	// to score, and targets the token each of them should predict.
	score, targets [][]int
	// pastMask is nil (no past), or per row the attention mask of the P
	// cached positions; past holds the cache inputs [B, kv, P, d].
	pastMask [][]int64
	past     map[string]*runtime.Tensor
	presents bool // return the presents
}

// result holds a step's outputs: the log-probability and argmax id of each
// scored position, row b's j-th at off[b]+j, and the presents when asked.
type result struct {
	off      []int
	logp     []float32
	argmax   []int64
	presents map[string]*runtime.Tensor
	mask     [][]int64 // the full attention mask fed, per row (past + new)
}

// intTensor builds an int64 or int32 tensor.
func intTensor(dt onnx.DataType, shape []int64, v []int64) *runtime.Tensor {
	if dt == onnx.Int32 {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(int32(x)))
		}
		return &runtime.Tensor{DType: onnx.Int32, Shape: shape, Data: b}
	}
	return runtime.NewInt64(shape, v)
}

// feeds builds the model inputs for rows of ids (right-padded to S) after P
// cached positions whose mask is pastMask; it returns the full mask too.
// Without a mask input, padding is not masked: only positions before a
// row's end are then meaningful, which is all that callers read.
func (m *Model) feeds(rows [][]int, S int, pastMask [][]int64, typeIDs [][]int) (map[string]*runtime.Tensor, [][]int64) {
	f := m.io
	B := len(rows)
	P := 0
	if len(pastMask) > 0 {
		P = len(pastMask[0])
	}
	T := P + S
	ids := make([]int64, B*S)
	mask := make([][]int64, B)
	maskFlat := make([]int64, 0, B*T)
	pos := make([]int64, B*S)
	for b, r := range rows {
		for i, id := range r {
			ids[b*S+i] = int64(id)
		}
		mr := make([]int64, T)
		if P > 0 {
			copy(mr, pastMask[b])
		}
		for i := range r {
			mr[P+i] = 1
		}
		mask[b] = mr
		maskFlat = append(maskFlat, mr...)
		// HF: position_ids = cumsum(mask) - 1, then 1 where the mask is 0;
		// the new tokens take the last S.
		var c int64
		for j, v := range mr {
			c += v
			if j >= P {
				p := c - 1
				if v == 0 {
					p = 1
				}
				pos[b*S+j-P] = p
			}
		}
	}
	in := map[string]*runtime.Tensor{f.ids: intTensor(f.idsType, []int64{int64(B), int64(S)}, ids)}
	if f.mask != "" {
		if f.causal {
			in[f.mask] = intTensor(f.maskType, []int64{int64(B), int64(T)}, maskFlat)
		} else {
			in[f.mask] = intTensor(f.maskType, []int64{int64(B), int64(S)}, maskFlat)
		}
	}
	if f.pos != "" {
		in[f.pos] = intTensor(f.posType, []int64{int64(B), int64(S)}, pos)
	}
	if f.useCache != "" {
		in[f.useCache] = &runtime.Tensor{DType: onnx.Bool, Shape: []int64{1}, Data: []byte{0}}
		if P > 0 {
			in[f.useCache].Data[0] = 1
		}
	}
	if f.types != "" {
		tt := make([]int64, B*S)
		for b, r := range typeIDs {
			for i, v := range r {
				if i < S {
					tt[b*S+i] = int64(v)
				}
			}
		}
		in[f.types] = intTensor(f.typesType, []int64{int64(B), int64(S)}, tt)
	}
	return in, mask
}

// run executes one step of a causal model.
func (m *Model) run(st step) (*result, error) {
	f := m.io
	B := len(st.tokens)
	S := 0
	for _, r := range st.tokens {
		S = max(S, len(r))
	}
	in, mask := m.feeds(st.tokens, S, st.pastMask, nil)
	r := &result{mask: mask, off: make([]int, B)}
	var pos, tg []int64
	for b := range st.tokens {
		r.off[b] = len(pos)
		if b >= len(st.score) {
			continue
		}
		for j, p := range st.score[b] {
			pos = append(pos, int64(b*S+p))
			tg = append(tg, int64(st.targets[b][j]))
		}
	}
	if len(pos) == 0 {
		// Nothing to score (a prefill): score one throwaway position, since
		// ONNX Runtime's reductions mis-shape an empty input.
		pos, tg = []int64{0}, []int64{0}
	}
	N := len(pos)
	in[positionsName] = runtime.NewInt64([]int64{int64(N)}, pos)
	in[targetsName] = runtime.NewInt64([]int64{int64(N)}, tg)
	for _, s := range f.slots {
		for _, name := range []string{s.key, s.value} {
			if t := st.past[name]; t != nil {
				in[name] = t
			} else {
				in[name] = &runtime.Tensor{DType: s.dtype, Shape: []int64{int64(B), s.kvHeads, 0, s.headDim}, Data: []byte{}}
			}
		}
	}
	outs := []string{logprobsName, argmaxName}
	if st.presents {
		for _, s := range f.slots {
			outs = append(outs, s.presKey, s.presVal)
		}
	}
	res, err := m.sess.Run(in, outs...)
	if err != nil {
		return nil, fmt.Errorf("ortmodel: %w", err)
	}
	lp, am := res[logprobsName], res[argmaxName]
	if lp == nil || am == nil || len(lp.Data) != 4*N || len(am.Data) != 8*N {
		return nil, fmt.Errorf("ortmodel: the scoring epilogue returned %v and %v for %d positions", lp, am, N)
	}
	r.logp = make([]float32, N)
	r.argmax = make([]int64, N)
	for i := range r.logp {
		r.logp[i] = math.Float32frombits(binary.LittleEndian.Uint32(lp.Data[4*i:]))
		r.argmax[i] = int64(binary.LittleEndian.Uint64(am.Data[8*i:]))
	}
	if st.presents {
		r.presents = map[string]*runtime.Tensor{}
		for _, s := range f.slots {
			r.presents[s.key] = res[s.presKey]
			r.presents[s.value] = res[s.presVal]
		}
	}
	return r, nil
}

// span returns the positions from, from+1, ..., from+n-1.
func span(from, n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = from + i
	}
	return p
}

// selectRows builds cache inputs for len(src) rows, row i a copy of row
// src[i] of each present (keyed by its past input's name).
func selectRows(presents map[string]*runtime.Tensor, src []int) (map[string]*runtime.Tensor, error) {
	out := make(map[string]*runtime.Tensor, len(presents))
	for name, t := range presents {
		if t == nil || len(t.Shape) != 4 || t.Shape[0] == 0 {
			return nil, fmt.Errorf("ortmodel: cache output for %s is %v, want [batch, kv_heads, length, head_dim]", name, t)
		}
		row := len(t.Data) / int(t.Shape[0])
		data := make([]byte, row*len(src))
		for i, s := range src {
			copy(data[i*row:(i+1)*row], t.Data[s*row:(s+1)*row])
		}
		shape := append([]int64{int64(len(src))}, t.Shape[1:]...)
		out[name] = &runtime.Tensor{DType: t.DType, Shape: shape, Data: data}
	}
	return out, nil
}

func (m *Model) checkTokens(what string, ids []int) error {
	for _, id := range ids {
		if id < 0 || (m.vocab > 0 && id >= m.vocab) {
			return fmt.Errorf("ortmodel: %s: token id %d outside the vocabulary [0, %d)", what, id, m.vocab)
		}
	}
	return nil
}
