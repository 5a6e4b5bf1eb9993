package corpus

import (
	"strconv"
	"strings"
)

// English arithmetic for real pretrained models. ArithMC writes numbers
// least-significant digit first, for the model trained on this corpus; a
// model pretrained on web text reads plain decimals, so this task asks
// "Question: What is 7 plus 5?\nAnswer:" with choices " 12", " 13", ...
// in the lm-eval style of ARC and PIQA.

// EnglishArithForms are the question forms EnglishArithMC cycles through,
// in order: document i has form i mod 2. Subtraction is left out: with
// the same prompt and distractors SmolLM2-135M scored it at chance (0.20
// for two-digit, 0.25 for 11..18 minus a digit, 40 documents each), where
// it scores one-digit addition 0.75 and two-digit addition 0.60.
var EnglishArithForms = []string{"add1", "add2"}

// englishArithShots open every question, as lm-eval's few-shot tasks
// do. SmolLM2-135M answers the bare question at chance (0.22 on 120
// documents) but well above it after these three examples. A question
// equal to a shot is not asked.
var englishArithShots = [][3]int{{3, 4, +1}, {25, 13, +1}, {15, 7, -1}}

func englishArithQuestion(a, b, sign int) (q string, v int) {
	if sign < 0 {
		return "Question: What is " + strconv.Itoa(a) + " minus " + strconv.Itoa(b) + "?\nAnswer:", a - b
	}
	return "Question: What is " + strconv.Itoa(a) + " plus " + strconv.Itoa(b) + "?\nAnswer:", a + b
}

// EnglishArithMC builds n multiple-choice questions, cycling through
// EnglishArithForms: one-digit addition (2..9 plus 2..9) and two-digit
// addition (10..49 plus 10..49). The three distractors are near
// misses (off by 1, 2, 9, 10 or 11), never negative, so a model must get
// the digits right, not just the size. The gold answer's place cycles too,
// so the baseline is exactly 0.25 on every multiple of 4 documents.
func (g *Generator) EnglishArithMC(n int) *Task {
	t := &Task{Header: Header{Name: "english_arith_mc", Category: "math", Kind: KindMultipleChoice, Baseline: 0.25,
		About: "English arithmetic in plain decimals after three worked examples (\"Question: What is 7 plus 5?\\nAnswer: 12\"): one-digit and two-digit addition in turn; 4 choices, near-miss distractors"}}
	var shots strings.Builder
	asked := map[[3]int]bool{}
	for _, s := range englishArithShots {
		q, v := englishArithQuestion(s[0], s[1], s[2])
		shots.WriteString(q + " " + strconv.Itoa(v) + "\n\n")
		asked[s] = true
	}
	for i := 0; i < n; i++ {
		var x [3]int
		for {
			switch EnglishArithForms[i%len(EnglishArithForms)] {
			case "add1":
				x = [3]int{2 + g.r.IntN(8), 2 + g.r.IntN(8), +1}
			case "add2":
				x = [3]int{10 + g.r.IntN(40), 10 + g.r.IntN(40), +1}
			}
			if !asked[x] {
				break
			}
		}
		q, v := englishArithQuestion(x[0], x[1], x[2])
		// The gold answer goes to place i mod 4, so every run of four
		// documents has it once in each place: a guesser that always
		// picks one place scores 0.25 on any --limit that is a multiple
		// of 4, and no place is favoured by chance.
		gold := i % 4
		d := g.decimalDistractors(v)
		choices := append(append(append([]string{}, d[:gold]...), " "+strconv.Itoa(v)), d[gold:]...)
		t.Docs = append(t.Docs, Doc{Context: shots.String() + q, Choices: choices, Gold: &gold})
	}
	return t
}

// decimalDistractors: three wrong answers near v, written " 12" as the
// gold is, none negative.
func (g *Generator) decimalDistractors(v int) []string {
	seen := map[int]bool{v: true}
	var out []string
	cands := []int{v + 1, v - 1, v + 10, v - 10, v + 2, v - 2, v + 11, v - 9, v + 9, v - 11}
	for _, i := range g.r.Perm(len(cands)) {
		c := cands[i]
		if c >= 0 && !seen[c] && len(out) < 3 {
			seen[c] = true
			out = append(out, " "+strconv.Itoa(c))
		}
	}
	return out
}
