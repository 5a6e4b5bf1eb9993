package passes

import (
	"errors"
	"fmt"
	"github.com/painterc/painterc/schedule"
	"slices"
	"strings"
)

// Options are the command-line parameters a pass may read. Each pass reads
// only its own and notes the ones it ignores.
type Options struct {
	N    int // the paper's start layer; valid only when HasN
	HasN bool

	Layers    [2]int // an explicit inclusive middle A-B; valid only when HasLayers
	HasLayers bool

	// Loops is the looped-parallel repeat count R. When HasLoops is false,
	// 0 means the default of 3; when it is true, 0 is an error, so that the
	// CLI can reject an explicit --loops 0.
	Loops    int
	HasLoops bool

	Seed int64 // random: the shuffle seed

	Index    int // skip-one and swap: the block; valid only when HasIndex
	HasIndex bool
}

// defaultLoops is the paper's main setting for looped-parallel.
const defaultLoops = 3

// Result is what a pass computes.
type Result struct {
	Schedule schedule.Schedule
	// Affected is the number of blocks the schedule changes: the paper's M
	// (the middle's size, T-2N-1 with --n N) for a strategy, 1 for a
	// skipped block, 2 for a swap, 0 for the identity.
	Affected int
	// Params are the parameters the schedule came from, canonical and
	// deterministic ("n=7 loops=3"): they are recorded in the output model as
	// painterc.pass, e.g. "looped-parallel n=7 loops=3". See Pass.Label.
	Params string
	Notes  []string // what the pass decided for the user, or ignored
}

// Pass is one named schedule generator. A pass only computes a schedule;
// the driver, [Pass.Run], holds the contract around it.
type Pass struct {
	Name  string
	Doc   string   // one line, for `painterc passes`
	Paper string   // the paper's definition
	Flags []string // the [Params] Build reads, by name
	// Sweep says how `painterc sweep` varies the pass (package sweep).
	Sweep Sweep
	// Build computes the schedule for a model with T blocks. It reads only
	// the options its Flags name.
	Build func(T int, o Options) (Result, error)
}

// Run is the one way to run a pass: it calls Build, adds a note for every
// option that was given but that the pass does not read (so a misdirected
// flag is never dropped silently), and checks the postcondition every pass
// promises, a schedule that validates against T.
func (p *Pass) Run(T int, o Options) (Result, error) {
	if T < 1 {
		return Result{}, errors.New("the model has no blocks")
	}
	r, err := p.Build(T, o)
	if err != nil {
		return Result{}, err
	}
	if err := r.Schedule.Validate(T); err != nil {
		// Too many instances is the user's parameters (a huge --loops),
		// not a bug in the pass: say which parameters.
		var se *schedule.SizeError
		if errors.As(err, &se) {
			return Result{}, fmt.Errorf("%s %s: %w: use a smaller middle or fewer loops", p.Name, r.Params, err)
		}
		return Result{}, fmt.Errorf("internal error: pass %s built an invalid schedule %s: %v", p.Name, r.Schedule, err)
	}
	r.Notes = append(r.Notes, ignored(p.Name, o, p.Flags)...)
	return r, nil
}

// Sweep is how a sweep varies a pass: package sweep plans its variants
// from this, so a new pass says here whether and how it is swept.
type Sweep int

const (
	NotSwept   Sweep = iota // run only by hand
	Reference               // run once, first, in every sweep: the identity that scores normalize by
	OverN                   // one variant per N (the paper's strategies)
	OverNSeeds              // one per N and per seed (--seeds)
	OverNLoops              // one per N and per loop count R (--loops)
	OverBlocks              // one per block, with --probes (the paper's Figure 2)
)

// Swept returns the passes a sweep walks over N, in the order of [All]:
// the paper's six strategies.
func Swept() []*Pass {
	var out []*Pass
	for _, p := range All {
		if p.Sweep >= OverN && p.Sweep <= OverNLoops {
			out = append(out, p)
		}
	}
	return out
}

// Label returns the painterc.pass metadata value: the name, then the
// parameters when there are any.
func (p *Pass) Label(r Result) string {
	if r.Params == "" {
		return p.Name
	}
	return p.Name + " " + r.Params
}

// All lists every pass, from the unmodified model to the paper's strategies
// (Figure 1) to the single-block probes (Figure 2).
var All = []*Pass{
	identityPass,
	skipPass,
	middleRepeatPass,
	reversePass,
	randomPass,
	parallelPass,
	loopedParallelPass,
	skipOnePass,
	swapPass,
}

// Lookup returns the pass with the given name.
func Lookup(name string) (*Pass, error) {
	for _, p := range All {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, len(All))
	for i, p := range All {
		names[i] = p.Name
	}
	return nil, fmt.Errorf("unknown pass %q: the passes are %s", name, strings.Join(names, ", "))
}

// Middle returns the inclusive middle a..b that a paper strategy rewrites.
// With --n N it is N+1..T-N-1 (the paper's code: blocks 0..N and T-N..T-1
// run normally, so M = T-2N-1); --layers A-B gives it directly; with
// neither, N = floor(T/4) and a note says so.
func Middle(T int, o Options) (a, b int, notes []string, err error) {
	if T < 1 {
		return 0, 0, nil, errors.New("the model has no blocks")
	}
	if o.HasN && o.HasLayers {
		hint := ""
		if n := o.N; n >= 0 && n+1 <= T-n-1 {
			hint = fmt.Sprintf(" (--n %d means --layers %d-%d for this model)", n, n+1, T-n-1)
		}
		return 0, 0, nil, fmt.Errorf("--n and --layers both given: use one of them%s", hint)
	}
	if o.HasLayers {
		a, b = o.Layers[0], o.Layers[1]
		for _, x := range []int{a, b} {
			if x < 0 || x >= T {
				return 0, 0, nil, fmt.Errorf("--layers %d-%d: block %d is out of range: the model has %s", a, b, x, schedule.BlockCount(T))
			}
		}
		if a > b {
			return 0, 0, nil, fmt.Errorf("--layers %d-%d: the first block is after the last; the middle runs upwards, so write --layers %d-%d", a, b, b, a)
		}
		return a, b, nil, nil
	}
	n := o.N
	if !o.HasN {
		n = T / 4
	}
	if n < 0 {
		return 0, 0, nil, fmt.Errorf("--n %d: N must be at least 0", n)
	}
	a, b = n+1, T-n-1
	if a > b {
		if T < 2 {
			return 0, 0, nil, fmt.Errorf("the model has %s: no N leaves a middle to rewrite; use --layers 0-0", schedule.BlockCount(T))
		}
		return 0, 0, nil, fmt.Errorf("--n %d leaves no middle in a model with %d blocks (N+1..T-N-1 would be %d-%d): the largest valid N is %d", n, T, a, b, (T-2)/2)
	}
	if !o.HasN {
		notes = append(notes, fmt.Sprintf("no --n or --layers given: using N = floor(T/4) = %d, middle %s (%s)", n, rangeText(a, b), plural(b-a+1, "block")))
	}
	return a, b, notes, nil
}

// middleParams says where the middle came from, canonically: N when it came
// from --n or the default (the middle starts at N+1), the range when it came
// from --layers.
func middleParams(o Options, a, b int) string {
	if o.HasLayers {
		return fmt.Sprintf("layers=%d-%d", a, b)
	}
	return fmt.Sprintf("n=%d", a-1)
}

// newMiddlePass builds a paper strategy: its schedule is 0..a-1, then mid,
// then b+1..T-1, where mid is what the strategy runs instead of the middle
// a..b and may add parameters and notes of its own (extra names its flags,
// sweep how a sweep varies it). It affects the b-a+1 blocks of the middle.
func newMiddlePass(name, doc, paper string, extra []string, sweep Sweep, mid func(a, b int, o Options) (steps []schedule.Step, params string, notes []string, err error)) *Pass {
	flags := append([]string{"n", "layers"}, extra...)
	build := func(T int, o Options) (Result, error) {
		a, b, notes, err := Middle(T, o)
		if err != nil {
			return Result{}, err
		}
		steps, params, more, err := mid(a, b, o)
		if err != nil {
			return Result{}, err
		}
		notes = append(notes, more...)
		var all []schedule.Step
		if a > 0 {
			all = append(all, schedule.Span(0, a-1)...)
		}
		all = append(all, steps...)
		if b < T-1 {
			all = append(all, schedule.Span(b+1, T-1)...)
		}
		if len(all) == 0 {
			return Result{}, fmt.Errorf("%s of the middle %s removes every block of the model: leave at least one block outside the middle", name, rangeText(a, b))
		}
		p := middleParams(o, a, b)
		if params != "" {
			p += " " + params
		}
		return Result{Schedule: schedule.Schedule{Steps: all}, Affected: b - a + 1, Params: p, Notes: notes}, nil
	}
	return &Pass{Name: name, Doc: doc, Paper: paper, Flags: flags, Sweep: sweep, Build: build}
}

// ignored returns a note for each option that was given but that the pass
// does not read.
func ignored(name string, o Options, takes []string) []string {
	var notes []string
	for _, p := range Params {
		if p.given(o) && !slices.Contains(takes, p.Name) {
			notes = append(notes, fmt.Sprintf("%s ignores --%s", name, p.Name))
		}
	}
	return notes
}

func rangeText(a, b int) string {
	if a == b {
		return fmt.Sprint(a)
	}
	return fmt.Sprintf("%d-%d", a, b)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
