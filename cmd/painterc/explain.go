package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/schedule"
)

// The messages of docs/errors.md: each says what is wrong, where, and what
// to do. The codec and the verifier say the first two; the hints below add
// the third where the user has to act.

const (
	hintTruncated = "the file ends early, so it is probably truncated (an interrupted download or copy): fetch or export it again"
	hintNotONNX   = "check that this is the .onnx model file (a serialized ModelProto), not its external data or another format, and that it is intact"
	hintDataGone  = "copy the data file into the model's directory under that name (external data locations are relative to the model file)"
	hintDataShort = "the data file is truncated or belongs to another model: copy it again together with the model"
	hintDataAway  = "put the model and its data file in one directory, with the location relative to the model (as ONNX itself requires)"
	hintGraph     = "painterc rewrites only valid graphs: fix the exporter or export the model again (onnx.checker.check_model reports the same)"
	hintDiskFull  = "the disk is full or a file size limit (ulimit -f) was reached: free some space or write elsewhere; painterc removed its partial output"
)

// explainLoad adds what to do to onnx.Load's errors.
func explainLoad(err error) error {
	var de *onnx.DecodeError
	if errors.As(err, &de) {
		hint := hintNotONNX
		// A top-level ModelProto field that runs past the end of the file:
		// the file is cut short. (An unknown field doing so is noise.)
		if len(de.Path) == 0 && de.FieldName != "" && (strings.Contains(de.Msg, "runs past the end of the input") || strings.HasPrefix(de.Msg, "truncated")) {
			hint = hintTruncated
		}
		return fmt.Errorf("%w; %s", err, hint)
	}
	if strings.HasSuffix(err.Error(), "not an ONNX model (no graph)") {
		return fmt.Errorf("%w; %s", err, hintNotONNX)
	}
	var xe *onnx.ExternalDataError
	if errors.As(err, &xe) {
		switch xe.Problem {
		case onnx.ExternalMissing:
			return fmt.Errorf("%w; %s", err, hintDataGone)
		case onnx.ExternalShort:
			return fmt.Errorf("%w; %s", err, hintDataShort)
		case onnx.ExternalOutside:
			return fmt.Errorf("%w; %s", err, hintDataAway)
		}
	}
	return err
}

// invalidGraph reports the problems Verify found in a decoded model: one
// line for one problem, else a first line and one line per problem.
func invalidGraph(path string, ve *rewrite.VerifyError) error {
	lines := ve.Lines(true)
	if len(ve.Problems) == 1 {
		return fmt.Errorf("%s: invalid graph: %s; %s", path, lines[0], hintGraph)
	}
	return fmt.Errorf("%s: invalid graph, %d problems (%s):\n  %s", path, len(ve.Problems), hintGraph, strings.Join(lines, "\n  "))
}

// explainSave adds what to do to onnx.Save's errors.
func explainSave(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EFBIG), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%w; %s", err, hintDiskFull)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w; choose an output directory you can write to", err)
	}
	return err
}

// scheduleError says which flag the schedule came from: --schedule "0-8":
// column 3: block 8 is out of range... The schedule package's errors carry
// the column and the message as fields, so nothing is parsed back here.
func scheduleError(src string, err error) error {
	var pe *schedule.ParseError
	var se *schedule.StepError
	switch {
	case errors.As(err, &pe):
		return fmt.Errorf("--schedule %q: column %d: %s", src, pe.Col, pe.Msg)
	case errors.As(err, &se) && se.Col > 0:
		return fmt.Errorf("--schedule %q: column %d: %s", src, se.Col, se.Msg)
	case errors.As(err, &se):
		return fmt.Errorf("--schedule %q: %s", src, se.Msg)
	}
	return fmt.Errorf("--schedule %q: %w", src, err)
}
