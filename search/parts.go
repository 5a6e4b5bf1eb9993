package search

import (
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/schedule"
)

// part is which of a block's halves a step runs.
type part int

const (
	whole    part = iota
	attnOnly      // the attention sublayer alone
	mlpOnly       // the MLP sublayer alone
)

func stagePart(schedule.Stage) part { return whole }

func halfNodes(*rewrite.Blocks) [][2][]int { return nil }

func withPart(st schedule.Step, _ part) schedule.Step { return st }
