package report

import (
	"fmt"
	"math"

	"github.com/painterc/painterc/internal/clip"
	"github.com/painterc/painterc/schedule"
)

// checkResult validates what a row says about its variant, before the
// report sizes anything by it: a negative M, or a schedule that does not
// parse (whose blocks would be left out of T without a word).
func checkResult(r *Result) error {
	if r.Affected < 0 {
		return fmt.Errorf("field \"affected\" is %d: want a number of blocks, 0 or more", r.Affected)
	}
	if r.Schedule != "" {
		if _, err := schedule.Parse(r.Schedule); err != nil {
			return fmt.Errorf("field \"schedule\" is %s, which is not a schedule: %s", clip.Quote(r.Schedule), clip.String(err.Error()))
		}
	}
	return nil
}

// blockIndex reads a block index or a count from a similarity file's
// cell: a whole number from 0 to most.
func blockIndex(v float64, most int) (int, bool) {
	if v != math.Trunc(v) || v < 0 || v > float64(most) {
		return 0, false
	}
	return int(v), true
}
