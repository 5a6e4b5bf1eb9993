package similarity

import (
	"fmt"
	"math"
)

// Cosine is the cosine similarity of a and b, accumulated in float64. Two
// zero vectors are equal, so their cosine is 1; a zero vector against a
// non-zero one has cosine 0 (the direction is undefined; 0 is what the
// dot product gives). The result is clamped to [-1, 1], so rounding never
// takes it outside arccos's domain.
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("similarity.Cosine: lengths %d and %d", len(a), len(b)))
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	return cosFrom(dot, na, nb)
}

// cosFrom turns a dot product and two squared norms into a cosine, with
// Cosine's conventions for zero vectors.
func cosFrom(dot, na, nb float64) float64 {
	switch {
	case na == 0 && nb == 0:
		return 1
	case na == 0 || nb == 0:
		return 0
	}
	c := dot / (math.Sqrt(na) * math.Sqrt(nb))
	return max(-1, min(1, c))
}

// Angular is Gromov et al.'s angular distance arccos(cos(a, b))/π, in
// [0, 1]: 0 for vectors pointing the same way, 1 for opposite ones.
func Angular(a, b []float32) float64 { return angularFrom(Cosine(a, b)) }

func angularFrom(cos float64) float64 { return math.Acos(cos) / math.Pi }

// TokenCosines returns, for states a and b of shape [tokens, hidden]
// (row-major), the cosine of each token's two hidden vectors: ShortGPT's
// per-token quantity.
func TokenCosines(a, b []float32, hidden int) []float64 {
	if hidden <= 0 || len(a) != len(b) || len(a)%hidden != 0 {
		panic(fmt.Sprintf("similarity.TokenCosines: lengths %d and %d, hidden %d", len(a), len(b), hidden))
	}
	n := len(a) / hidden
	out := make([]float64, n)
	for t := range n {
		out[t] = Cosine(a[t*hidden:(t+1)*hidden], b[t*hidden:(t+1)*hidden])
	}
	return out
}
