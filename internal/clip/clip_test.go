package clip

import (
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	if got := Quote("short"); got != `"short"` {
		t.Errorf("short: %s", got)
	}
	exact := strings.Repeat("é", Max)
	if got := Quote(exact); got != `"`+exact+`"` {
		t.Errorf("exactly Max characters: %s", got)
	}
	long := strings.Repeat("é", 300000)
	want := `"` + strings.Repeat("é", Max) + `…" (600000 bytes)`
	if got := Quote(long); got != want {
		t.Errorf("long: %d characters, want %s", len(got), want[:20])
	}
}
