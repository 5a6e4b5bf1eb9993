package main

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/passes"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/schedule"
)

// planFlags are the flags that choose a schedule: a pass and its
// parameters, or an explicit schedule. Every command that compiles shares
// them. The pass parameters are not listed here: they come from
// passes.Params, so a pass that declares a new one gets its flag for free.
type planFlags struct {
	pass       string
	schedule   string
	opts       passes.Options
	boundaries []string
}

// passParam adapts a passes.Param to pflag: Set fills planFlags.opts.
type passParam struct {
	p *passes.Param
	o *passes.Options
	v string
}

func (pp *passParam) String() string     { return pp.v }
func (pp *passParam) Type() string       { return pp.p.Type }
func (pp *passParam) Set(v string) error { pp.v = v; return pp.o.Set(pp.p.Name, v) }

func (p *planFlags) register(fs *pflag.FlagSet) {
	names := make([]string, len(passes.All))
	for i, ps := range passes.All {
		names[i] = ps.Name
	}
	fs.StringVar(&p.pass, "pass", "", "the `strategy` to apply: "+strings.Join(names, ", ")+" (painterc passes -v describes them)")
	fs.StringVar(&p.schedule, "schedule", "", "explicit schedule, e.g. '0-7,[8-24]x3,25-31'")
	for _, pm := range passes.Params {
		fs.Var(&passParam{p: pm, o: &p.opts}, pm.Name, pm.Usage)
	}
	fs.StringSliceVar(&p.boundaries, "boundaries", nil, "name the residual-stream tensors by hand: t0,t1,...,tT (a fused pair as a+r)")
}

// resolve turns the flags into a schedule for a model with T blocks.
func (p *planFlags) resolve(fs *pflag.FlagSet, T int) (schedule.Schedule, rewrite.Provenance, []string, error) {
	switch {
	case p.pass != "" && p.schedule != "":
		return schedule.Schedule{}, rewrite.Provenance{}, nil, failf(exitUsage, "--pass and --schedule both given: use one")
	case p.schedule != "":
		for _, pm := range passes.Params {
			if fs.Changed(pm.Name) {
				return schedule.Schedule{}, rewrite.Provenance{}, nil, failf(exitUsage, "--%s applies to --pass, not to --schedule", pm.Name)
			}
		}
		s, err := schedule.Parse(p.schedule)
		if err == nil {
			err = s.Validate(T)
		}
		if err != nil {
			return schedule.Schedule{}, rewrite.Provenance{}, nil, fail(exitSchedule, scheduleError(p.schedule, err))
		}
		return s, rewrite.Provenance{Pass: "schedule"}, nil, nil
	case p.pass == "":
		return schedule.Schedule{}, rewrite.Provenance{}, nil, failf(exitUsage, "say what to do: --pass=NAME (see `painterc passes`) or --schedule=STR")
	}
	ps, err := passes.Lookup(p.pass)
	if err != nil {
		return schedule.Schedule{}, rewrite.Provenance{}, nil, fail(exitUsage, err)
	}
	r, err := ps.Run(T, p.opts)
	if err != nil {
		return schedule.Schedule{}, rewrite.Provenance{}, nil, fail(exitSchedule, err)
	}
	return r.Schedule, rewrite.Provenance{Pass: ps.Label(r)}, r.Notes, nil
}
