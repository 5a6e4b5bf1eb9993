package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/painterc/painterc/internal/fault"
)

// TestExitCodesFromKinds: every kind of failure has its own documented exit
// code, and an error that reaches main without a cliError gets its kind's
// code, the innermost kind winning.
func TestExitCodesFromKinds(t *testing.T) {
	want := map[fault.Kind]int{
		fault.Internal: 1, fault.Input: 2, fault.Model: 3, fault.Schedule: 4,
		fault.Blocks: 5, fault.Output: 6, fault.Runtime: 7,
	}
	if len(exitCodes) != len(want) {
		t.Errorf("%d kinds mapped, want %d", len(exitCodes), len(want))
	}
	for k, code := range want {
		if got := exitCodes[k]; got != code {
			t.Errorf("kind %v: exit %d, want %d", k, got, code)
		}
		err := fmt.Errorf("scoring: %w", fault.New(fault.Runtime, fault.New(k, errors.New("x"))))
		if got := exitCode(err); got != code {
			t.Errorf("kind %v wrapped in a runtime error: exit %d, want %d", k, got, code)
		}
	}
	if got := exitCode(errors.New("no kind")); got != exitInternal {
		t.Errorf("an error without a kind: exit %d, want %d", got, exitInternal)
	}
}
