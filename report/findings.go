package report

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/painterc/painterc/plot"
)

// Verdict is what the results say about one of the paper's findings.
type Verdict string

// The verdicts.
const (
	Holds       Verdict = "holds"
	DoesNotHold Verdict = "does not hold"
	NotEnough   Verdict = "not enough data"
)

// Finding is one of the paper's findings checked against a sweep.
type Finding struct {
	N        int    // 1..6, the order of the list in docs and the report
	Claim    string // the paper's finding, in words
	Rule     string // exactly how it is checked
	Verdict  Verdict
	Evidence string // the numbers behind the verdict
}

// curve is one pass's median-across-tasks score at each M.
type curve map[int]float64

// mainCurves picks, for each pass, its main line from the series: the one
// with the most points, then the shortest label, then the first label.
func mainCurves(series []plot.Series) map[string]curve {
	best := map[string]plot.Series{}
	for _, s := range series {
		b, ok := best[s.Pass]
		if !ok || len(s.Points) > len(b.Points) || len(s.Points) == len(b.Points) && (len(s.Label) < len(b.Label) || len(s.Label) == len(b.Label) && s.Label < b.Label) {
			best[s.Pass] = s
		}
	}
	out := map[string]curve{}
	for p, s := range best {
		c := curve{}
		for _, pt := range s.Points {
			c[int(pt.X)] = pt.Y
		}
		out[p] = c
	}
	return out
}

func sortedMs(c curve) []int {
	var ms []int
	for m := range c {
		ms = append(ms, m)
	}
	sort.Ints(ms)
	return ms
}

// beats compares two passes' median curves at the M both have. It
// returns how many of those M a scores strictly higher, out of how many,
// and the evidence.
func beats(curves map[string]curve, a, b string) (wins, n int, evidence string) {
	ca, cb := curves[a], curves[b]
	var parts []string
	var sa, sb float64
	for _, m := range sortedMs(ca) {
		vb, ok := cb[m]
		if !ok {
			continue
		}
		n++
		va := ca[m]
		if va > vb {
			wins++
		}
		sa += va
		sb += vb
		parts = append(parts, fmt.Sprintf("M=%d: %s vs %s", m, fmtNum(va), fmtNum(vb)))
	}
	if n == 0 {
		return 0, 0, fmt.Sprintf("%s and %s share no M (%s has %s; %s has %s)", a, b, a, msText(ca), b, msText(cb))
	}
	return wins, n, fmt.Sprintf("%s > %s at %d of %d M (mean %s vs %s; %s)", a, b, wins, n, fmtNum(sa/float64(n)), fmtNum(sb/float64(n)), strings.Join(parts, ", "))
}

func msText(c curve) string {
	if len(c) == 0 {
		return "no results"
	}
	var s []string
	for _, m := range sortedMs(c) {
		s = append(s, fmt.Sprint(m))
	}
	return "M = " + strings.Join(s, ", ")
}

// majority is the verdict of "wins of n": holds when more than half.
func majority(wins, n int) Verdict {
	switch {
	case n == 0:
		return NotEnough
	case 2*wins > n:
		return Holds
	}
	return DoesNotHold
}

// extreme checks that pass is, at most M, the lowest (low) or highest of
// all passes present there (ties count for it).
func extreme(curves map[string]curve, pass string, low bool) (Verdict, string) {
	c := curves[pass]
	word := "highest"
	if low {
		word = "lowest"
	}
	var parts []string
	count, n := 0, 0
	for _, m := range sortedMs(c) {
		v := c[m]
		other, otherPass := math.NaN(), ""
		for _, p := range sortedPasses(curves) {
			if p == pass {
				continue
			}
			ov, ok := curves[p][m]
			if !ok {
				continue
			}
			if math.IsNaN(other) || low && ov < other || !low && ov > other {
				other, otherPass = ov, p
			}
		}
		if otherPass == "" {
			continue
		}
		n++
		if low && v <= other || !low && v >= other {
			count++
		}
		parts = append(parts, fmt.Sprintf("M=%d: %s vs %s (%s)", m, fmtNum(v), fmtNum(other), otherPass))
	}
	if n == 0 {
		return NotEnough, fmt.Sprintf("no M where %s and another pass both have results (%s has %s)", pass, pass, msText(c))
	}
	return majority(count, n), fmt.Sprintf("%s is the %s at %d of %d M; %s against the %s other pass: %s", pass, word, count, n, pass, word, strings.Join(parts, ", "))
}

func sortedPasses(curves map[string]curve) []string {
	var ps []string
	for p := range curves {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// Findings checks the paper's six findings against the results of a model
// with T blocks (0 when unknown), using the median across tasks (package
// plot's Curves; random is the mean over seeds of each seed's median).
// Each Finding's Rule says exactly how.
func Findings(results []Result, T int) []Finding {
	rows := Rows(results)
	curves := mainCurves(plot.Curves(rows, plot.Median))
	var out []Finding

	out = append(out, firstLast(results, T))

	v, ev := extreme(curves, "middle-repeat", true)
	out = append(out, Finding{N: 2, Claim: "Middle repeat is the worst strategy.",
		Rule:    "At more than half of the M where middle-repeat and another pass both have results, no other pass has a lower median score.",
		Verdict: v, Evidence: ev})

	f3 := Finding{N: 3, Claim: "Random order beats reverse order, and both beat skipping.",
		Rule: "Each of random > reverse, random > skip and reverse > skip holds at more than half of the M the two passes share (median scores). All three must hold; any pair without a shared M is not enough data."}
	f3.Verdict = Holds
	var evs []string
	for _, pair := range [][2]string{{"random", "reverse"}, {"random", "skip"}, {"reverse", "skip"}} {
		w, n, e := beats(curves, pair[0], pair[1])
		evs = append(evs, e)
		switch majority(w, n) {
		case NotEnough:
			f3.Verdict = NotEnough
		case DoesNotHold:
			if f3.Verdict != NotEnough {
				f3.Verdict = DoesNotHold
			}
		}
	}
	f3.Evidence = strings.Join(evs, ". ")
	out = append(out, f3)

	w, n, e := beats(curves, "parallel", "skip")
	out = append(out, Finding{N: 4, Claim: "Running the middle in parallel beats skipping it.",
		Rule:    "parallel > skip at more than half of the M both have (median scores).",
		Verdict: majority(w, n), Evidence: e})

	v, ev = extreme(curves, "looped-parallel", false)
	out = append(out, Finding{N: 5, Claim: "Looped parallel degrades least.",
		Rule:    "At more than half of the M where looped-parallel and another pass both have results, no other pass has a higher median score.",
		Verdict: v, Evidence: ev})

	out = append(out, orderSensitivity(results))
	return out
}

// firstLast is finding 1, from the skip-one probes.
func firstLast(results []Result, T int) Finding {
	f := Finding{N: 1, Claim: "The first and last blocks matter most; the middle is robust.",
		Rule: "From the skip-one probes (the block a skip-one schedule leaves out): the median-across-tasks score without block 0 and without block T-1 are both below the median of the scores without each middle block 1..T-2."}
	if T < 3 {
		f.Verdict, f.Evidence = NotEnough, "the number of blocks is unknown or below 3 (no schedule gives it)"
		return f
	}
	byBlock := map[int]map[string][]float64{} // skipped block -> task -> scores
	for _, r := range results {
		if r.Pass != "skip-one" {
			continue
		}
		s, _, ok := r.Score()
		if !ok {
			continue
		}
		skipped := -1
		run := r.Blocks()
		for b := range T {
			if run != nil && !slices.Contains(run, b) {
				skipped = b
				break
			}
		}
		if skipped < 0 {
			if idx, ok := r.ParamMap()["index"]; ok {
				fmt.Sscan(idx, &skipped)
			}
		}
		if skipped < 0 || skipped >= T {
			continue
		}
		if byBlock[skipped] == nil {
			byBlock[skipped] = map[string][]float64{}
		}
		byBlock[skipped][r.Task] = append(byBlock[skipped][r.Task], s)
	}
	score := func(b int) (float64, bool) {
		tasks, ok := byBlock[b]
		if !ok {
			return 0, false
		}
		var per []float64
		for _, v := range tasks {
			per = append(per, plot.Mean(v))
		}
		return plot.MedianOf(per), true
	}
	first, okF := score(0)
	last, okL := score(T - 1)
	var middle []float64
	var mids []string
	for b := 1; b < T-1; b++ {
		if v, ok := score(b); ok {
			middle = append(middle, v)
			mids = append(mids, fmt.Sprintf("%d: %s", b, fmtNum(v)))
		}
	}
	if !okF || !okL || len(middle) == 0 {
		var have []string
		for b := range T {
			if _, ok := byBlock[b]; ok {
				have = append(have, fmt.Sprint(b))
			}
		}
		f.Verdict = NotEnough
		f.Evidence = fmt.Sprintf("skip-one probes are needed for block 0, block %d and at least one middle block; the results have them for %s", T-1, orNone(have))
		return f
	}
	mid := plot.MedianOf(middle)
	f.Verdict = DoesNotHold
	if first < mid && last < mid {
		f.Verdict = Holds
	}
	f.Evidence = fmt.Sprintf("without block 0: %s; without block %d: %s; median without a middle block: %s (%s)", fmtNum(first), T-1, fmtNum(last), fmtNum(mid), strings.Join(mids, ", "))
	return f
}

func orList(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return "blocks " + strings.Join(s, ", ")
}

// orderPasses are the passes that change the order of the middle blocks.
var orderPasses = []string{"reverse", "random"}

// orderSensitivity is finding 6.
func orderSensitivity(results []Result) Finding {
	f := Finding{N: 6, Claim: "Math and reasoning tasks are the most sensitive to the order of the blocks.",
		Rule: "Tasks are math or semantic by their row's category field, else by name (see Category). A task's drop is 1 − its score (averaged over seeds) under reverse and random, averaged over the (pass, M) pairs that at least one math and one semantic task both have; a category's drop is the mean of its tasks' drops. Holds when the math drop is larger."}
	type pm struct {
		pass string
		m    int
	}
	// score[task][pm] = scores over seeds
	score := map[string]map[pm][]float64{}
	cat := map[string]string{}
	for _, r := range results {
		if !slices.Contains(orderPasses, r.Pass) {
			continue
		}
		c := Category(r)
		s, _, ok := r.Score()
		if c == "" || !ok {
			continue
		}
		cat[r.Task] = c
		if score[r.Task] == nil {
			score[r.Task] = map[pm][]float64{}
		}
		k := pm{r.Pass, r.Affected}
		score[r.Task][k] = append(score[r.Task][k], s)
	}
	has := map[string]map[pm]bool{"math": {}, "semantic": {}}
	for task, byPM := range score {
		for k := range byPM {
			has[cat[task]][k] = true
		}
	}
	common := map[pm]bool{}
	for k := range has["math"] {
		if has["semantic"][k] {
			common[k] = true
		}
	}
	drops := map[string][]float64{}
	var tasks []string
	for task := range score {
		tasks = append(tasks, task)
	}
	sort.Strings(tasks)
	var per []string
	for _, task := range tasks {
		var d []float64
		for k, v := range score[task] {
			if common[k] {
				d = append(d, 1-plot.Mean(v))
			}
		}
		if len(d) == 0 {
			continue
		}
		drop := plot.Mean(d)
		drops[cat[task]] = append(drops[cat[task]], drop)
		per = append(per, fmt.Sprintf("%s (%s) %s", task, cat[task], fmtNum(drop)))
	}
	if len(drops["math"]) == 0 || len(drops["semantic"]) == 0 {
		f.Verdict = NotEnough
		var found []string
		for _, task := range tasks {
			found = append(found, task+" ("+cat[task]+")")
		}
		f.Evidence = "reverse or random results are needed at a shared M for at least one math and one semantic task; categorized tasks with such results: " + orList(found)
		return f
	}
	m, s := plot.Mean(drops["math"]), plot.Mean(drops["semantic"])
	f.Verdict = DoesNotHold
	if m > s {
		f.Verdict = Holds
	}
	f.Evidence = fmt.Sprintf("mean drop under reverse and random: math %s, semantic %s, over %d shared (pass, M) pairs; per task: %s", fmtNum(m), fmtNum(s), len(common), strings.Join(per, ", "))
	return f
}
