// Command painterc rewrites the decoder blocks of an ONNX transformer the way
// "Transformer Layers as Painters" (Sun et al., 2024) does with PyTorch hooks:
// skip, repeat, reverse, shuffle, or run the middle blocks in parallel.
//
//	painterc --pass=looped-parallel model.onnx -o out.onnx
//	painterc --schedule='0-7,[8-24]x3,25-31' model.onnx -o out.onnx
//	painterc plan --pass=reverse model.onnx
//	painterc passes
//	painterc inspect model.onnx [--json]
//	painterc run model.onnx --input input_ids=ids.npy --out outdir
//	painterc tokenize --tokenizer tokenizer.json < texts.jsonl
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/internal/fault"
)

// Exit codes, documented in docs/errors.md. Scripts may rely on them.
const (
	exitOK       = 0
	exitInternal = 1 // a bug in painterc
	exitUsage    = 2 // bad flags or arguments
	exitModel    = 3 // the input model cannot be read or is not valid ONNX
	exitSchedule = 4 // the schedule or pass parameters are wrong for this model
	exitBlocks   = 5 // the transformer blocks cannot be found
	exitOutput   = 6 // the output cannot be written
	exitRuntime  = 7 // ONNX Runtime is missing, mismatched, or cannot run the model
)

// exitCodes maps what went wrong (the error's [fault.Kind]) to the exit
// code: the one place an error from a package becomes a number.
var exitCodes = map[fault.Kind]int{
	fault.Internal: exitInternal,
	fault.Input:    exitUsage,
	fault.Model:    exitModel,
	fault.Schedule: exitSchedule,
	fault.Blocks:   exitBlocks,
	fault.Output:   exitOutput,
	fault.Runtime:  exitRuntime,
}

// exitCode is the exit code for err's kind.
func exitCode(err error) int { return exitCodes[fault.KindOf(err)] }

// failByKind gives err the exit code of its kind.
func failByKind(err error) error { return fail(exitCode(err), err) }

// cliError carries an exit code with the message for the user.
type cliError struct {
	code int
	err  error
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

func fail(code int, err error) error { return &cliError{code: code, err: err} }

func failf(code int, format string, args ...any) error {
	return &cliError{code: code, err: fmt.Errorf(format, args...)}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: tests call it directly.
func run(args []string, stdout, stderr io.Writer) int {
	var err error
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "passes":
		err = cmdPasses(args[1:], stdout)
	case "plan":
		err = cmdPlan(args[1:], stdout, stderr)
	case "inspect":
		err = cmdInspect(args[1:], stdout, stderr)
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "sweep":
		err = cmdSweep(args[1:], stdout, stderr)
	case "search":
		err = cmdSearch(args[1:], stdout, stderr)
	case "similarity":
		err = cmdSimilarity(args[1:], stdout, stderr)
	case "report":
		err = cmdReport(args[1:], stdout, stderr)
	case "score":
		err = cmdScore(args[1:], stdout, stderr)
	case "tasks":
		err = cmdTasks(args[1:], stdout, stderr)
	case "tokenize":
		err = cmdTokenize(args[1:], os.Stdin, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "painterc", version)
	case "help", "-h", "--help":
		usage(stdout)
		fmt.Fprintln(stdout, "\nflags of the rewrite (painterc --pass=NAME MODEL -o OUT):")
		fmt.Fprint(stdout, compileFlags().fs.FlagUsages())
	case "":
		usage(stderr)
		return exitUsage
	default:
		err = cmdCompile(args, stdout, stderr)
	}
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return exitOK // --help printed the command's flags
	}
	fmt.Fprintln(stderr, "painterc:", err)
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitCode(err)
}

const version = "0.1.0"

func usage(w io.Writer) {
	fmt.Fprint(w, `painterc rewrites the decoder blocks of an ONNX transformer
("Transformer Layers as Painters", arXiv 2407.09298).

usage:
  painterc --pass=NAME [pass flags] MODEL -o OUT    rewrite with a named strategy
  painterc --schedule=STR MODEL -o OUT              rewrite with an explicit schedule
  painterc plan --pass=NAME [pass flags] MODEL      print the schedule a pass would use
  painterc passes                                   list the passes
  painterc inspect MODEL [--json]                   describe a model and its blocks
  painterc run MODEL --input NAME=FILE.npy --out DIR  run a model on ONNX Runtime
  painterc sweep MODEL --task FILE --out DIR        every strategy at every N, resumable (sweep merge DIR)
  painterc similarity MODEL --task FILE --out DIR   layer similarity, Block Influence, angular distance
  painterc search MODEL --budget F --choose-task FILE --task FILE --calib FILE --out DIR
                                                    the best schedule under a compute budget, against ShortGPT, angular distance, SLEB
  painterc report DIR                               report.md and figures from DIR/results.jsonl
  painterc score MODEL --task FILE [--pass=NAME]    score a model or a variant as lm-eval does
  painterc tasks import --benchmark NAME DATA -o OUT.jsonl
                                                    a task file with lm-eval's prompts from a dataset split
  painterc tokenize --tokenizer PATH [--no-special] [--decode]
                                                    JSONL text <-> token ids (Hugging Face tokenizer.json)
  painterc version

Run "painterc passes" for the strategies; "painterc COMMAND --help" shows a
command's flags.
`)
}
