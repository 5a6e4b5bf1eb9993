package corpus

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Task kinds, as in painterc's eval package.
const (
	KindMultipleChoice = "multiple_choice"
	KindLoglikelihood  = "loglikelihood"
	KindGenerate       = "generate"
	KindRolling        = "rolling"
)

// Header is the first line of a task file.
type Header struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Baseline float64  `json:"baseline"`
	Until    []string `json:"until,omitempty"`
	MaxGen   int      `json:"max_gen_toks,omitempty"`
	About    string   `json:"description,omitempty"`
	// Category is "semantic" (facts and stories) or "math" (arithmetic,
	// counting, sorting, state), the paper's split of its benchmarks.
	Category string `json:"category,omitempty"`
}

// Doc is one task item; the fields used depend on the kind.
type Doc struct {
	Context string   `json:"context,omitempty"`
	Choices []string `json:"choices,omitempty"`
	Gold    *int     `json:"gold,omitempty"`
	Target  string   `json:"target,omitempty"`
	Answer  string   `json:"answer,omitempty"`
	Text    string   `json:"text,omitempty"`
}

// Task is a header and its documents.
type Task struct {
	Header Header
	Docs   []Doc
}

// Write writes t as JSONL: {"task": header} then one doc per line.
func (t *Task) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]Header{"task": t.Header}); err != nil {
		return err
	}
	for _, d := range t.Docs {
		if err := enc.Encode(d); err != nil {
			return err
		}
	}
	return nil
}

// mc builds a multiple-choice doc from gold and distractors, shuffling.
func (g *Generator) mc(ctx, gold string, distract []string) Doc {
	choices := append([]string{gold}, distract...)
	perm := g.r.Perm(len(choices))
	out := make([]string, len(choices))
	gi := 0
	for i, p := range perm {
		out[i] = choices[p]
		if p == 0 {
			gi = i
		}
	}
	return Doc{Context: ctx, Choices: out, Gold: &gi}
}

// distinct draws n values from pool, all different from each other and from avoid.
func (g *Generator) distinct(pool []string, n int, avoid ...string) []string {
	seen := map[string]bool{}
	for _, a := range avoid {
		seen[a] = true
	}
	var out []string
	for _, i := range g.r.Perm(len(pool)) {
		if len(out) == n {
			break
		}
		if !seen[pool[i]] {
			seen[pool[i]] = true
			out = append(out, pool[i])
		}
	}
	if len(out) < n {
		panic("corpus: pool too small")
	}
	return out
}

// majority is the share of the most frequent answer: the score of a
// guesser that always gives the most common answer.
func majority(answers []string) float64 {
	c := map[string]int{}
	best := 0
	for _, a := range answers {
		c[a]++
		if c[a] > best {
			best = c[a]
		}
	}
	if len(answers) == 0 {
		return 0
	}
	return float64(best) / float64(len(answers))
}

// FactsMC asks every (person, attribute, template) stored fact.
func (g *Generator) FactsMC() *Task {
	t := &Task{Header: Header{Name: "facts_mc", Category: "semantic", Kind: KindMultipleChoice, Baseline: 0.25,
		About: "facts about the world's people stated in training text; 4 choices"}}
	for _, p := range g.W.People {
		for a := Attribute(0); a < numAttrs; a++ {
			for _, tmpl := range factPrefixes[a] {
				gold := p.Get(a)
				t.Docs = append(t.Docs, g.mc(fill(tmpl, p.Name), gold, g.distinct(g.W.Candidates(a), 3, gold)))
			}
		}
	}
	return t
}

// FactsLambada: unrelated facts, then a story sentence ending on a stored fact.
func (g *Generator) FactsLambada(n int) *Task {
	t := &Task{Header: Header{Name: "facts_lambada", Category: "semantic", Kind: KindLoglikelihood,
		About: "story sentence whose last word is a stored fact; greedy match"}}
	var answers []string
	for i := 0; i < n; i++ {
		p := g.W.People[i%len(g.W.People)]
		a := Attribute((i / len(g.W.People)) % int(numAttrs))
		var pre []string
		for j := 0; j < 1+g.r.IntN(2); j++ {
			q := g.person()
			pre = append(pre, g.factSentence(q, Attribute(g.r.IntN(int(numAttrs))), true))
		}
		ctx := strings.Join(pre, " ") + " " + fill(g.pick(storyPrefixes[a]), p.Name)
		t.Docs = append(t.Docs, Doc{Context: ctx, Target: " " + p.Get(a)})
		answers = append(answers, p.Get(a))
	}
	t.Header.Baseline = majority(answers)
	return t
}

// ContextMC: facts given in context; the choices include the other colors given.
func (g *Generator) ContextMC(n int) *Task {
	t := &Task{Header: Header{Name: "context_mc", Category: "semantic", Kind: KindMultipleChoice, Baseline: 0.25,
		About: "fresh facts stated earlier in the same text; distractors include the other stated colors"}}
	for i := 0; i < n; i++ {
		ctx, gold, given := g.contextFact()
		var d []string
		for _, c := range given {
			if c != gold && len(d) < 3 {
				d = append(d, c)
			}
		}
		d = append(d, g.distinct(Colors, 3-len(d), append(given, gold)...)...)
		t.Docs = append(t.Docs, g.mc(ctx, gold, d))
	}
	return t
}

// StateLambada: where is the object after the moves.
func (g *Generator) StateLambada(n int) *Task {
	t := &Task{Header: Header{Name: "state_lambada", Category: "math", Kind: KindLoglikelihood,
		About: "an object moved between colored boxes; the last box's color; greedy match"}}
	var answers []string
	for i := 0; i < n; i++ {
		ctx, a := g.boxState()
		t.Docs = append(t.Docs, Doc{Context: ctx, Target: " " + a})
		answers = append(answers, a)
	}
	t.Header.Baseline = majority(answers)
	return t
}

// numDistractors: three wrong answers near v (carry and digit slips).
func (g *Generator) numDistractors(v int) []string {
	seen := map[int]bool{v: true}
	var out []string
	cands := []int{v + 1, v - 1, v + 10, v - 10, v + 2, v - 2, v + 11, v - 9, v + 9, v - 11, v + 20, v - 20}
	for _, i := range g.r.Perm(len(cands)) {
		c := cands[i]
		if c >= 0 && !seen[c] && len(out) < 3 {
			seen[c] = true
			out = append(out, Num(c))
		}
	}
	return out
}

// ArithMC: held-out operand pairs; distractors are near misses.
func (g *Generator) ArithMC(n int, sub bool) *Task {
	name, op := "add_mc", "addition"
	if sub {
		name, op = "sub_mc", "subtraction"
	}
	t := &Task{Header: Header{Name: name, Category: "math", Kind: KindMultipleChoice, Baseline: 0.25,
		About: "two-digit " + op + ", numbers least-significant digit first, operand pairs held out of training; near-miss distractors"}}
	for i := 0; i < n; i++ {
		a, b := g.arithPair(sub, true)
		e, v := equation(a, b, sub)
		t.Docs = append(t.Docs, g.mc(e, Num(v), g.numDistractors(v)))
	}
	return t
}

// Problems: GSM8K-style generation.
func (g *Generator) Problems(n int) *Task {
	t := &Task{Header: Header{Name: "problems_gen", Category: "math", Kind: KindGenerate, Until: []string{"\n"}, MaxGen: 64,
		About: "multi-step word problems; the answer after #### is least-significant digit first"}}
	var answers []string
	for i := 0; i < n; i++ {
		q, a, _ := g.wordProblem()
		t.Docs = append(t.Docs, Doc{Context: q, Answer: strings.TrimPrefix(a, " ")})
		answers = append(answers, a[strings.LastIndex(a, "#### "):])
	}
	t.Header.Baseline = majority(answers)
	return t
}

// CountMC: how many times a word occurs; choices are counts.
func (g *Generator) CountMC(n int) *Task {
	t := &Task{Header: Header{Name: "count_mc", Category: "math", Kind: KindMultipleChoice, Baseline: 0.25,
		About: "count one word in a list; 4 choices"}}
	for i := 0; i < n; i++ {
		ctx, c := g.countQ()
		var pool []string
		for k := 0; k <= 8; k++ {
			if k != c && k >= c-3 && k <= c+3 {
				pool = append(pool, Num(k))
			}
		}
		t.Docs = append(t.Docs, g.mc(ctx, Num(c), g.distinct(pool, 3)))
	}
	return t
}

// SortMC: the sorted list against three other orderings of the same digits.
func (g *Generator) SortMC(n int) *Task {
	t := &Task{Header: Header{Name: "sort_mc", Category: "math", Kind: KindMultipleChoice, Baseline: 0.25,
		About: "sort 3-5 digits; distractors are other orderings of the same digits"}}
	for len(t.Docs) < n {
		ctx, ys := g.sortQ()
		gold := digits(ys)
		seen := map[string]bool{gold: true}
		var d []string
		for tries := 0; len(d) < 3 && tries < 100; tries++ {
			zs := append([]int(nil), ys...)
			g.r.Shuffle(len(zs), func(i, j int) { zs[i], zs[j] = zs[j], zs[i] })
			s := digits(zs)
			if !seen[s] {
				seen[s] = true
				d = append(d, s)
			}
		}
		if len(d) < 3 {
			continue // too many repeated digits for three other orders
		}
		t.Docs = append(t.Docs, g.mc(ctx, gold, d))
	}
	return t
}

// Rolling: held-out documents for perplexity.
func (g *Generator) Rolling(n int) *Task {
	t := &Task{Header: Header{Name: "valid_rolling", Kind: KindRolling,
		About: "held-out documents of the training distribution; perplexity"}}
	for i := 0; i < n; i++ {
		t.Docs = append(t.Docs, Doc{Text: g.Doc()})
	}
	return t
}

// AllTasks builds every task, each from its own random stream.
func AllTasks(w *World, seed uint64, n int) []*Task {
	gen := func(s uint64) *Generator { return NewGenerator(w, seed, 100+s) }
	return []*Task{
		gen(1).FactsMC(),
		gen(2).FactsLambada(n),
		gen(3).ContextMC(n),
		gen(4).StateLambada(n),
		gen(5).ArithMC(n, false),
		gen(6).ArithMC(n, true),
		gen(7).Problems(n),
		gen(8).CountMC(n),
		gen(9).SortMC(n),
		gen(10).Rolling(n),
	}
}

// WriteDocs writes n documents separated by blank lines.
func WriteDocs(w io.Writer, g *Generator, n int) error {
	for i := 0; i < n; i++ {
		if _, err := fmt.Fprintf(w, "%s\n\n", g.Doc()); err != nil {
			return err
		}
	}
	return nil
}
