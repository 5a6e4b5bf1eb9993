package passes

import (
	"fmt"
	"github.com/painterc/painterc/schedule"
	"math/bits"
)

// randomPass is the paper's "random": "a seeded shuffle of the middle
// blocks. The paper averages 10 seeds." The shuffle uses its own PRNG so
// that a seed names the same schedule on every Go version and platform.
var randomPass = newMiddlePass("random",
	"run the middle blocks in a random order chosen by --seed",
	"Random: the middle blocks run in a seeded random order; the paper averages 10 seeds (Figure 1).",
	[]string{"seed"},
	OverNSeeds,
	func(a, b int, o Options) ([]schedule.Step, string, []string, error) {
		m := blocks(a, b)
		shuffle(m, o.Seed)
		steps := make([]schedule.Step, len(m))
		for i, blk := range m {
			steps[i] = schedule.Step{Kind: schedule.StepBlock, Block: blk, Repeat: 1}
		}
		return steps, fmt.Sprintf("seed=%d", o.Seed), nil, nil
	})

// shuffle permutes m in place by Fisher–Yates driven by splitmix64.
func shuffle(m []int, seed int64) {
	r := splitmix64(uint64(seed))
	for i := len(m) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		m[i], m[j] = m[j], m[i]
	}
}

// splitmix64 is Steele, Lea and Flood's generator (as in java.util.
// SplittableRandom): tiny, well mixed even from seed 0, and fixed forever.
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a uniform int in [0, n) by Lemire's multiply-and-reject, so
// no index is favoured.
func (s *splitmix64) intn(n int) int {
	bound := uint64(n)
	hi, lo := bits.Mul64(s.next(), bound)
	if lo < bound {
		thresh := -bound % bound
		for lo < thresh {
			hi, lo = bits.Mul64(s.next(), bound)
		}
	}
	return int(hi)
}
