package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/eval/importers"
)

// cmdTasks is "painterc tasks": task files from the original datasets.
func cmdTasks(args []string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "import":
		return cmdTasksImport(args[1:], stdout, stderr)
	case "list":
		return cmdTasksList(stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, tasksUsage)
		return nil
	}
	fmt.Fprint(stderr, tasksUsage)
	if sub == "" {
		return failf(exitUsage, "painterc tasks needs a subcommand: import or list")
	}
	return failf(exitUsage, "unknown subcommand %q of painterc tasks: want import or list", sub)
}

const tasksUsage = `usage:
  painterc tasks list                                          the benchmarks import knows
  painterc tasks import --benchmark NAME INPUT -o OUT.jsonl    a task file from a dataset split

INPUT is the split lm-eval scores (painterc tasks list says which), as the
Hugging Face datasets library exports it: Dataset.to_json (JSON Lines) or a
JSON array of its records. The task file carries lm-eval's prompts; see
docs/tasks.md.
`

func cmdTasksList(stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tkind\tdataset\tsplit\tfields read")
	for _, b := range importers.Benchmarks() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.Name, b.Header.Kind, b.Dataset, b.Split, strings.Join(b.Fields, ", "))
	}
	return tw.Flush()
}

func cmdTasksImport(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("painterc tasks import", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	bench := fs.String("benchmark", "", "the benchmark (painterc tasks list)")
	out := fs.StringP("output", "o", "", "the task file to write (JSON Lines)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: painterc tasks import --benchmark NAME INPUT -o OUT.jsonl\n\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		return fail(exitUsage, err)
	}
	if fs.NArg() != 1 {
		return failf(exitUsage, "want exactly one input file, got %d arguments; usage: painterc tasks import --benchmark NAME INPUT -o OUT.jsonl", fs.NArg())
	}
	if *bench == "" {
		return failf(exitUsage, "no benchmark: add --benchmark NAME (painterc tasks list shows the names)")
	}
	if *out == "" {
		return failf(exitUsage, "no output: add -o OUT.jsonl")
	}
	b, err := importers.Lookup(*bench)
	if err != nil {
		return fail(exitUsage, err)
	}
	in := fs.Arg(0)
	if sameFile(in, *out) {
		return failf(exitUsage, "-o %s is the input: painterc never writes over its input; choose another output file", *out)
	}
	if err := checkWritable("-o", *out); err != nil {
		return err
	}
	f, err := os.Open(in)
	if err != nil {
		return failf(exitUsage, "reading %s: %v", in, unwrapPath(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return failf(exitUsage, "%s is a directory: give the dataset file (JSON Lines)", in)
	}
	rows, err := importers.ReadRows(in, f)
	if err != nil {
		return fail(exitUsage, err)
	}
	task, err := b.Convert(rows, in)
	if err != nil {
		var re *importers.RowError
		if errors.As(err, &re) {
			return fail(exitUsage, err)
		}
		return fail(exitInternal, err)
	}
	if err := writeAtomic(*out, task.Write); err != nil {
		return fail(exitOutput, explainSave(err))
	}
	fmt.Fprintf(stderr, "painterc: %s: %d documents from %d records of %s\n", *out, len(task.Docs), len(rows), in)
	return nil
}

// sameFile reports whether a and b name the same file (or the same path,
// when b does not exist yet).
func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	aa, _ := filepath.Abs(a)
	bb, _ := filepath.Abs(b)
	return aa == bb
}
