package corpus

import (
	"math/rand/v2"
	"sort"
	"strings"
)

// Generator writes documents of one world.
type Generator struct {
	W *World
	r *rand.Rand
}

// NewGenerator returns a generator whose documents depend only on (seed, stream).
func NewGenerator(w *World, seed, stream uint64) *Generator {
	return &Generator{W: w, r: newRand(seed, stream)}
}

func (g *Generator) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g *Generator) person() Person { return g.W.People[g.r.IntN(len(g.W.People))] }

// sentence joins words and ends with " .".
func sentence(parts ...string) string { return strings.Join(parts, " ") + " ." }

// FactSentence is one statement of a stored fact.
func (g *Generator) factSentence(p Person, a Attribute, story bool) string {
	ts := factPrefixes[a]
	if story {
		ts = storyPrefixes[a]
	}
	return sentence(fill(g.pick(ts), p.Name), p.Get(a))
}

// Story: a few people and their facts, fact and story sentences mixed.
func (g *Generator) Story() string {
	var out []string
	n := 1 + g.r.IntN(3)
	for i := 0; i < n; i++ {
		p := g.person()
		attrs := g.r.Perm(int(numAttrs))
		k := 2 + g.r.IntN(3)
		for _, a := range attrs[:k] {
			out = append(out, g.factSentence(p, Attribute(a), g.r.IntN(2) == 0))
		}
	}
	return strings.Join(out, " ")
}

// contextFacts returns 2-4 fresh "name has a color thing" facts, the names
// and their colors, all distinct.
func (g *Generator) contextFacts() (names, colors []string, thing string, text string) {
	n := 2 + g.r.IntN(3)
	thing = g.pick(Things)
	ni := g.r.Perm(len(g.W.Short))[:n]
	ci := g.r.Perm(len(Colors))[:n]
	var s []string
	for i := 0; i < n; i++ {
		names = append(names, g.W.Short[ni[i]])
		colors = append(colors, Colors[ci[i]])
		s = append(s, sentence(names[i], "has a", colors[i], thing))
	}
	return names, colors, thing, strings.Join(s, " ")
}

// ContextFact: facts given in the text, then asked about. Returns the
// document prefix up to the answer, and the answer.
func (g *Generator) contextFact() (string, string, []string) {
	names, colors, thing, text := g.contextFacts()
	q := g.r.IntN(len(names))
	return text + " the " + thing + " of " + names[q] + " is", colors[q], colors
}

// ContextDoc is a training document of in-context facts.
func (g *Generator) ContextDoc() string {
	var s []string
	for i := 0; i < 1+g.r.IntN(2); i++ {
		p, a, _ := g.contextFact()
		s = append(s, p+" "+a+" .")
	}
	return strings.Join(s, " ")
}

// boxState: an object moved between colored boxes; returns prefix, answer.
func (g *Generator) boxState() (string, string) {
	obj := g.pick([]string{"ball", "key", "ring", "coin"})
	moves := 1 + g.r.IntN(3)
	cur := g.pick(Colors)
	s := []string{sentence("the", obj, "is in the", cur, "box")}
	for i := 0; i < moves; i++ {
		next := cur
		for next == cur {
			next = g.pick(Colors)
		}
		who := g.pick(g.W.Short)
		if i > 0 {
			s = append(s, sentence("then", who, "moves the", obj, "to the", next, "box"))
		} else {
			s = append(s, sentence(who, "moves the", obj, "to the", next, "box"))
		}
		cur = next
	}
	return strings.Join(s, " ") + " now the " + obj + " is in the", cur
}

// StateDoc is a training document of box moves.
func (g *Generator) StateDoc() string {
	p, a := g.boxState()
	return p + " " + a + " box ."
}

// arithPair draws operands a, b in 0..99 (small ones more often); a >= b
// for subtraction. held selects pairs reserved for the tasks.
func (g *Generator) arithPair(sub, held bool) (int, int) {
	for {
		var a, b int
		if g.r.IntN(4) == 0 {
			a, b = g.r.IntN(10), g.r.IntN(100)
		} else {
			a, b = g.r.IntN(100), g.r.IntN(100)
		}
		if g.r.IntN(2) == 0 {
			a, b = b, a
		}
		if sub && a < b {
			a, b = b, a
		}
		if heldOutPair(a, b) == held {
			return a, b
		}
	}
}

func equation(a, b int, sub bool) (string, int) {
	if sub {
		return Num(a) + " - " + Num(b) + " =", a - b
	}
	return Num(a) + " + " + Num(b) + " =", a + b
}

// ArithDoc is a training line of equations.
func (g *Generator) ArithDoc() string {
	var s []string
	for i := 0; i < 4+g.r.IntN(5); i++ {
		sub := g.r.IntN(2) == 0
		a, b := g.arithPair(sub, false)
		e, v := equation(a, b, sub)
		s = append(s, e+" "+Num(v)+" .")
	}
	return strings.Join(s, " ")
}

// wordProblem is a multi-step problem: Question, worked answer, and value.
func (g *Generator) wordProblem() (q, worked string, val int) {
	p := g.person().Name
	o := g.person().Name
	for o == p {
		o = g.person().Name
	}
	item := g.pick(Counts)
	v := 1 + g.r.IntN(9)
	qs := []string{sentence(p, "has", Num(v), item)}
	var steps []string
	for i := 0; i < 1+g.r.IntN(3); i++ {
		k := 1 + g.r.IntN(9)
		if g.r.IntN(2) == 0 || v < k {
			qs = append(qs, sentence(o, "gives", p, Num(k), item))
			steps = append(steps, sentence(Num(v), "+", Num(k), "=", Num(v+k)))
			v += k
		} else {
			qs = append(qs, sentence(p, "loses", Num(k), item))
			steps = append(steps, sentence(Num(v), "-", Num(k), "=", Num(v-k)))
			v -= k
		}
	}
	q = "Question: " + strings.Join(qs, " ") + " how many " + item + " does " + p + " have ?\nAnswer:"
	worked = " " + strings.Join(steps, " ") + " #### " + Num(v)
	return q, worked, v
}

// ProblemDoc is 1-3 word problems with worked answers, one per line pair.
func (g *Generator) ProblemDoc() string {
	var s []string
	for i := 0; i < 1+g.r.IntN(3); i++ {
		q, a, _ := g.wordProblem()
		s = append(s, q+a)
	}
	return strings.Join(s, "\n")
}

// countQ: "count cat : cat dog cat bird . answer" -> count.
func (g *Generator) countQ() (string, int) {
	target := g.pick(Pets)
	n := 3 + g.r.IntN(6)
	var xs []string
	c := 0
	for i := 0; i < n; i++ {
		x := g.pick(Pets)
		if g.r.IntN(3) == 0 {
			x = target
		}
		if x == target {
			c++
		}
		xs = append(xs, x)
	}
	return "count " + target + " : " + strings.Join(xs, " ") + " . answer", c
}

// sortQ: "sort 5 2 8 :" -> "2 5 8".
func (g *Generator) sortQ() (string, []int) {
	n := 3 + g.r.IntN(3)
	xs := make([]int, n)
	for i := range xs {
		xs[i] = g.r.IntN(10)
	}
	return "sort " + digits(xs) + " :", sorted(xs)
}

func digits(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = Num(x)
	}
	return strings.Join(s, " ")
}

func sorted(xs []int) []int {
	ys := append([]int(nil), xs...)
	sort.Ints(ys)
	return ys
}

// ListDoc mixes counting and sorting.
func (g *Generator) ListDoc() string {
	var s []string
	for i := 0; i < 1+g.r.IntN(3); i++ {
		if g.r.IntN(2) == 0 {
			q, c := g.countQ()
			s = append(s, q+" "+Num(c)+" .")
		} else {
			q, ys := g.sortQ()
			s = append(s, q+" "+digits(ys)+" .")
		}
	}
	return strings.Join(s, " ")
}

// docKinds and their shares (out of 100) of the training documents.
var docKinds = []struct {
	share int
	gen   func(*Generator) string
}{
	{22, (*Generator).Story},
	{14, (*Generator).ContextDoc},
	{10, (*Generator).StateDoc},
	{24, (*Generator).ArithDoc},
	{18, (*Generator).ProblemDoc},
	{12, (*Generator).ListDoc},
}

// Doc writes one training document of a randomly chosen kind.
func (g *Generator) Doc() string {
	x := g.r.IntN(100)
	for _, k := range docKinds {
		if x < k.share {
			return k.gen(g)
		}
		x -= k.share
	}
	panic("corpus: shares do not sum to 100")
}
