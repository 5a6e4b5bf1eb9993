package report

import "math"

// blockIndex reads a block index or a count from a similarity file's
// cell: a whole number from 0 to most.
func blockIndex(v float64, most int) (int, bool) {
	if v != math.Trunc(v) || v < 0 || v > float64(most) {
		return 0, false
	}
	return int(v), true
}
