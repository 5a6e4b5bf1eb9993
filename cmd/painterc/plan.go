package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/passes"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/schedule"
)

// cmdPlan prints the schedule a pass would produce, for a model or for a
// block count given with --blocks.
func cmdPlan(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("painterc plan", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var pf planFlags
	pf.register(fs)
	blocks := fs.Int("blocks", 0, "plan for a model with this many blocks instead of reading MODEL")
	if err := fs.Parse(args); err != nil {
		return fail(exitUsage, err)
	}
	o, err := pf.options(fs)
	if err != nil {
		return err
	}
	var (
		sched schedule.Schedule
		prov  rewrite.Provenance
		notes []string
		T     = *blocks
	)
	switch {
	case T > 0 && fs.NArg() == 0:
		if sched, prov, notes, err = compile.Plan(T, o); err != nil {
			return pf.planError(err)
		}
	case T == 0 && fs.NArg() == 1:
		o.Until = "plan"
		r, err := compile.Run(context.Background(), compile.Input{Path: fs.Arg(0)}, o)
		if err != nil {
			return compileError(&pf, err)
		}
		r.Close()
		sched, prov, notes, T = r.Schedule, r.Provenance, r.Notes, r.Blocks.T
	default:
		return failf(exitUsage, "usage: painterc plan --pass=NAME [flags] MODEL, or painterc plan --pass=NAME --blocks T")
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, "painterc:", n)
	}
	fmt.Fprintln(stdout, sched)
	attn, mlp := 0, 0
	for _, st := range sched.Stages() {
		switch st.Part {
		case schedule.Attn:
			attn++
		case schedule.MLP:
			mlp++
		}
	}
	halves := ""
	if attn+mlp > 0 {
		// An MLP half holds no KV slot, so it is no instance.
		halves = fmt.Sprintf(" (%d of them attention halves) and %d MLP halves", attn, mlp)
	}
	fmt.Fprintf(stderr, "painterc: %s on %d blocks: %d block instances%s\n", prov.Pass, T, len(sched.Instances()), halves)
	return nil
}

// cmdPasses lists the passes, one line each, with the flags they read.
func cmdPasses(args []string, stdout io.Writer) error {
	verbose := len(args) == 1 && (args[0] == "-v" || args[0] == "--verbose")
	if len(args) > 0 && !verbose {
		return failf(exitUsage, "usage: painterc passes [-v]")
	}
	width := 0
	for _, p := range passes.All {
		width = max(width, len(p.Name))
	}
	for _, p := range passes.All {
		flags := ""
		for _, f := range p.Flags {
			flags += " --" + f
		}
		fmt.Fprintf(stdout, "%-*s  %s", width, p.Name, p.Doc)
		if flags != "" {
			fmt.Fprintf(stdout, " [%s]", flags[1:])
		}
		fmt.Fprintln(stdout)
		if verbose {
			fmt.Fprintf(stdout, "%*s  paper: %s\n", width, "", p.Paper)
		}
	}
	return nil
}
