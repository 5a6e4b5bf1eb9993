package main

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/passes"
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

// options checks how the flags combine and returns them as the compile
// pipeline's options. Mistakes in the flags themselves are usage errors
// (exit 2); what the plan phase finds wrong with the schedule is exit 4.
func (p *planFlags) options(fs *pflag.FlagSet) (compile.Options, error) {
	switch {
	case p.pass != "" && p.schedule != "":
		return compile.Options{}, failf(exitUsage, "--pass and --schedule both given: use one")
	case p.schedule != "":
		for _, pm := range passes.Params {
			if fs.Changed(pm.Name) {
				return compile.Options{}, failf(exitUsage, "--%s applies to --pass, not to --schedule", pm.Name)
			}
		}
	case p.pass == "":
		return compile.Options{}, failf(exitUsage, "say what to do: --pass=NAME (see `painterc passes`) or --schedule=STR")
	default:
		if _, err := passes.Lookup(p.pass); err != nil {
			return compile.Options{}, fail(exitUsage, err)
		}
	}
	return compile.Options{Schedule: p.schedule, Pass: p.pass, PassOptions: p.opts, Boundaries: p.boundaries}, nil
}

// planError gives a plan-phase error its exit code, and the --schedule
// text in front when the schedule came from that flag.
func (p *planFlags) planError(err error) error {
	if p.schedule != "" {
		return fail(exitSchedule, scheduleError(p.schedule, err))
	}
	return fail(exitSchedule, err)
}
