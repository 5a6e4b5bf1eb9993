package search

import (
	"slices"

	"github.com/painterc/painterc/schedule"
)

// item is one step of a candidate: a block (or one half of it), or a
// parallel group of whole blocks whose outputs are averaged.
type item struct {
	blocks []int // one block, or a group's members ascending
	part   part  // whole for groups
}

// state is a candidate schedule as the search edits it: a flat list of
// steps. Every schedule the search and the baselines produce has this
// shape; loops are written out as repeated items.
type state []item

func full(T int) state {
	s := make(state, T)
	for i := range s {
		s[i] = item{blocks: []int{i}}
	}
	return s
}

// Schedule is the state in the schedule language.
func (s state) Schedule() schedule.Schedule {
	var sched schedule.Schedule
	for _, it := range s {
		st := schedule.Step{Kind: schedule.StepBlock, Block: it.blocks[0], Repeat: 1}
		if len(it.blocks) > 1 {
			st = schedule.Step{Kind: schedule.StepParallel, Members: slices.Clone(it.blocks), Repeat: 1}
		}
		sched.Steps = append(sched.Steps, withPart(st, it.part))
	}
	return sched
}

// key is the canonical schedule text, which names a candidate everywhere:
// in the screening store, the results and the report.
func (s state) key() string { return s.Schedule().String() }

func (s state) with(i int, its ...item) state {
	out := make(state, 0, len(s)+len(its))
	out = append(out, s[:i]...)
	out = append(out, its...)
	return append(out, s[i+1:]...)
}

func (s state) without(i int) state {
	out := make(state, 0, len(s)-1)
	out = append(out, s[:i]...)
	return append(out, s[i+1:]...)
}

// runs reports whether block blk runs whole somewhere in s.
func (s state) runs(blk int) bool {
	for _, it := range s {
		if it.part == whole && slices.Contains(it.blocks, blk) {
			return true
		}
	}
	return false
}

// shrink lists the candidates one step cheaper than s: each step
// dropped (the paper's skip, ShortGPT's and SLEB's move), and with halves,
// each whole block cut down to one half (halve).
func (s state) shrink(halves bool) []state {
	var out []state
	if len(s) > 1 {
		for i := range s {
			out = append(out, s.without(i))
		}
	}
	if halves {
		out = append(out, s.halve()...)
	}
	return out
}

// halve lists the candidates with one whole block of s cut down to its
// attention or its MLP half.
func (s state) halve() []state {
	var out []state
	for i, it := range s {
		if len(it.blocks) == 1 && it.part == whole {
			out = append(out,
				s.with(i, item{blocks: it.blocks, part: attnOnly}),
				s.with(i, item{blocks: it.blocks, part: mlpOnly}))
		}
	}
	return out
}

// rearrange lists the candidates that cost the same as s but run its
// blocks differently, the paper's other strategies applied locally: two
// adjacent whole blocks swapped (reorder), run as a parallel pair, or a
// parallel group widened by its next block.
func (s state) rearrange() []state {
	var out []state
	for i := 0; i+1 < len(s); i++ {
		a, b := s[i], s[i+1]
		if a.part != whole || b.part != whole {
			continue
		}
		if len(a.blocks) == 1 && len(b.blocks) == 1 {
			swapped := slices.Clone(s)
			swapped[i], swapped[i+1] = b, a
			out = append(out, swapped)
		}
		if len(b.blocks) == 1 && !slices.Contains(a.blocks, b.blocks[0]) {
			g := append(slices.Clone(a.blocks), b.blocks[0])
			slices.Sort(g)
			merged := s.with(i, item{blocks: g})
			out = append(out, merged.without(i+1))
		}
	}
	return out
}

// grow lists the candidates one step dearer than s, to spend what a budget
// leaves: a dropped block put back where it ran, a half completed, or a
// block repeated in place (the paper's repeat, one block at a time).
func (s state) grow(T int, halves bool) []state {
	var out []state
	for blk := range T {
		if s.touches(blk) {
			continue // completing a half is below
		}
		pos := s.inOrder(blk)
		out = append(out, s.insert(pos, item{blocks: []int{blk}}))
		if halves {
			out = append(out, s.insert(pos, item{blocks: []int{blk}, part: attnOnly}), s.insert(pos, item{blocks: []int{blk}, part: mlpOnly}))
		}
	}
	for i, it := range s {
		if it.part != whole {
			out = append(out, s.with(i, item{blocks: it.blocks}))
		}
		if len(it.blocks) == 1 && it.part == whole {
			out = append(out, s.insert(i+1, it))
		}
	}
	return out
}

// inOrder is where block blk would run in order in s: before the first
// step whose first block comes after it.
func (s state) inOrder(blk int) int {
	for i, it := range s {
		if it.blocks[0] > blk {
			return i
		}
	}
	return len(s)
}

// exchange lists the candidates that trade a block s runs whole and
// alone for a block it does not run, no more than reach positions away:
// the local move of a skip set (ShortGPT's, SLEB's), which neither
// dropping nor putting back can make at a budget that is already spent.
// The block comes in where it would run in order; when the blocks cost
// alike, so does the candidate.
func (s state) exchange(T, reach int) []state {
	var out []state
	for in := range T {
		if s.touches(in) {
			continue
		}
		for i, it := range s {
			if len(it.blocks) != 1 || it.part != whole {
				continue
			}
			if d := it.blocks[0] - in; d < -reach || d > reach {
				continue
			}
			rest := s.without(i)
			out = append(out, rest.insert(rest.inOrder(in), item{blocks: []int{in}}))
		}
	}
	return out
}

// touches reports whether block blk runs in s, whole or in part.
func (s state) touches(blk int) bool {
	for _, it := range s {
		if slices.Contains(it.blocks, blk) {
			return true
		}
	}
	return false
}

func (s state) insert(i int, it item) state {
	out := make(state, 0, len(s)+1)
	out = append(out, s[:i]...)
	out = append(out, it)
	return append(out, s[i:]...)
}
