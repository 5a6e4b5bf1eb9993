package schedule

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits that keep a hostile or mistyped schedule from exhausting memory:
// no real model has anywhere near this many blocks or instances.
const (
	MaxNumber    = 100000 // largest block index or repeat count
	maxInstances = 100000 // most block instances one schedule may run
	maxDepth     = 100    // deepest nesting of (…) groups; bounds the parser's recursion
)

// ParseError reports a schedule that does not parse. It carries the
// pieces, not only a sentence, so that a caller can say where the schedule
// came from (the CLI says --schedule).
type ParseError struct {
	Src string // the schedule as given
	Col int    // 1-based column (in characters) of the problem
	Msg string // what is wrong, or what was expected there
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("schedule %q: column %d: %s", e.Src, e.Col, e.Msg)
}

// Caret returns two lines for a terminal: the schedule, and a caret under
// the column of the problem.
func (e *ParseError) Caret() string {
	var pad strings.Builder
	for i, r := range []rune(e.Src) {
		if i >= e.Col-1 {
			break
		}
		if r == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	return e.Src + "\n" + pad.String() + "^"
}

// Parse reads a schedule (docs/design.md, "The schedule language"):
//
//	schedule = step { "," step }
//	step     = ( number [ "-" number ] | number part | "[" item { "," item } "]" | "(" step { "," step } ")" ) [ "x" number ]
//	part     = ".attn" | ".mlp"
//	item     = number [ "-" number ]
//
// A part runs one sublayer of the block: 12.attn is block 12's attention
// half alone (x + Attn(norm(x))), 12.mlp its MLP half alone
// (h + MLP(norm(h))). A part applies to one block, not to a range, and
// may not appear inside a parallel group '[...]'.
//
// Whitespace between tokens is ignored. Parse checks everything that does
// not depend on the model; [Schedule.Validate] checks the block indices.
// Errors are *ParseError.
func Parse(src string) (Schedule, error) {
	p := &parser{src: src}
	p.skipSpace()
	if p.eof() {
		return Schedule{}, p.errAt(p.pos, "the schedule is empty: expected a block number, '[' or '('")
	}
	steps, _, err := p.list(0, 0)
	if err != nil {
		return Schedule{}, err
	}
	return Schedule{Steps: steps}, nil
}

type parser struct {
	src   string
	pos   int // byte offset
	depth int // open (…) groups
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

func (p *parser) skipSpace() {
	for !p.eof() && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

// col turns a byte offset into a 1-based column counted in characters.
func (p *parser) col(off int) int { return utf8.RuneCountInString(p.src[:off]) + 1 }

func (p *parser) errAt(off int, format string, args ...any) error {
	return &ParseError{Src: p.src, Col: p.col(off), Msg: fmt.Sprintf(format, args...)}
}

// found describes what sits at the current position, for error messages.
func (p *parser) found() string { return p.foundAt(p.pos) }

// foundAt describes what sits at byte offset off.
func (p *parser) foundAt(off int) string {
	if off >= len(p.src) {
		return "end of input"
	}
	r, _ := utf8.DecodeRuneInString(p.src[off:])
	return fmt.Sprintf("%q", r)
}

// list parses step {"," step} up to the closing bracket close, or up to the
// end of input when close is 0. open is the offset of the opening bracket.
// It returns the steps and how many block instances they run.
func (p *parser) list(close byte, open int) ([]Step, int, error) {
	var steps []Step
	total := 0
	for {
		p.skipSpace()
		start := p.pos
		st, n, err := p.step()
		if err != nil {
			return nil, 0, err
		}
		steps = append(steps, st...)
		if total += n; total > maxInstances {
			return nil, 0, p.errAt(start, "the schedule runs more than %d block instances", maxInstances)
		}
		p.skipSpace()
		switch {
		case p.peek() == ',':
			p.pos++
		case close == 0 && p.eof():
			return steps, total, nil
		case close != 0 && p.peek() == close:
			p.pos++
			return steps, total, nil
		case close == 0:
			return nil, 0, p.errAt(p.pos, "expected ',' or the end of the schedule; found %s", p.found())
		default:
			return nil, 0, p.errAt(p.pos, "expected ',' or ')' to close the '(' at column %d; found %s", p.col(open), p.found())
		}
	}
}

// step parses one step. A range without a repeat expands in place into one
// StepBlock per block; with a repeat it becomes a sequential group.
func (p *parser) step() ([]Step, int, error) {
	start := p.pos
	var st Step
	var n int // block instances of one run of the step
	switch c := p.peek(); {
	case isDigit(c):
		a, b, colB, err := p.rangeItem("a block number")
		if err != nil {
			return nil, 0, err
		}
		blocks := Span(a, b)
		blocks[0].Col = p.col(start)
		for i := 1; i < len(blocks); i++ {
			blocks[i].Col = colB
		}
		if p.skipSpace(); p.peek() == '.' {
			dot := p.pos
			part, err := p.part()
			if err != nil {
				return nil, 0, err
			}
			if a != b {
				return nil, 0, p.errAt(dot, "a part (%s) applies to one block, not to the range %d-%d: write each block's part as its own step (%d%s,%d%s,...)", part, a, b, a, part, a+(b-a)/max(1, abs(b-a)), part)
			}
			blocks[0].Part = part
		}
		if p.skipSpace(); p.peek() != 'x' {
			return blocks, len(blocks), nil
		}
		if len(blocks) == 1 {
			st = blocks[0]
		} else {
			st = Step{Kind: StepSeq, Body: blocks, Col: p.col(start)}
		}
		n = len(blocks)
	case c == '[':
		members, err := p.parallel()
		if err != nil {
			return nil, 0, err
		}
		st = Step{Kind: StepParallel, Members: members, Col: p.col(start)}
		n = len(members)
	case c == '(':
		if p.depth++; p.depth > maxDepth {
			return nil, 0, p.errAt(start, "groups are nested more than %d deep", maxDepth)
		}
		defer func() { p.depth-- }()
		p.pos++
		if p.skipSpace(); p.peek() == ')' {
			return nil, 0, p.errAt(start, "empty group '()': put at least one step inside")
		}
		body, count, err := p.list(')', start)
		if err != nil {
			return nil, 0, err
		}
		st = Step{Kind: StepSeq, Body: body, Col: p.col(start)}
		n = count
	case c == '-':
		return nil, 0, p.errAt(p.pos, "block numbers cannot be negative")
	default:
		return nil, 0, p.errAt(p.pos, "expected a block number, '[' or '('; found %s", p.found())
	}
	st.Repeat = 1
	if p.skipSpace(); p.peek() == 'x' {
		p.pos++
		p.skipSpace()
		off := p.pos
		r, err := p.number("a repeat count", "repeat counts")
		if err != nil {
			return nil, 0, err
		}
		if r == 0 {
			return nil, 0, p.errAt(off, "repeat count must be at least 1")
		}
		st.Repeat = r
	}
	if n *= st.Repeat; n > maxInstances {
		return nil, 0, p.errAt(start, "this step runs %d block instances; at most %d are allowed", n, maxInstances)
	}
	return []Step{st}, n, nil
}

// part parses ".attn" or ".mlp" at the current position (a '.').
func (p *parser) part() (Part, error) {
	dot := p.pos
	p.pos++
	for _, c := range []struct {
		word string
		part Part
	}{{"attn", Attn}, {"mlp", MLP}} {
		if strings.HasPrefix(p.src[p.pos:], c.word) {
			p.pos += len(c.word)
			return c.part, nil
		}
	}
	return Whole, p.errAt(dot, "expected a part after '.': .attn (the block's attention half) or .mlp (its MLP half); found %s", p.foundAt(dot+1))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// parallel parses "[" item {"," item} "]" into its members, in the order
// written, rejecting a block that appears twice.
func (p *parser) parallel() ([]int, error) {
	open := p.pos
	p.pos++
	if p.skipSpace(); p.peek() == ']' {
		return nil, p.errAt(open, "empty parallel group '[]': put at least one block inside")
	}
	var members []int
	seen := map[int]int{} // block -> column of the item that listed it
	for {
		p.skipSpace()
		col := p.col(p.pos)
		a, b, _, err := p.rangeItem("a block number or range inside '[...]'")
		if err != nil {
			return nil, err
		}
		if p.skipSpace(); p.peek() == '.' {
			dot := p.pos
			part, err := p.part()
			if err != nil {
				return nil, err
			}
			return nil, p.errAt(dot, "a parallel group cannot run a sub-block part (%d%s): parts run only as sequential steps; move it out of the '[...]' at column %d", b, part, p.col(open))
		}
		for _, s := range Span(a, b) {
			if prev, ok := seen[s.Block]; ok {
				return nil, &ParseError{Src: p.src, Col: col, Msg: fmt.Sprintf(
					"block %d appears twice in one parallel group (columns %d and %d); a parallel group is a set", s.Block, prev, col)}
			}
			seen[s.Block] = col
			members = append(members, s.Block)
		}
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return members, nil
		default:
			return nil, p.errAt(p.pos, "expected ',' or ']' to close the '[' at column %d; found %s", p.col(open), p.found())
		}
	}
}

// rangeItem parses number ["-" number]. It returns a == b for a single
// block, and the column of b.
func (p *parser) rangeItem(what string) (a, b, colB int, err error) {
	colB = p.col(p.pos)
	if a, err = p.number(what, "block numbers"); err != nil {
		return
	}
	b = a
	if p.skipSpace(); p.peek() != '-' {
		return
	}
	p.pos++
	p.skipSpace()
	colB = p.col(p.pos)
	b, err = p.number("a block number after '-'", "block numbers")
	return
}

// number parses a decimal number. what says what was expected and plural
// names the kind of number for the "negative" error.
func (p *parser) number(what, plural string) (int, error) {
	start := p.pos
	if p.peek() == '-' {
		return 0, p.errAt(start, "%s cannot be negative", plural)
	}
	if !isDigit(p.peek()) {
		return 0, p.errAt(start, "expected %s; found %s", what, p.found())
	}
	v := 0
	for isDigit(p.peek()) {
		if v <= MaxNumber { // stop growing once too large, so v never overflows
			v = v*10 + int(p.peek()-'0')
		}
		p.pos++
	}
	if v > MaxNumber {
		lit := p.src[start:p.pos]
		if len(lit) > 20 {
			lit = lit[:20] + "..."
		}
		return 0, p.errAt(start, "number %s is too large: at most %d is allowed", lit, MaxNumber)
	}
	return v, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
