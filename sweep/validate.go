package sweep

import (
	"encoding/hex"
	"fmt"

	"github.com/painterc/painterc/internal/clip"
	"github.com/painterc/painterc/schedule"
)

// What a sweep directory's files are checked against when they are read
// back: each number that sizes something (a loop over the shards, the rows
// expected) is bounded before it is used, so a damaged or hostile
// sweep.json cannot make merge allocate without end.
const (
	// MaxShards is the most shards a sweep is split into (--shard i/n).
	MaxShards = 100000
	// maxVariants bounds a plan's variants: far above any plan's (the six
	// passes over every N of a 100000-block model, with seeds).
	maxVariants = 1 << 24
)

// damaged is the advice for a sweep file that fails its checks.
const damaged = "sweep.json is written by painterc sweep; this one is damaged or was edited: rerun the sweep (or the shard) into a new directory"

// check validates a manifest read from path.
func (m *Manifest) check(path string) error {
	bad := func(field string, format string, args ...any) error {
		return fmt.Errorf("%s: field %q %s; %s", path, field, fmt.Sprintf(format, args...), damaged)
	}
	if !isHash(m.ModelHash) {
		return bad("model_hash", "is %s: want a SHA-256 in hex", clip.Quote(m.ModelHash))
	}
	if !isHash(m.PlanHash) {
		return bad("plan_hash", "is %s: want a SHA-256 in hex", clip.Quote(m.PlanHash))
	}
	if m.Blocks < 1 || m.Blocks > schedule.MaxNumber+1 {
		return bad("blocks", "is %d: want 1 to %d", m.Blocks, schedule.MaxNumber+1)
	}
	if m.Variants < 1 || m.Variants > maxVariants {
		return bad("variants", "is %d: want 1 to %d", m.Variants, maxVariants)
	}
	if len(m.Tasks) == 0 {
		return bad("tasks", "is empty: a sweep scores at least one task")
	}
	for name, h := range m.Tasks {
		if name == "" || !isHash(h) {
			return bad("tasks", "maps %s to %s: want task names with the SHA-256 of their files", clip.Quote(name), clip.Quote(h))
		}
	}
	if most := m.Variants * len(m.Tasks); m.RowsPlanned < 0 || m.RowsPlanned > most {
		return bad("rows_planned", "is %d: want 0 to %d (variants × tasks)", m.RowsPlanned, most)
	}
	if s := m.Shard; s != nil && (s.Count < 1 || s.Count > MaxShards || s.Index < 0 || s.Index >= s.Count) {
		return bad("shard", "is index %d of count %d: want a count of 1 to %d and an index of 0 to count-1", s.Index, s.Count, MaxShards)
	}
	if m.MergedShards < 0 || m.MergedShards > MaxShards {
		return bad("merged_shards", "is %d: want 0 to %d", m.MergedShards, MaxShards)
	}
	return nil
}

func isHash(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32
}
