// Package fault classifies errors by what the user has to fix — an input
// file, the model, the schedule, the output, ONNX Runtime — so that every
// command takes its exit code from the error itself, in one table, and
// never from where the error was raised or from the text of a step's name.
//
// The code that sees a problem knows best what it is: [KindOf] returns the
// kind given nearest the cause, and a caller's wider guess (a whole
// scoring step "is" a runtime failure) fills in only for errors that carry
// no kind of their own.
package fault

import (
	"errors"
	"fmt"
)

// Kind is what went wrong, from the user's side.
type Kind int

const (
	Internal Kind = iota // a bug in painterc; also what an error without a kind is
	Input                // flags, arguments, or an input other than the model (task file, tokenizer, results) is wrong
	Model                // the model cannot be read or is not a valid graph
	Schedule             // the schedule or the pass parameters do not fit the model
	Blocks               // the transformer blocks cannot be found
	Output               // an output cannot be written
	Runtime              // ONNX Runtime is missing or fails, or the model fails while it runs
)

var names = [...]string{"internal", "input", "model", "schedule", "blocks", "output", "runtime"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(names) {
		return names[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is an error with its kind. Its message is the wrapped error's.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New gives err the kind k, unless something nearer the cause already
// gave it one (see [KindOf]). New(k, nil) is nil.
func New(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Err: err}
}

// Errorf is fmt.Errorf with a kind.
func Errorf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Err: fmt.Errorf(format, args...)}
}

// KindOf returns the kind given nearest the cause: the innermost *Error in
// err's chain (following the first of several wrapped errors). An error
// that no one classified is Internal.
func KindOf(err error) Kind {
	k := Internal
	for err != nil {
		var fe *Error
		if !errors.As(err, &fe) {
			break
		}
		k, err = fe.Kind, fe.Err
	}
	return k
}
