package similarity

import (
	"errors"
	"fmt"
	"math"
)

// Analysis is what a corpus says about a model's residual stream: the T+1
// states x0..xT, where x0 is the embedding output (the input to block 0)
// and x(i+1) is block i's output, the last one before the final norm.
type Analysis struct {
	T      int // blocks
	Docs   int // documents analysed
	Tokens int // tokens over all documents

	// Similarity[i][j] is the paper's heatmap: the cosine of states x_i and
	// x_j, each flattened over [tokens × hidden] for one document, averaged
	// over documents (every document counts once, whatever its length).
	Similarity [][]float64

	// BI[i] is ShortGPT's Block Influence of block i: 1 − the mean of
	// cos(x_i[t], x_(i+1)[t]) over every token t of every document, so a
	// long document weighs more than a short one (ShortGPT aggregates over
	// the corpus's tokens the same way).
	BI []float64

	// angular[n-1][l] is Gromov et al.'s angular distance between x_l and
	// x_(l+n) at each document's last token, averaged over documents; n is
	// the span length 1..T and l its start 0..T-n.
	angular [][]float64
}

// Distance is the mean angular distance, arccos(cos)/π at the last token,
// between x_start and x_(start+n): the effect of blocks start..start+n-1.
func (a *Analysis) Distance(n, start int) float64 {
	return a.angular[n-1][start]
}

// Span is a run of n consecutive blocks, Start..End inclusive (0-based,
// End = Start+n-1), with the angular distance between the state before it
// (x_Start) and after it (x_(End+1)).
type Span struct {
	N, Start, End int
	Distance      float64
}

// Spans lists every span, by length and then start.
func (a *Analysis) Spans() []Span {
	var out []Span
	for n := 1; n <= a.T; n++ {
		for l := 0; l+n <= a.T; l++ {
			out = append(out, Span{N: n, Start: l, End: l + n - 1, Distance: a.angular[n-1][l]})
		}
	}
	return out
}

// Suggestion is the span of blocks Gromov et al. would prune and the
// painterc command that skips it.
type Suggestion struct {
	Span
	Command string
}

// Suggest returns the span of n blocks whose removal changes the last
// token's state least (the smallest angular distance; the earliest start on
// a tie), and the command `painterc --pass=skip --layers A-B MODEL -o OUT`
// that skips it. n must leave at least one block: 1 <= n < T.
func (a *Analysis) Suggest(n int, model, out string) (Suggestion, error) {
	if n < 1 || n >= a.T {
		return Suggestion{}, fmt.Errorf("suggest %d blocks: want 1 to %d for a model with %d blocks (at least one block must stay)", n, a.T-1, a.T)
	}
	best := 0
	for l := 1; l+n <= a.T; l++ {
		if a.angular[n-1][l] < a.angular[n-1][best] {
			best = l
		}
	}
	s := Span{N: n, Start: best, End: best + n - 1, Distance: a.angular[n-1][best]}
	if model == "" {
		model = "MODEL"
	}
	if out == "" {
		out = "OUT"
	}
	cmd := fmt.Sprintf("painterc --pass=skip --layers %d-%d %s -o %s", s.Start, s.End, shellQuote(model), shellQuote(out))
	return Suggestion{Span: s, Command: cmd}, nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '/' || r == '.' || r == '_' || r == '-' || r == '+' || r == ':' || r == '=' || r == ',') {
			b := []byte{'\''}
			for i := 0; i < len(s); i++ {
				if s[i] == '\'' {
					b = append(b, `'\''`...)
				} else {
					b = append(b, s[i])
				}
			}
			return string(append(b, '\''))
		}
	}
	return s
}

// Accumulator sums the three measures document by document, so a corpus
// never has to be held in memory.
type Accumulator struct {
	t      int
	docs   int
	tokens int
	sim    [][]float64 // sums of per-document cosines
	tokCos []float64   // sums of per-token cosines, per block
	ang    [][]float64 // sums of per-document last-token distances
}

// NewAccumulator is an empty accumulator for a model with T blocks.
func NewAccumulator(T int) *Accumulator {
	a := &Accumulator{t: T, sim: make([][]float64, T+1), tokCos: make([]float64, T), ang: make([][]float64, T)}
	for i := range a.sim {
		a.sim[i] = make([]float64, T+1)
	}
	for n := 1; n <= T; n++ {
		a.ang[n-1] = make([]float64, T-n+1)
	}
	return a
}

// Add takes one document's T+1 states, each [tokens × hidden] row-major
// with the document's tokens only (no padding).
func (a *Accumulator) Add(states [][]float32, hidden int) error {
	if len(states) != a.t+1 {
		return fmt.Errorf("similarity: %d states for a model with %d blocks, want %d", len(states), a.t, a.t+1)
	}
	if hidden <= 0 {
		return fmt.Errorf("similarity: hidden size %d", hidden)
	}
	size := len(states[0])
	if size == 0 || size%hidden != 0 {
		return fmt.Errorf("similarity: a state of %d values is not [tokens × %d] with at least one token", size, hidden)
	}
	for i, s := range states {
		if len(s) != size {
			return fmt.Errorf("similarity: state x%d has %d values, x0 has %d", i, len(s), size)
		}
	}
	tokens := size / hidden
	T := a.t
	// Whole-document dot products and squared norms, every pair once.
	norms := make([]float64, T+1)
	dots := make([][]float64, T+1)
	for i := range states {
		dots[i] = make([]float64, T+1)
		for j := i; j <= T; j++ {
			dots[i][j] = dot(states[i], states[j])
		}
		norms[i] = dots[i][i]
	}
	for i := 0; i <= T; i++ {
		for j := i; j <= T; j++ {
			c := cosFrom(dots[i][j], norms[i], norms[j])
			if i == j {
				c = 1 // a state is itself, even when rounding says 1-1e-16
			}
			a.sim[i][j] += c
			if i != j {
				a.sim[j][i] += c
			}
		}
	}
	for i := range T {
		for _, c := range TokenCosines(states[i], states[i+1], hidden) {
			a.tokCos[i] += c
		}
	}
	last := func(s []float32) []float32 { return s[(tokens-1)*hidden:] }
	for n := 1; n <= T; n++ {
		for l := 0; l+n <= T; l++ {
			a.ang[n-1][l] += Angular(last(states[l]), last(states[l+n]))
		}
	}
	a.docs++
	a.tokens += tokens
	return nil
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// Analysis returns the means over the documents added so far.
func (a *Accumulator) Analysis() (*Analysis, error) {
	if a.docs == 0 {
		return nil, errors.New("similarity: no documents were analysed")
	}
	T, d := a.t, float64(a.docs)
	r := &Analysis{T: T, Docs: a.docs, Tokens: a.tokens, Similarity: make([][]float64, T+1), BI: make([]float64, T), angular: make([][]float64, T)}
	for i := range r.Similarity {
		r.Similarity[i] = make([]float64, T+1)
		for j := range r.Similarity[i] {
			r.Similarity[i][j] = a.sim[i][j] / d
		}
	}
	for i := range r.BI {
		r.BI[i] = 1 - a.tokCos[i]/float64(a.tokens)
		if math.Abs(r.BI[i]) < 1e-15 {
			r.BI[i] = 0 // print exact identities as 0, not -2e-16
		}
	}
	for n := range r.angular {
		r.angular[n] = make([]float64, len(a.ang[n]))
		for l := range r.angular[n] {
			r.angular[n][l] = a.ang[n][l] / d
		}
	}
	return r, nil
}
