package sweep

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/painterc/painterc/passes"
)

// DefaultPasses are the passes a sweep walks over N (each declares how, in
// its Sweep): the paper's six strategies (Figure 1), in the order a sweep
// runs them.
var DefaultPasses = sweptNames()

func sweptNames() []string {
	var names []string
	for _, p := range passes.Swept() {
		names = append(names, p.Name)
	}
	return names
}

// DefaultSeeds is how many seeds random runs by default. The paper averages
// 10; three keep a default sweep affordable.
const DefaultSeeds = 3

// DefaultLoops is looped-parallel's R by default, the paper's main setting.
const DefaultLoops = 3

// PlanOptions say which variants a sweep runs.
type PlanOptions struct {
	// Passes are the strategies, each one of DefaultPasses; empty means
	// all six. The identity variant is always planned, once, first.
	Passes []string
	// NFrom..NTo is the inclusive range of the paper's N, walked from NFrom
	// towards NTo (either direction). Without HasN the range is
	// floor(T/2)-1 down to 0, so that M = T-2N-1 grows from 1 (or 2 when T
	// is odd) to T-1.
	NFrom, NTo int
	HasN       bool
	// NList, when not empty, is the N walked, in its order, instead of a
	// range: a grid such as 12,10,8,6,4,2,1 on a deep model, where every N
	// of the range costs more than the findings need.
	NList []int
	// Seeds is how many seeds random runs (0, 1, ..., Seeds-1); 0 means
	// DefaultSeeds.
	Seeds int
	// Loops are the R values looped-parallel runs, one variant each; empty
	// means [DefaultLoops].
	Loops []int
	// Probes adds the skip-one probe of every block (the paper's Figure 2,
	// where the first and last blocks matter most).
	Probes bool
}

// Variant is one planned rewrite of the model.
type Variant struct {
	// Index is the variant's place in the plan; shard i of n runs the
	// variants with Index % n == i (and always the identity, see Run).
	Index int
	// Pass is a passes name ("identity", "skip", ..., "skip-one").
	Pass string
	// Params are the pass's canonical parameters, as painterc.pass records
	// them: "n=2", "n=2 seed=1", "n=2 loops=3", "index=5"; "" for identity.
	Params string
	// Options compile the variant: compile.Options{Pass: v.Pass,
	// PassOptions: v.Options}.
	Options passes.Options
	// Schedule is the canonical schedule the pass produces.
	Schedule string
	// Affected is M, the number of blocks the pass changes, as the pass
	// reports it (passes.Result.Affected): T-2N-1 for a strategy, 0 for the
	// identity, 1 for a skip-one probe.
	Affected int
	// Seed is random's seed; nil for every other pass.
	Seed *int64
	// Given is set for a variant that is its schedule, not a pass's output
	// (a search's finalist or a baseline, Config.Variants): it compiles
	// with compile.Options{Schedule: v.Schedule}, and Pass and Params only
	// name it in the rows.
	Given bool
}

// Label is the variant as painterc.pass writes it: "skip n=2".
func (v Variant) Label() string {
	if v.Params == "" {
		return v.Pass
	}
	return v.Pass + " " + v.Params
}

// Plan lists the variants of a sweep over a model with T blocks: the
// identity, then each pass for each N (random for each seed, looped-parallel
// for each R), then the probes. It refuses a pass that is not one of the
// six strategies, an N outside 0..floor((T-2)/2) (where the middle would be
// empty) and settings that leave a pass nothing to run.
func Plan(T int, o PlanOptions) ([]Variant, error) {
	if T < 2 {
		return nil, fmt.Errorf("the model has %d block(s): a sweep needs at least 2, so that some N leaves a middle to rewrite", T)
	}
	names := o.Passes
	if len(names) == 0 {
		names = DefaultPasses
	}
	seen := map[string]bool{}
	var todo []*passes.Pass
	for _, name := range names {
		p, err := passes.Lookup(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		switch p.Sweep {
		case passes.Reference:
			continue // always planned, once
		case passes.OverN, passes.OverNSeeds, passes.OverNLoops:
		default:
			hint := ""
			if p.Sweep == passes.OverBlocks {
				hint = fmt.Sprintf("; the %s probe of every block runs with --probes", p.Name)
			}
			return nil, fmt.Errorf("pass %s does not apply to a sweep over N: a sweep runs the strategies that rewrite the middle (%s)%s", p.Name, strings.Join(DefaultPasses, ", "), hint)
		}
		if !seen[p.Name] {
			seen[p.Name] = true
			todo = append(todo, p)
		}
	}
	largest := (T - 2) / 2
	from, to := largest, 0
	if o.HasN {
		from, to = o.NFrom, o.NTo
		for _, n := range []int{o.NFrom, o.NTo} {
			if n < 0 || n > largest {
				return nil, fmt.Errorf("--n %d..%d: N = %d is out of range for a model with %d blocks: N must be in 0..%d, so that the middle N+1..T-N-1 keeps at least one block (M = T-2N-1 >= 1)", o.NFrom, o.NTo, n, T, largest)
			}
		}
	}
	var ns []int
	step := 1
	if from > to {
		step = -1
	}
	for n := from; ; n += step {
		ns = append(ns, n)
		if n == to {
			break
		}
	}
	if len(o.NList) > 0 {
		ns = nil
		seenN := map[int]bool{}
		for _, n := range o.NList {
			if n < 0 || n > largest {
				return nil, fmt.Errorf("--n %s: N = %d is out of range for a model with %d blocks: N must be in 0..%d, so that the middle N+1..T-N-1 keeps at least one block (M = T-2N-1 >= 1)", joinInts(o.NList), n, T, largest)
			}
			if seenN[n] {
				return nil, fmt.Errorf("--n %s: N = %d is listed twice: list each N once", joinInts(o.NList), n)
			}
			seenN[n] = true
			ns = append(ns, n)
		}
	}
	seeds := o.Seeds
	if seeds == 0 {
		seeds = DefaultSeeds
	}
	if seeds < 0 {
		return nil, fmt.Errorf("--seeds %d: random needs at least 1 seed", seeds)
	}
	loops := o.Loops
	if len(loops) == 0 {
		loops = []int{DefaultLoops}
	}
	for _, r := range loops {
		if r < 1 {
			return nil, fmt.Errorf("--loops %d: looped-parallel needs R >= 1", r)
		}
	}

	var out []Variant
	add := func(p *passes.Pass, po passes.Options, seed *int64) error {
		res, err := p.Run(T, po)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		out = append(out, Variant{
			Index: len(out), Pass: p.Name, Params: res.Params, Options: po,
			Schedule: res.Schedule.String(), Affected: res.Affected, Seed: seed,
		})
		return nil
	}
	for _, p := range passes.All {
		if p.Sweep == passes.Reference {
			if err := add(p, passes.Options{}, nil); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range todo {
		for _, n := range ns {
			po := passes.Options{N: n, HasN: true}
			switch p.Sweep {
			case passes.OverNSeeds:
				for s := range seeds {
					po.Seed = int64(s)
					seed := int64(s)
					if err := add(p, po, &seed); err != nil {
						return nil, err
					}
				}
			case passes.OverNLoops:
				for _, r := range loops {
					po.Loops, po.HasLoops = r, true
					if err := add(p, po, nil); err != nil {
						return nil, err
					}
				}
			default:
				if err := add(p, po, nil); err != nil {
					return nil, err
				}
			}
		}
	}
	if o.Probes {
		for _, p := range passes.All {
			if p.Sweep != passes.OverBlocks {
				continue
			}
			for i := range T {
				if err := add(p, passes.Options{Index: i, HasIndex: true}, nil); err != nil {
					return nil, err
				}
			}
		}
	}
	if len(out) == 1 {
		return nil, errors.New("the plan holds only the identity: give at least one pass or --probes")
	}
	return out, nil
}

// joinInts writes ns as --n's list form, 4,2,1.
func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
