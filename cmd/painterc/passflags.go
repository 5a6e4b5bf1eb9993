package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/passes"
	"github.com/painterc/painterc/rewrite"
)

// planFlags are the flags that choose a schedule: a pass and its
// parameters, or an explicit schedule. compile and plan share them.
type planFlags struct {
	pass       string
	schedule   string
	n          int
	layers     string
	loops      int
	seed       int64
	index      int
	boundaries []string
}

func (p *planFlags) register(fs *pflag.FlagSet) {
	names := make([]string, len(passes.All))
	for i, ps := range passes.All {
		names[i] = ps.Name
	}
	fs.StringVar(&p.pass, "pass", "", "the `strategy` to apply: "+strings.Join(names, ", ")+" (painterc passes -v describes them)")
	fs.StringVar(&p.schedule, "schedule", "", "explicit schedule, e.g. '0-7,[8-24]x3,25-31'")
	fs.IntVar(&p.n, "n", 0, "the paper's start layer N: blocks 0..N and T-N..T-1 run normally (default floor(T/4))")
	fs.StringVar(&p.layers, "layers", "", "explicit inclusive middle A-B instead of --n")
	fs.IntVar(&p.loops, "loops", 3, "looped-parallel: how many times the parallel group runs")
	fs.Int64Var(&p.seed, "seed", 0, "random: shuffle seed")
	fs.IntVar(&p.index, "index", 0, "skip-one / swap: the block")
	fs.StringSliceVar(&p.boundaries, "boundaries", nil, "name the residual-stream tensors by hand: t0,t1,...,tT (a fused pair as a+r)")
}

// resolve turns the flags into a schedule for a model with T blocks.
func (p *planFlags) resolve(fs *pflag.FlagSet, T int) (passes.Schedule, rewrite.Provenance, []string, error) {
	switch {
	case p.pass != "" && p.schedule != "":
		return passes.Schedule{}, rewrite.Provenance{}, nil, failf(exitUsage, "--pass and --schedule both given: use one")
	case p.schedule != "":
		for _, f := range []string{"n", "layers", "loops", "seed", "index"} {
			if fs.Changed(f) {
				return passes.Schedule{}, rewrite.Provenance{}, nil, failf(exitUsage, "--%s applies to --pass, not to --schedule", f)
			}
		}
		s, err := passes.Parse(p.schedule)
		if err == nil {
			err = s.Validate(T)
		}
		if err != nil {
			return passes.Schedule{}, rewrite.Provenance{}, nil, fail(exitSchedule, scheduleError(p.schedule, err))
		}
		return s, rewrite.Provenance{Pass: "schedule"}, nil, nil
	case p.pass == "":
		return passes.Schedule{}, rewrite.Provenance{}, nil, failf(exitUsage, "say what to do: --pass=NAME (see `painterc passes`) or --schedule=STR")
	}
	ps, err := passes.Lookup(p.pass)
	if err != nil {
		return passes.Schedule{}, rewrite.Provenance{}, nil, fail(exitUsage, err)
	}
	o := passes.Options{Seed: p.seed, Loops: p.loops, HasLoops: fs.Changed("loops")}
	if fs.Changed("n") {
		o.N, o.HasN = p.n, true
	}
	if fs.Changed("index") {
		o.Index, o.HasIndex = p.index, true
	}
	if fs.Changed("layers") {
		a, b, err := parseLayers(p.layers)
		if err != nil {
			return passes.Schedule{}, rewrite.Provenance{}, nil, fail(exitUsage, err)
		}
		o.Layers, o.HasLayers = [2]int{a, b}, true
	}
	if !o.HasLoops {
		o.Loops = 0
	}
	r, err := ps.Run(T, o)
	if err != nil {
		return passes.Schedule{}, rewrite.Provenance{}, nil, fail(exitSchedule, err)
	}
	return r.Schedule, rewrite.Provenance{Pass: ps.Label(r)}, r.Notes, nil
}

func parseLayers(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "-")
	x, err1 := strconv.Atoi(strings.TrimSpace(a))
	y, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("--layers %q: want an inclusive range A-B, e.g. --layers 8-24", s)
	}
	return x, y, nil
}
