package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/painterc/painterc/report"
)

// cmdReport writes DIR/report.md and its figures from DIR/results.jsonl
// (and the similarity files when present).
func cmdReport(args []string, stdout, stderr io.Writer) error {
	flags := pflag.NewFlagSet("painterc report", pflag.ContinueOnError)
	flags.SetOutput(stderr)
	if err := flags.Parse(args); err != nil {
		return fail(exitUsage, err)
	}
	if flags.NArg() != 1 {
		return failf(exitUsage, "usage: painterc report DIR (a sweep's directory, holding %s)", report.ResultsFile)
	}
	dir := flags.Arg(0)
	path, err := report.Write(dir)
	var we *report.WriteError
	switch {
	case errors.As(err, &we):
		return fail(exitOutput, err)
	case errors.Is(err, fs.ErrNotExist):
		return failf(exitUsage, "%s: no %s there; run the sweep into DIR first, or give the directory that holds it", dir, report.ResultsFile)
	case err != nil:
		return fail(exitUsage, err)
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	fmt.Fprintf(stderr, "painterc: figures are beside it in %s\n", filepath.Clean(dir))
	return nil
}
