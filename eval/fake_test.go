package eval

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
)

// The fakes here have closed-form behaviour, so that every number a test
// checks can be worked out by hand.
//
// charTok is a greedy longest-match tokenizer over a fixed vocabulary:
// id 0 <pad>, 1 <s> (BOS), 2 </s> (EOS), then one token per character of
// tokChars, then the merges "xy" and " z" (so that the seam between a
// context and its continuation matters), then unused tokens up to
// fakeVocab ids. The text "<s>" or "</s>" encodes to the special token.
const (
	padID     = 0
	bosID     = 1
	eosID     = 2
	fakeVocab = 100
	tokChars  = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,#$:?!\n-é"
)

type charTok struct {
	noBOS  bool // a tokenizer without BOS: Prefix is EOS, Encode adds none
	pieces []string
}

func newTok() *charTok {
	p := []string{"<pad>", "<s>", "</s>"}
	for _, c := range tokChars {
		p = append(p, string(c))
	}
	p = append(p, "xy", " z")
	for len(p) < fakeVocab {
		p = append(p, fmt.Sprintf("<unused%d>", len(p)))
	}
	return &charTok{pieces: p}
}

// id returns the id of one piece.
func (t *charTok) id(piece string) int {
	i := slices.Index(t.pieces, piece)
	if i < 0 {
		panic("no piece " + piece)
	}
	return i
}

// ids returns the ids of each character of s, one per character (no
// merges), for writing expected token lists.
func (t *charTok) ids(s string) []int {
	var out []int
	for _, c := range s {
		out = append(out, t.id(string(c)))
	}
	return out
}

func (t *charTok) Encode(text string, addSpecial bool) ([]int, error) {
	var out []int
	if addSpecial && !t.noBOS {
		out = append(out, bosID)
	}
	for len(text) > 0 {
		best := -1
		for i, p := range t.pieces {
			if i == padID || strings.HasPrefix(p, "<unused") {
				continue
			}
			if strings.HasPrefix(text, p) && (best < 0 || len(p) > len(t.pieces[best])) {
				best = i
			}
		}
		if best < 0 {
			return nil, fmt.Errorf("no token for %q", text[:1])
		}
		out = append(out, best)
		text = text[len(t.pieces[best]):]
	}
	return out, nil
}

func (t *charTok) Decode(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		if id == bosID || id == eosID || id == padID {
			continue
		}
		b.WriteString(t.pieces[id])
	}
	return b.String()
}

func (t *charTok) Prefix() int {
	if t.noBOS {
		return eosID
	}
	return bosID
}

func (t *charTok) BOS() (int, bool) { return bosID, !t.noBOS }
func (t *charTok) EOS() []int       { return []int{eosID} }
func (t *charTok) VocabSize() int   { return len(t.pieces) }

// pairTok adds BERT's pair template: <s> a </s> b </s>, type ids 0 for
// the first segment and its separator, 1 after.
type pairTok struct{ *charTok }

func (t pairTok) EncodePair(a, b string) ([]int, []int, error) {
	x, err := t.Encode(a, false)
	if err != nil {
		return nil, nil, err
	}
	y, err := t.Encode(b, false)
	if err != nil {
		return nil, nil, err
	}
	ids := append(append(append(append([]int{bosID}, x...), eosID), y...), eosID)
	types := make([]int, len(ids))
	for i := len(x) + 2; i < len(ids); i++ {
		types[i] = 1
	}
	return ids, types, nil
}

// fakeModel is a successor bigram: given the previous token p, the next
// token is p+1 (mod V) with probability 1/2, and any other token with
// probability 1/(2(V−1)). So every scored token has log-probability
//
//	q = −ln 2            when it is its predecessor's successor (and greedy),
//	r = −ln(2(V−1))      otherwise,
//
// and a continuation is greedy when every token is its predecessor's
// successor. It truncates as model.go says, (ctx+cont)[-(L+1):][:-1], and
// records what it was asked.
type fakeModel struct {
	L, V int
	// llOverride, when set, replaces the bigram for a continuation by its
	// decoded text: the summed log-likelihood to return, greedy false.
	llOverride map[string]float64
	tok        *charTok
	// scripts maps a decoded generation context to the text the model
	// "generates"; "</s>" in it is the EOS token.
	scripts map[string]string

	llCalls  [][]LLRequest
	genCalls [][]GenRequest
	clsCalls [][]ClassRequest
	seen     [][]int // the input each LL request was scored on
}

func newModel(L int) *fakeModel { return &fakeModel{L: L, V: fakeVocab, tok: newTok()} }

var (
	q = -math.Ln2
	r = -math.Log(2 * (fakeVocab - 1))
)

func (m *fakeModel) MaxLength() int { return m.L }
func (m *fakeModel) VocabSize() int { return m.V }

func (m *fakeModel) logp(prev, next int) float64 {
	if next == (prev+1)%m.V {
		return q
	}
	return r
}

func (m *fakeModel) LogLikelihood(ctx context.Context, reqs []LLRequest, progress Progress) ([]LLResult, error) {
	m.llCalls = append(m.llCalls, reqs)
	out := make([]LLResult, len(reqs))
	for i, req := range reqs {
		if len(req.Context) == 0 || len(req.Continuation) == 0 {
			return nil, fmt.Errorf("request %d: empty context or continuation", i)
		}
		if v, ok := m.llOverride[m.tok.Decode(req.Continuation)]; ok {
			out[i] = LLResult{LogLikelihood: v}
			continue
		}
		whole := append(slices.Clone(req.Context), req.Continuation...)
		if len(whole) > m.L+1 {
			whole = whole[len(whole)-(m.L+1):]
		}
		inp := whole[:len(whole)-1]
		m.seen = append(m.seen, inp)
		ll, greedy := 0.0, true
		n := len(req.Continuation)
		for j := len(whole) - n; j < len(whole); j++ {
			ll += m.logp(whole[j-1], whole[j])
			greedy = greedy && whole[j] == (whole[j-1]+1)%m.V
		}
		out[i] = LLResult{LogLikelihood: ll, IsGreedy: greedy}
		if progress != nil {
			progress(i + 1)
		}
	}
	return out, nil
}

// Generate plays back the script for each context, one token at a time,
// stopping as a real model would: after an EOS id, when Stop says so, or
// at MaxTokens.
func (m *fakeModel) Generate(ctx context.Context, reqs []GenRequest, progress Progress) ([]GenResult, error) {
	m.genCalls = append(m.genCalls, reqs)
	out := make([]GenResult, len(reqs))
	for i, req := range reqs {
		script, ok := m.scripts[m.tok.Decode(req.Context)]
		if !ok {
			return nil, fmt.Errorf("no script for %q", m.tok.Decode(req.Context))
		}
		toks, err := m.tok.Encode(script, false)
		if err != nil {
			return nil, err
		}
		var gen []int
		for _, t := range toks {
			if len(gen) == req.MaxTokens {
				break
			}
			gen = append(gen, t)
			if slices.Contains(req.EOS, t) || (req.Stop != nil && req.Stop(gen)) {
				break
			}
		}
		out[i] = GenResult{Tokens: gen}
	}
	return out, nil
}

// Classify's logits count the ids 'a', 'b' and 'c' in the input, and add
// 0.5 to class 2 for every id of type 1.
func (m *fakeModel) Classify(ctx context.Context, reqs []ClassRequest, progress Progress) ([][]float32, error) {
	m.clsCalls = append(m.clsCalls, reqs)
	a, b, c := m.tok.id("a"), m.tok.id("b"), m.tok.id("c")
	out := make([][]float32, len(reqs))
	for i, req := range reqs {
		l := make([]float32, 3)
		for j, id := range req.IDs {
			switch id {
			case a:
				l[0]++
			case b:
				l[1]++
			case c:
				l[2]++
			}
			if req.TypeIDs != nil && req.TypeIDs[j] == 1 {
				l[2] += 0.5
			}
		}
		out[i] = l
	}
	return out, nil
}
