package fault

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindOf(t *testing.T) {
	base := errors.New("disk on fire")
	for _, tc := range []struct {
		name string
		err  error
		want Kind
	}{
		{"nil", nil, Internal},
		{"no kind", base, Internal},
		{"kind", New(Output, base), Output},
		{"wrapped by fmt", fmt.Errorf("saving: %w", New(Output, base)), Output},
		// The kind nearest the cause wins over a caller's wider one.
		{"inner wins", New(Runtime, fmt.Errorf("scoring: %w", New(Input, base))), Input},
		{"outer fills in", New(Runtime, fmt.Errorf("scoring: %w", base)), Runtime},
		{"joined", errors.Join(Errorf(Schedule, "bad"), New(Model, base)), Schedule},
	} {
		if got := KindOf(tc.err); got != tc.want {
			t.Errorf("%s: KindOf = %v, want %v", tc.name, got, tc.want)
		}
	}
	if New(Model, nil) != nil {
		t.Error("New(k, nil) is not nil")
	}
	if err := Errorf(Input, "task %s: %w", "a", base); err.Error() != "task a: disk on fire" || !errors.Is(err, base) {
		t.Errorf("Errorf: %v", err)
	}
	if s := Kind(42).String(); s != "Kind(42)" {
		t.Errorf("String of an unknown kind: %s", s)
	}
}
