package search

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/painterc/painterc/internal/fault"
	"github.com/painterc/painterc/similarity"
)

// Config is one search.
type Config struct {
	T    int  // blocks
	Cost Cost // what each block (and half) costs
	// Screener screens candidates on the calibration windows.
	Screener Screener
	// Analysis is the full model's residual-stream analysis on the same
	// calibration text: Block Influence for ShortGPT, angular distances
	// for Gromov et al.
	Analysis *similarity.Analysis
	// AnalysisTime is what computing Analysis took, charged to ShortGPT
	// and the angular method in the wall-time column.
	AnalysisTime time.Duration
	// Dir is the search directory; screen.jsonl lives there.
	Dir string
	// Salt identifies what a screen depends on besides the schedule: the
	// model's hash and the calibration windows' hash.
	Salt string
	// Seed seeds the random baseline.
	Seed uint64
	Options
}

// Result is what a search found before confirmation.
type Result struct {
	T       int       // the model's blocks
	Budgets []float64 // descending
	// Finalists[f] are budget f's best candidates by KL, best first, then
	// those by NLL that are not already there.
	Finalists map[float64][]*Candidate
	// Baselines[f] are the methods' schedules at budget f, in Methods' order.
	Baselines map[float64][]Baseline
	// Time is each method's wall time to choose its schedules, for every
	// budget together ("search", "shortgpt", "angular", "sleb", "random").
	Time map[string]time.Duration
	// Screened counts the distinct candidates screened, Cached those the
	// store already held.
	Screened, Cached int

	// The screener, its store still open, and the full model's screen:
	// Confirm screens the neighbours of the choosing tasks' best through
	// them. Nil in a Result not made by Run, which Confirm then does not
	// refine.
	r     *screener
	whole *Candidate
}

// Close closes the screening store Run left open for Confirm.
func (res *Result) Close() error {
	if res == nil || res.r == nil {
		return nil
	}
	return res.r.store.close()
}

// seedMethods are the baselines whose schedules join every budget's
// finalists: the label-free rules. The search starts from what its peers
// would run, so the choosing tasks can only find it as good or better
// there; the random baseline is a control, not a rule.
var seedMethods = []string{"shortgpt", "angular", "sleb"}

// Run searches, then computes the baselines at the same budgets.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.T < 2 {
		return nil, fmt.Errorf("the model has %d block(s): a search needs at least 2", cfg.T)
	}
	if len(cfg.Budgets) == 0 {
		return nil, errors.New("no budget: give --budget F (a fraction of the block compute, e.g. 0.75)")
	}
	for _, f := range cfg.Budgets {
		if !(f > 0 && f < 1) {
			return nil, fmt.Errorf("--budget %g: want a fraction of the full model's block compute between 0 and 1, e.g. 0.75", f)
		}
	}
	if cfg.Halves && cfg.Cost.Half == nil {
		return nil, errors.New("sub-block steps asked for, but this layout has no stream between a block's attention and its MLP")
	}
	o := cfg.Options.withDefaults()
	o.Budgets = slices.Clone(cfg.Budgets)
	slices.Sort(o.Budgets)
	slices.Reverse(o.Budgets)
	o.Budgets = slices.Compact(o.Budgets)
	store, err := openScreenStore(filepath.Join(cfg.Dir, ScreenFile), cfg.Salt)
	if err != nil {
		return nil, fault.New(fault.Output, err)
	}
	r := &screener{sc: cfg.Screener, store: store, cost: cfg.Cost, o: o, seen: map[string]*Candidate{}}
	res := &Result{T: cfg.T, Budgets: o.Budgets, Baselines: map[float64][]Baseline{}, Time: map[string]time.Duration{}, r: r}
	ok := false
	defer func() {
		if !ok {
			store.close()
		}
	}()

	t0 := time.Now()
	if res.Finalists, res.whole, err = r.beamSearch(ctx, cfg.T); err != nil {
		return nil, err
	}
	searchTime := time.Since(t0)

	// SLEB screens with its own rule; its candidates are whole-block
	// drops, often screened already by the search, which the time shows.
	t0 = time.Now()
	sleb, err := r.sleb(ctx, cfg.T, o.Budgets)
	if err != nil {
		return nil, err
	}
	res.Time["sleb"] = time.Since(t0)
	res.Time["shortgpt"] = cfg.AnalysisTime
	res.Time["angular"] = cfg.AnalysisTime
	for i, f := range o.Budgets {
		res.Baselines[f] = []Baseline{
			ShortGPT(cfg.Analysis, cfg.Cost, f),
			Angular(cfg.Analysis, cfg.Cost, f),
			sleb[i],
			Random(cfg.T, cfg.Cost, f, cfg.Seed),
		}
	}

	// The rules' schedules join the finalists (screened, for the report's
	// KL column); so the search's time includes the rules' own.
	t0 = time.Now()
	for _, f := range o.Budgets {
		var seeds []state
		var methods []string
		for _, b := range res.Baselines[f] {
			if slices.Contains(seedMethods, b.Method) {
				seeds = append(seeds, keep(cfg.T, b.Dropped))
				methods = append(methods, b.Method)
			}
		}
		cs, err := r.screen(ctx, fmt.Sprintf("seeds %.2f", f), seeds)
		if err != nil {
			return nil, err
		}
		for i, st := range seeds {
			// A schedule the beam found keeps its ranking as its origin.
			switch c := r.seen[st.key()]; {
			case c.Origin == "":
				c.Origin = "seed: " + methods[i]
			case strings.HasPrefix(c.Origin, "seed: "):
				c.Origin += ", " + methods[i]
			}
		}
		res.Finalists[f] = union(res.Finalists[f], cs)
	}
	res.Time["search"] = searchTime + time.Since(t0) + res.Time["sleb"] + cfg.AnalysisTime

	res.Screened, res.Cached = len(r.seen), r.cached
	ok = true
	return res, nil
}
