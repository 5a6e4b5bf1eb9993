package testmodels

import (
	"math"
)

// rng is splitmix64: tiny, fast, and the same on every platform.
type rng struct{ x uint64 }

func (r *rng) next() uint64 {
	r.x += 0x9e3779b97f4a7c15
	z := r.x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uniform returns a float32 in [-1, 1) with 24 random bits, so it is exact in
// float32.
func (r *rng) uniform() float32 {
	return float32(int64(r.next()>>40)-(1<<23)) / (1 << 23)
}

// intn returns an integer in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// newRNG seeds a generator from the model seed and a key (a parameter name),
// so that every parameter's values depend on nothing else: block i has the
// same weights in every model built from the same seed, whatever else runs.
func newRNG(seed int64, key string) *rng {
	h := uint64(14695981039346656037) // FNV-1a
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	r := &rng{x: h ^ uint64(seed)*0xd1b54a32d192ed03}
	r.next()
	return r
}

// initKind says how a parameter's values are drawn.
type initKind int

const (
	initLinear initKind = iota // U(-1,1)/sqrt(fan_in), fan_in = shape[0]
	initNorm                   // 1 + 0.2 U(-1,1): a norm scale
	initBias                   // 0.1 U(-1,1)
	initEmbed                  // 0.7 U(-1,1)
)

// weights hands out a model's parameters by name, generating each once.
type weights struct {
	seed  int64
	cache map[string][]float32
	// int4 makes every linear weight the int4 model's: quantized as
	// MatMulNBits stores it and dequantized (Reference of Spec.Int4).
	int4 bool
	// fp16 rounds every weight to float16 (Reference of Spec.Float16).
	fp16 bool
}

func newWeights(seed int64) *weights {
	return &weights{seed: seed, cache: map[string][]float32{}}
}

// get returns parameter name with the given shape and distribution. Linear
// weights are stored [in, out], the orientation MatMul consumes.
func (w *weights) get(name string, shape []int, kind initKind) []float32 {
	if d, ok := w.cache[name]; ok {
		return d
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	r := newRNG(w.seed, name)
	d := make([]float32, n)
	var scale float32
	switch kind {
	case initLinear:
		scale = float32(1 / math.Sqrt(float64(shape[0])))
	case initNorm:
		scale = 0.2
	case initBias:
		scale = 0.1
	case initEmbed:
		scale = 0.7
	}
	for i := range d {
		d[i] = scale * r.uniform()
		if kind == initNorm {
			d[i] += 1
		}
	}
	if w.int4 && kind == initLinear && len(shape) == 2 {
		d = dequantize4(d, shape[0], shape[1])
	}
	if w.fp16 {
		for i := range d {
			d[i] = roundFloat16(d[i])
		}
	}
	w.cache[name] = d
	return d
}

// transposed returns the [cols, rows] transpose of a row-major [rows, cols]
// matrix.
func transposed(a []float32, rows, cols int) []float32 {
	t := make([]float32, len(a))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			t[j*rows+i] = a[i*cols+j]
		}
	}
	return t
}
