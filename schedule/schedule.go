package schedule

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// StepKind says what a [Step] holds.
type StepKind int

const (
	StepBlock    StepKind = iota // one block
	StepParallel                 // a parallel group: [members]
	StepSeq                      // a sequential group: (body)
)

func (k StepKind) String() string {
	switch k {
	case StepBlock:
		return "block"
	case StepParallel:
		return "parallel"
	case StepSeq:
		return "seq"
	}
	return "StepKind(" + strconv.Itoa(int(k)) + ")"
}

// Part says which sublayer of a block a step runs: the whole block (the
// zero value), only its attention half (x + Attn(norm(x))) or only its MLP
// half (h + MLP(norm(h))). The text form writes a part after the block:
// 12.attn, 12.mlp.
type Part int

const (
	Whole Part = iota // the whole block
	Attn              // the attention sublayer alone: block.attn
	MLP               // the MLP sublayer alone: block.mlp
)

// String is the part's suffix in the text form: "", ".attn" or ".mlp".
func (p Part) String() string {
	switch p {
	case Whole:
		return ""
	case Attn:
		return ".attn"
	case MLP:
		return ".mlp"
	}
	return ".Part(" + strconv.Itoa(int(p)) + ")"
}

// Name says the part in words, for messages: "block", "attention half",
// "MLP half".
func (p Part) Name() string {
	switch p {
	case Attn:
		return "attention half"
	case MLP:
		return "MLP half"
	}
	return "block"
}

// Step is one step of a schedule.
type Step struct {
	Kind    StepKind
	Block   int    // StepBlock: the block index
	Part    Part   // StepBlock: the sublayer it runs (Whole unless written i.attn or i.mlp)
	Members []int  // StepParallel: block indices, in the order written
	Body    []Step // StepSeq: the steps of a (…) group
	// Repeat is how many times the step runs, each time fed its own output.
	// Parse always sets it to at least 1; 0 is read as 1 so that a Step
	// literal built in code need not spell it out.
	Repeat int
	// Col is the 1-based column in the source where this step starts (0 when
	// built in code). A range a-b expands into one StepBlock per block: the
	// first carries the column of a and the others the column of b, so that
	// an out-of-range error points at the number the user wrote.
	Col int
}

func (st Step) times() int { return max(st.Repeat, 1) }

// Schedule is a parsed schedule: its steps run left to right.
type Schedule struct{ Steps []Step }

// Stage is one step of the unrolled schedule. With one block it runs that
// block; with more it is a parallel group whose output is the mean of its
// members' outputs. Blocks are sorted ascending, because a parallel group is
// a set: however it was written, it unrolls (and numbers its KV-cache slots)
// the same way. Part is Whole but for a sub-block step (one block's
// attention or MLP half alone), which is never in a parallel group.
type Stage struct {
	Blocks []int
	Part   Part
}

// Sequential returns a schedule that runs blocks in the order given.
func Sequential(blocks ...int) Schedule {
	steps := make([]Step, len(blocks))
	for i, b := range blocks {
		steps[i] = Step{Kind: StepBlock, Block: b, Repeat: 1}
	}
	return Schedule{Steps: steps}
}

// Span returns steps running a..b inclusive, descending when a > b.
func Span(a, b int) []Step {
	d := 1
	if a > b {
		d = -1
	}
	var steps []Step
	for i := a; ; i += d {
		steps = append(steps, Step{Kind: StepBlock, Block: i, Repeat: 1})
		if i == b {
			return steps
		}
	}
}

// Stages unrolls the schedule into execution order: loops are repeated and
// sequential groups are flattened.
func (s Schedule) Stages() []Stage { return appendStages(nil, s.Steps) }

func appendStages(out []Stage, steps []Step) []Stage {
	for _, st := range steps {
		for range st.times() {
			switch st.Kind {
			case StepBlock:
				out = append(out, Stage{Blocks: []int{st.Block}, Part: st.Part})
			case StepParallel:
				m := slices.Clone(st.Members)
				slices.Sort(m)
				out = append(out, Stage{Blocks: m})
			case StepSeq:
				out = appendStages(out, st.Body)
			}
		}
	}
	return out
}

// Instances returns the block of each executed block instance that holds
// attention, in execution order; each parallel member and each loop
// iteration is its own instance. Instance k owns KV-cache slot k
// (past_key_values.{k}, present.{k}), so this is the slot -> block map.
// A whole block and an attention half (i.attn) each own a slot; an MLP
// half (i.mlp) reads and writes no cache, so it owns none and is not
// listed.
func (s Schedule) Instances() []int {
	var out []int
	for _, st := range s.Stages() {
		if st.Part == MLP {
			continue
		}
		out = append(out, st.Blocks...)
	}
	return out
}

// Validate checks that the schedule can run on a model with T blocks: every
// block is in 0..T-1, no group is empty, no parallel group repeats a block,
// no repeat count is negative, and it runs at most 100000 block instances
// (a [*SizeError] otherwise). Errors name the column of the offender when
// the schedule was parsed.
//
// The instance cap is checked here, not only by [Parse], because passes
// build schedules in code: looped-parallel with a huge --loops would
// otherwise unroll into millions of instances and exhaust memory.
func (s Schedule) Validate(T int) error {
	if T < 1 {
		return stepErr(0, "the model has no blocks")
	}
	if len(s.Steps) == 0 {
		return stepErr(0, "the schedule is empty: it must run at least one block")
	}
	if err := validateSteps(s.Steps, T); err != nil {
		return err
	}
	if n := instances(s.Steps); n > maxInstances {
		return &SizeError{Instances: n}
	}
	return nil
}

// SizeError reports a schedule that runs more block instances than
// painterc allows (100000): a typo or a hostile file, since no real model
// comes near, and unrolling it would exhaust memory.
type SizeError struct {
	Instances int // how many it runs; math.MaxInt when too many to count
}

func (e *SizeError) Error() string {
	runs := strconv.Itoa(e.Instances)
	if e.Instances == math.MaxInt {
		runs = "more than " + strconv.Itoa(maxInstances)
	}
	return fmt.Sprintf("the schedule runs %s block instances; at most %d are allowed", runs, maxInstances)
}

// instances counts the block instances steps run without unrolling them.
// It stops as soon as the count passes maxInstances, so a hostile repeat
// count costs nothing; math.MaxInt stands for a count too large for an int.
func instances(steps []Step) int {
	total := 0
	for _, st := range steps {
		per := 1
		switch st.Kind {
		case StepParallel:
			per = len(st.Members)
		case StepSeq:
			per = instances(st.Body)
		}
		if per > maxInstances {
			return per
		}
		if per > 0 && st.times() > (math.MaxInt-total)/per {
			return math.MaxInt
		}
		if total += per * st.times(); total > maxInstances {
			return total
		}
	}
	return total
}

func validateSteps(steps []Step, T int) error {
	out := func(b int) bool { return b < 0 || b >= T }
	for i, st := range steps {
		if st.Repeat < 0 {
			return stepErr(st.Col, "repeat count %d must be at least 1", st.Repeat)
		}
		if st.Part != Whole && (st.Kind != StepBlock || (st.Part != Attn && st.Part != MLP)) {
			if st.Kind == StepParallel {
				return stepErr(st.Col, "a parallel group cannot run a sub-block part (%s); run the part outside '[...]'", st.Part)
			}
			return stepErr(st.Col, "unknown part %d on a %s step", int(st.Part), st.Kind)
		}
		switch st.Kind {
		case StepBlock:
			if !out(st.Block) {
				continue
			}
			// Within an expanded range, report its last out-of-range block: that
			// is the endpoint the user wrote (see Step.Col).
			last := st
			for _, next := range steps[i+1:] {
				if st.Col == 0 || next.Kind != StepBlock || next.Part != Whole || next.Col != st.Col || !out(next.Block) {
					break
				}
				last = next
			}
			return rangeErr(last.Col, last.Block, T)
		case StepParallel:
			if len(st.Members) == 0 {
				return stepErr(st.Col, "empty parallel group")
			}
			m := slices.Clone(st.Members)
			slices.Sort(m)
			if hi := m[len(m)-1]; hi >= T {
				return rangeErr(st.Col, hi, T)
			}
			if m[0] < 0 {
				return rangeErr(st.Col, m[0], T)
			}
			for j := 1; j < len(m); j++ {
				if m[j] == m[j-1] {
					return stepErr(st.Col, "block %d appears twice in one parallel group", m[j])
				}
			}
		case StepSeq:
			if len(st.Body) == 0 {
				return stepErr(st.Col, "empty sequential group")
			}
			if err := validateSteps(st.Body, T); err != nil {
				return err
			}
		default:
			return stepErr(st.Col, "unknown step kind %d", int(st.Kind))
		}
	}
	return nil
}

// StepError reports a schedule that parses but does not fit the model
// ([Schedule.Validate]). Col is the step's column in the source, or 0 for a
// schedule built in code.
type StepError struct {
	Col int
	Msg string
}

func (e *StepError) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("schedule column %d: %s", e.Col, e.Msg)
	}
	return "schedule: " + e.Msg
}

func stepErr(col int, format string, args ...any) error {
	return &StepError{Col: col, Msg: fmt.Sprintf(format, args...)}
}

func rangeErr(col, block, T int) error {
	return stepErr(col, "block %d is out of range: the model has %s", block, BlockCount(T))
}

// BlockCount says "32 blocks (0-31)".
func BlockCount(T int) string {
	if T == 1 {
		return "1 block (0)"
	}
	return fmt.Sprintf("%d blocks (0-%d)", T, T-1)
}

// String returns the canonical form: runs of consecutive whole blocks
// become ranges (a sub-block step such as 3.attn never joins one),
// parallel members are sorted and merged into ranges, x1 is dropped,
// a parallel group of one block prints as that block, and parentheses stay
// only around a repeated group of several steps. Parse(s.String()) has the
// same Stages as s.
func (s Schedule) String() string {
	var sb strings.Builder
	writeSteps(&sb, canon(s.Steps))
	return sb.String()
}

// canon rewrites steps into the shape String prints: single-member parallel
// groups become blocks, sequential groups without a repeat are spliced into
// their parent (so runs can merge across them), and a repeated group holding
// one step hands its repeat count to that step.
func canon(steps []Step) []Step {
	var out []Step
	for _, st := range steps {
		r := st.times()
		switch st.Kind {
		case StepParallel:
			if len(st.Members) == 1 {
				out = append(out, Step{Kind: StepBlock, Block: st.Members[0], Part: st.Part, Repeat: r})
				continue
			}
			m := slices.Clone(st.Members)
			slices.Sort(m)
			out = append(out, Step{Kind: StepParallel, Members: m, Repeat: r})
		case StepSeq:
			body := canon(st.Body)
			switch {
			case r == 1:
				out = append(out, body...)
			case len(body) == 1:
				b := body[0]
				b.Repeat = b.times() * r
				out = append(out, b)
			default:
				out = append(out, Step{Kind: StepSeq, Body: body, Repeat: r})
			}
		default:
			out = append(out, Step{Kind: st.Kind, Block: st.Block, Part: st.Part, Repeat: r})
		}
	}
	return out
}

func writeSteps(sb *strings.Builder, steps []Step) {
	for i := 0; i < len(steps); i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		st := steps[i]
		switch st.Kind {
		case StepBlock:
			if st.Repeat == 1 && st.Part == Whole {
				// Merge a run of unrepeated blocks that step by +1 or -1.
				j := runEnd(steps, i)
				writeRange(sb, st.Block, steps[j].Block)
				i = j
				continue
			}
			sb.WriteString(strconv.Itoa(st.Block))
			sb.WriteString(st.Part.String())
		case StepParallel:
			sb.WriteByte('[')
			writeSet(sb, st.Members)
			sb.WriteByte(']')
		case StepSeq:
			sb.WriteByte('(')
			writeSteps(sb, st.Body)
			sb.WriteByte(')')
		default:
			fmt.Fprintf(sb, "?%d", int(st.Kind))
		}
		if st.Repeat > 1 {
			sb.WriteByte('x')
			sb.WriteString(strconv.Itoa(st.Repeat))
		}
	}
}

// runEnd returns the index of the last step of the run of unrepeated blocks
// starting at steps[i] whose indices change by the same ±1 each step.
func runEnd(steps []Step, i int) int {
	plain := func(j int) bool {
		return j < len(steps) && steps[j].Kind == StepBlock && steps[j].Repeat == 1 && steps[j].Part == Whole
	}
	if !plain(i + 1) {
		return i
	}
	d := steps[i+1].Block - steps[i].Block
	if d != 1 && d != -1 {
		return i
	}
	j := i + 1
	for plain(j+1) && steps[j+1].Block-steps[j].Block == d {
		j++
	}
	return j
}

func writeRange(sb *strings.Builder, a, b int) {
	sb.WriteString(strconv.Itoa(a))
	if a != b {
		sb.WriteByte('-')
		sb.WriteString(strconv.Itoa(b))
	}
}

// writeSet writes sorted members, merging consecutive ones into ranges.
func writeSet(sb *strings.Builder, sorted []int) {
	for i := 0; i < len(sorted); i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		j := i
		for j+1 < len(sorted) && sorted[j+1] == sorted[j]+1 {
			j++
		}
		writeRange(sb, sorted[i], sorted[j])
		i = j
	}
}
