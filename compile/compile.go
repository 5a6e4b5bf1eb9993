// Package compile owns painterc's pipeline: the phase table that takes a
// model from its file (or from memory) through block detection, planning and
// lowering to the rewritten model, checking the graph after every phase.
// Every command, test and benchmark that compiles calls [Run]; nothing else
// writes the phase sequence out.
//
// The table is shaped like the Go compiler's SSA pass list
// (cmd/compile/internal/ssa/compile.go): each [Phase] has a name, a run
// function, the check that runs after it, and an optional dump, so
// --dump=PHASE, --timings and the verifier all come from one place.
package compile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/painterc/painterc/internal/fault"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/passes"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/schedule"
)

// Input is the model to compile: a file, or a model already in memory.
// Run closes a model it loaded itself (see [Result.Close]) and never
// closes or modifies Input.Model.
type Input struct {
	Path  string
	Model *onnx.Model
}

// Options say what to compile the model into. Exactly one of Schedule and
// Pass is set, unless Until stops before planning.
type Options struct {
	Schedule    string         // an explicit schedule, as --schedule takes it
	Pass        string         // a named pass (package passes)
	PassOptions passes.Options // the pass's parameters
	Boundaries  []string       // --boundaries: the residual stream named by hand

	// Until stops after the named phase ("detect" for inspect, "plan" for
	// plan). Empty runs to the end.
	Until string
	// Output, when set, saves the lowered model there (atomically) in the
	// save phase; otherwise the result stays in memory.
	Output string
	Save   onnx.SaveOptions

	// Dump, when set, names a dump (see [Phase].Dump) to write to DumpTo
	// after its phase.
	Dump   string
	DumpTo io.Writer
}

// Result is what a compile produced.
type Result struct {
	Input      *onnx.Model // the decoded (or given) input
	Blocks     *rewrite.Blocks
	Schedule   schedule.Schedule
	Provenance rewrite.Provenance
	Model      *onnx.Model // the lowered model; nil when Until stopped earlier
	// Streams are the residual stream of each stage of Model's main graph,
	// the one before the first stage included (see [rewrite.Lower]); nil
	// for a merged decoder, whose blocks live inside an If node.
	Streams []rewrite.Stream
	// Notes are what painterc decided for the user (the default N, flags a
	// pass ignored) and what the save wrote beside the output.
	Notes []string
	// DetectNotes are what block detection noticed (-v prints them).
	DetectNotes []string
	Timings     []Timing

	owned bool // Input was loaded by Run, so Close releases it
}

// Timing is one phase's wall time, its check included.
type Timing struct {
	Phase string
	Time  time.Duration
}

// Close releases the input's file mapping when Run loaded it. The lowered
// model may share tensors with the input, so close the result only when
// done with both.
func (r *Result) Close() error {
	if r == nil || !r.owned || r.Input == nil {
		return nil
	}
	return r.Input.Close()
}

// Error is a failed phase: which phase, which input, and why. Err carries
// the phase's [fault.Kind] (see [Phase].Fails), from which the CLI takes its
// exit code; its hint comes from Err's type.
type Error struct {
	Phase string
	Path  string // the input's path (a decoded model's file), or "" for a model built in memory
	Err   error
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// state is what the phases pass along.
type state struct {
	ctx context.Context
	in  Input
	o   Options
	r   *Result
}

// Phase is one step of the pipeline.
type Phase struct {
	Name  string
	Pkg   string // the package that does the work, for the README table
	Does  string // what the phase does, one line
	Check string // what is verified after it, one line
	// Dump names the text dump available after this phase (--dump=NAME),
	// or "" for none.
	Dump string
	// Fails is what a failure of this phase is, unless its error says
	// otherwise: a bad model, blocks not found, a schedule that does not
	// fit, an output that cannot be written, or a bug.
	Fails fault.Kind
	// Skip reports that the phase does not apply (a model from memory is
	// not decoded; nothing is saved without an output path).
	skip  func(*state) bool
	run   func(*state) error
	check func(*state) error
	dump  func(*state) string
}

// Phases is the pipeline, in order.
var Phases = []*Phase{
	{
		Name: "decode", Pkg: "onnx", Does: "read the ModelProto; external data is memory-mapped, never read whole",
		Check: "rewrite.Verify: every input defined before it is read, names unique, outputs produced (decoding itself refuses external data outside the model's directory)",
		Fails: fault.Model,
		skip:  func(s *state) bool { return s.in.Model != nil },
		run: func(s *state) error {
			m, err := onnx.Load(s.in.Path)
			if err != nil {
				return err
			}
			s.r.Input, s.r.owned = m, true
			return nil
		},
		check: func(s *state) error { return rewrite.Verify("decode", s.r.Input) },
	},
	{
		Name: "detect", Pkg: "rewrite", Does: "find the residual stream and assign every node to the prologue, a block or the epilogue",
		Check: "rewrite.VerifyBlocks: every node in exactly one part, T+1 boundaries, T non-empty blocks, one KV slot per block",
		Dump:  "blocks",
		Fails: fault.Blocks,
		run: func(s *state) error {
			b, err := rewrite.Detect(s.r.Input.Graph, rewrite.DetectOptions{Boundaries: s.o.Boundaries})
			if err != nil {
				return err
			}
			s.r.Blocks, s.r.DetectNotes = b, b.Notes
			return nil
		},
		check: func(s *state) error { return rewrite.VerifyBlocks(s.r.Input.Graph, s.r.Blocks) },
		dump:  func(s *state) string { return rewrite.DumpBlocks(s.r.Input.Graph, s.r.Blocks) },
	},
	{
		Name: "plan", Pkg: "passes, schedule", Does: "turn the pass and its flags, or --schedule, into a schedule",
		Check: "Schedule.Validate: every block in range, groups non-empty, at most 100000 instances",
		Dump:  "schedule",
		Fails: fault.Schedule,
		run:   plan,
		check: func(s *state) error {
			if err := s.r.Schedule.Validate(s.r.Blocks.T); err != nil {
				return err
			}
			// A sub-block step (i.attn, i.mlp) needs the block's halves.
			return s.r.Blocks.CheckParts(s.r.Schedule)
		},
		dump: func(s *state) string { return s.r.Schedule.String() + "\n" },
	},
	{
		Name: "lower", Pkg: "rewrite", Does: "clone each block instance with shared weights, fan out and average parallel groups, renumber KV slots",
		Check: "rewrite.Verify on the output graph",
		Dump:  "lowered",
		Fails: fault.Internal, // the schedule was checked: a failure here is a bug
		run: func(s *state) error {
			m, streams, err := rewrite.Lower(s.r.Input, s.r.Blocks, s.r.Schedule, s.r.Provenance)
			if err != nil {
				return fmt.Errorf("lowering schedule %s: %w", s.r.Schedule, err)
			}
			s.r.Model, s.r.Streams = m, streams
			return nil
		},
		check: func(s *state) error { return rewrite.Verify("lower", s.r.Model) },
		dump:  func(s *state) string { return rewrite.Dump(s.r.Model) },
	},
	{
		Name: "save", Pkg: "onnx", Does: "encode to a temporary file, fsync, rename; weights copied kernel-side or referenced",
		Check: "none: the file is the lowered model, byte for byte deterministic",
		Fails: fault.Output,
		skip:  func(s *state) bool { return s.o.Output == "" },
		run: func(s *state) error {
			so := s.o.Save
			var notes []string
			so.Notes = &notes
			if err := onnx.Save(s.o.Output, s.r.Model, so); err != nil {
				return err
			}
			s.r.Notes = append(s.r.Notes, notes...)
			return nil
		},
	},
}

// Lookup returns the phase with the given name.
func Lookup(name string) *Phase {
	for _, p := range Phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Dumps lists the dump names, in phase order.
func Dumps() []string {
	var d []string
	for _, p := range Phases {
		if p.Dump != "" {
			d = append(d, p.Dump)
		}
	}
	return d
}

// Run compiles in, phase by phase, checking after each. On error the
// result so far is released and a *Error says which phase failed.
func Run(ctx context.Context, in Input, o Options) (*Result, error) {
	if (in.Path == "") == (in.Model == nil) {
		return nil, errors.New("compile: give exactly one of Input.Path and Input.Model")
	}
	if o.Until != "" && Lookup(o.Until) == nil {
		return nil, fmt.Errorf("compile: no phase %q", o.Until)
	}
	if o.Dump != "" && !validDump(o.Dump) {
		return nil, fmt.Errorf("compile: no dump %q", o.Dump)
	}
	// Errors name the input, also when it comes decoded: every blocks or
	// schedule error must say which model it is about.
	name := in.Path
	if name == "" {
		name = in.Model.Path()
	}
	s := &state{ctx: ctx, in: in, o: o, r: &Result{Input: in.Model}}
	for _, p := range Phases {
		if err := ctx.Err(); err != nil {
			s.r.Close()
			return nil, err
		}
		if p.skip == nil || !p.skip(s) {
			if err := runPhase(s, p, name); err != nil {
				s.r.Close()
				return nil, err
			}
		}
		// A skipped phase still ends the run when it is the one asked for:
		// Until "decode" on a model from memory stops before detection.
		if p.Name == o.Until {
			break
		}
	}
	return s.r, nil
}

// runPhase runs one phase and its check, records its time, and writes its
// dump when that is the one asked for.
func runPhase(s *state, p *Phase, name string) error {
	start := time.Now()
	err := p.run(s)
	if err == nil && p.check != nil {
		err = p.check(s)
	}
	s.r.Timings = append(s.r.Timings, Timing{Phase: p.Name, Time: time.Since(start)})
	if err != nil {
		return &Error{Phase: p.Name, Path: name, Err: fault.New(p.Fails, err)}
	}
	if p.Dump != "" && p.Dump == s.o.Dump && s.o.DumpTo != nil {
		io.WriteString(s.o.DumpTo, p.dump(s))
	}
	return nil
}

func validDump(name string) bool {
	for _, d := range Dumps() {
		if d == name {
			return true
		}
	}
	return false
}

// plan is the plan phase.
func plan(s *state) error {
	sched, prov, notes, err := Plan(s.r.Blocks.T, s.o)
	if err != nil {
		return err
	}
	s.r.Schedule, s.r.Provenance = sched, prov
	s.r.Notes = append(s.r.Notes, notes...)
	return nil
}

// Plan turns o's pass (through its driver) or explicit schedule into a
// schedule for a model with T blocks. The plan phase calls it; so does
// `painterc plan --blocks T`, which has no model to compile.
func Plan(T int, o Options) (schedule.Schedule, rewrite.Provenance, []string, error) {
	switch {
	case o.Schedule != "" && o.Pass != "":
		return schedule.Schedule{}, rewrite.Provenance{}, nil, errors.New("both a schedule and a pass were given: use one")
	case o.Schedule != "":
		sched, err := schedule.Parse(o.Schedule)
		if err == nil {
			err = sched.Validate(T)
		}
		return sched, rewrite.Provenance{Pass: "schedule"}, nil, err
	case o.Pass != "":
		p, err := passes.Lookup(o.Pass)
		if err != nil {
			return schedule.Schedule{}, rewrite.Provenance{}, nil, err
		}
		res, err := p.Run(T, o.PassOptions)
		if err != nil {
			return schedule.Schedule{}, rewrite.Provenance{}, nil, err
		}
		return res.Schedule, rewrite.Provenance{Pass: p.Label(res)}, res.Notes, nil
	}
	return schedule.Schedule{}, rewrite.Provenance{}, nil, errors.New("nothing to compile into: give a pass or a schedule")
}

// PhaseTable is the README's table of the pipeline, generated from Phases
// so it cannot drift (compile's tests compare the two; -update rewrites
// the README).
func PhaseTable() string {
	var b strings.Builder
	b.WriteString("| phase | package | what it does | checked after it |\n|---|---|---|---|\n")
	for _, p := range Phases {
		name := "`" + p.Name + "`"
		if p.Dump != "" {
			name += " (`--dump=" + p.Dump + "`)"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", name, strings.ReplaceAll(p.Pkg, ", ", "`, `"), p.Does, p.Check)
	}
	return b.String()
}
