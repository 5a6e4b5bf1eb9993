// Package corpus generates painterc's synthetic training language and its
// held-out evaluation tasks, deterministically from a seed.
//
// The language has two halves:
//
//   - semantic: an invented world of people, each with a fixed home town,
//     pet, job and favourite food. Training stories and fact sentences state
//     these facts consistently, so a model can only answer questions about
//     them from what it stored in its weights. Other documents state fresh
//     facts ("zu has a red cup .") and ask about them later in the same text.
//   - math/reasoning: addition and subtraction, multi-step word problems in
//     the GSM8K "Question: ...\nAnswer: ... #### N" shape, counting, sorting
//     and an object moved between boxes (state carried across a sentence).
//
// Numbers in the math half are written least-significant digit first: the
// number 47 is written "74", 40 is "04", 5 is "5". Every number in a math
// statement, including the "#### N" answer, uses this convention, so each
// output digit depends only on digits already seen.
//
// All text is lower case with punctuation as separate space-delimited words.
// Documents never contain a blank line; train.txt and valid.txt separate
// documents with one blank line.
package corpus

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Vocabularies of the real words the language uses.
var (
	Pets   = []string{"cat", "dog", "bird", "fish", "frog", "horse", "goat", "mouse"}
	Colors = []string{"red", "blue", "green", "yellow", "black", "white", "pink", "brown"}
	Jobs   = []string{"baker", "farmer", "teacher", "doctor", "singer", "painter", "sailor", "miner"}
	Foods  = []string{"apples", "bread", "rice", "cheese", "soup", "cake", "plums", "beans"}
	Things = []string{"cup", "hat", "box", "bag", "coat", "ball"}
	Counts = []string{"apples", "eggs", "coins", "books", "pens", "stones"}
)

const (
	consonants = "bdfgklmnprstvz"
	vowels     = "aeiou"
)

// Person is one entity of the world; its facts never change.
type Person struct {
	Name string
	Town string
	Pet  string
	Job  string
	Food string
}

// World is the fixed set of entities all documents of one seed talk about.
type World struct {
	People []Person
	Towns  []string
	// Short one-syllable names used only for facts given in context.
	Short []string
}

// Config sizes a world.
type Config struct {
	People int
	Towns  int
}

// DefaultConfig is the world the shipped model was trained on.
var DefaultConfig = Config{People: 64, Towns: 12}

func newRand(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

// NewWorld builds the world for seed.
func NewWorld(seed uint64, cfg Config) *World {
	r := newRand(seed, 1)
	used := map[string]bool{}
	word := func(syll int) string {
		for {
			var b strings.Builder
			for i := 0; i < syll; i++ {
				b.WriteByte(consonants[r.IntN(len(consonants))])
				b.WriteByte(vowels[r.IntN(len(vowels))])
			}
			w := b.String()
			if !used[w] {
				used[w] = true
				return w
			}
		}
	}
	w := &World{}
	// Short names: every consonant-vowel syllable, shuffled; the long
	// (two-syllable) words are drawn afterwards and may not collide.
	for _, c := range consonants {
		for _, v := range vowels {
			s := string(c) + string(v)
			used[s] = true
			w.Short = append(w.Short, s)
		}
	}
	r.Shuffle(len(w.Short), func(i, j int) { w.Short[i], w.Short[j] = w.Short[j], w.Short[i] })
	for i := 0; i < cfg.Towns; i++ {
		w.Towns = append(w.Towns, word(2)+"n") // towns end in n: "moron"
	}
	for i := 0; i < cfg.People; i++ {
		w.People = append(w.People, Person{
			Name: word(2),
			Town: w.Towns[r.IntN(len(w.Towns))],
			Pet:  Pets[r.IntN(len(Pets))],
			Job:  Jobs[r.IntN(len(Jobs))],
			Food: Foods[r.IntN(len(Foods))],
		})
	}
	return w
}

// Num writes n least-significant digit first: 47 -> "74", 40 -> "04".
func Num(n int) string {
	if n < 0 {
		panic("corpus: negative number")
	}
	s := []byte(strconv.Itoa(n))
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
	return string(s)
}

// ParseNum reads a number written by Num.
func ParseNum(s string) (int, error) {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return strconv.Atoi(string(b))
}

// heldOutPair reports whether the operand pair (a, b) is reserved for the
// arithmetic tasks and so never appears as an equation in training text.
func heldOutPair(a, b int) bool {
	return (a*131+b*71+7)%10 == 0
}

// Attribute names a fact slot of a Person.
type Attribute int

const (
	AttrTown Attribute = iota
	AttrPet
	AttrJob
	AttrFood
	numAttrs
)

func (p Person) Get(a Attribute) string {
	switch a {
	case AttrTown:
		return p.Town
	case AttrPet:
		return p.Pet
	case AttrJob:
		return p.Job
	default:
		return p.Food
	}
}

// Candidates lists every value an attribute can take in w.
func (w *World) Candidates(a Attribute) []string {
	switch a {
	case AttrTown:
		return w.Towns
	case AttrPet:
		return Pets
	case AttrJob:
		return Jobs
	default:
		return Foods
	}
}

// factPrefixes are the fact sentences of training text, split before the
// value: prefix + " " + value + " ." (statement templates, 2 per attribute).
var factPrefixes = [numAttrs][]string{
	AttrTown: {"%s lives in", "the home of %s is"},
	AttrPet:  {"%s has a", "the pet of %s is a"},
	AttrJob:  {"%s works as a", "the job of %s is"},
	AttrFood: {"%s likes", "the food of %s is"},
}

// storyPrefixes are narrative sentences that also reveal a fact.
var storyPrefixes = [numAttrs][]string{
	AttrTown: {"at night %s goes home to", "%s walks back to"},
	AttrPet:  {"every day %s feeds the", "%s plays with the"},
	AttrJob:  {"in the morning %s goes to work as a", "people know %s as a"},
	AttrFood: {"for dinner %s eats", "%s buys some"},
}

func fill(tmpl, name string) string { return strings.Replace(tmpl, "%s", name, 1) }
