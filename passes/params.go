package passes

import (
	"fmt"
	"strconv"
	"strings"
)

// Param is one option a pass may read. The passes name the ones they read
// in [Pass.Flags]; the CLI registers one flag per Param, so a new option is
// one entry here and a new pass declares its options without touching the
// CLI.
type Param struct {
	Name  string // the flag name, without dashes
	Type  string // how the value is written, for help text ("N", "A-B")
	Usage string
	set   func(o *Options, v string) error
	given func(o Options) bool
}

// Params lists every option of every pass.
var Params = []*Param{
	{Name: "n", Type: "N", Usage: "the paper's start layer N: blocks 0..N and T-N..T-1 run normally (default floor(T/4))",
		set:   func(o *Options, v string) (err error) { o.N, err = atoi("n", v); o.HasN = true; return },
		given: func(o Options) bool { return o.HasN }},
	{Name: "layers", Type: "A-B", Usage: "explicit inclusive middle A-B instead of --n",
		set: func(o *Options, v string) error {
			a, b, err := parseLayers(v)
			o.Layers, o.HasLayers = [2]int{a, b}, true
			return err
		},
		given: func(o Options) bool { return o.HasLayers }},
	{Name: "loops", Type: "R", Usage: "looped-parallel: how many times the parallel group runs (default 3)",
		set:   func(o *Options, v string) (err error) { o.Loops, err = atoi("loops", v); o.HasLoops = true; return },
		given: func(o Options) bool { return o.HasLoops || o.Loops != 0 }},
	{Name: "seed", Type: "S", Usage: "random: the shuffle seed (default 0)",
		set: func(o *Options, v string) error {
			s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return fmt.Errorf("--seed %q: want a whole number", v)
			}
			o.Seed = s
			return nil
		},
		given: func(o Options) bool { return o.Seed != 0 }},
	{Name: "index", Type: "I", Usage: "skip-one / swap: the block",
		set:   func(o *Options, v string) (err error) { o.Index, err = atoi("index", v); o.HasIndex = true; return },
		given: func(o Options) bool { return o.HasIndex }},
}

// Set sets the option named by a [Param] from its text form, as a flag
// would.
func (o *Options) Set(name, value string) error {
	for _, p := range Params {
		if p.Name == name {
			return p.set(o, value)
		}
	}
	return fmt.Errorf("no pass takes --%s", name)
}

func atoi(name, v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("--%s %q: want a whole number", name, v)
	}
	return n, nil
}

func parseLayers(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "-")
	x, err1 := strconv.Atoi(strings.TrimSpace(a))
	y, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("--layers %q: want an inclusive range A-B, e.g. --layers 8-24", s)
	}
	return x, y, nil
}
