package corpus

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func allBytes(t *testing.T, seed uint64) []byte {
	t.Helper()
	w := NewWorld(seed, DefaultConfig)
	var b bytes.Buffer
	if err := WriteDocs(&b, NewGenerator(w, seed, 10), 300); err != nil {
		t.Fatal(err)
	}
	for _, task := range AllTasks(w, seed, 50) {
		if err := task.Write(&b); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestDeterministic(t *testing.T) {
	a, b := allBytes(t, 7), allBytes(t, 7)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed wrote different output")
	}
	if bytes.Equal(a, allBytes(t, 8)) {
		t.Fatal("different seeds wrote the same output")
	}
}

func TestNum(t *testing.T) {
	for n, want := range map[int]string{0: "0", 5: "5", 40: "04", 47: "74", 123: "321"} {
		if got := Num(n); got != want {
			t.Errorf("Num(%d) = %q, want %q", n, got, want)
		}
		if back, err := ParseNum(want); err != nil || back != n {
			t.Errorf("ParseNum(%q) = %d, %v", want, back, err)
		}
	}
}

func TestDocsHaveNoBlankLines(t *testing.T) {
	w := NewWorld(1, DefaultConfig)
	g := NewGenerator(w, 1, 10)
	for i := 0; i < 2000; i++ {
		d := g.Doc()
		if strings.Contains(d, "\n\n") || strings.TrimSpace(d) != d || strings.Contains(d, "  ") {
			t.Fatalf("bad document %q", d)
		}
	}
}

// personByName indexes the world.
func personByName(w *World) map[string]Person {
	m := map[string]Person{}
	for _, p := range w.People {
		m[p.Name] = p
	}
	return m
}

// answerFacts checks a context ending in a fact prefix against the world.
func answerFacts(t *testing.T, w *World, ctx, value string) {
	t.Helper()
	people := personByName(w)
	for a := Attribute(0); a < numAttrs; a++ {
		for _, tmpls := range [][]string{factPrefixes[a], storyPrefixes[a]} {
			for _, tmpl := range tmpls {
				pre, post, _ := strings.Cut(tmpl, "%s")
				for name, p := range people {
					if strings.HasSuffix(ctx, pre+name+post) && (pre != "" || strings.HasSuffix(ctx, " "+name+post) || ctx == name+post) {
						if p.Get(a) != value {
							t.Errorf("%q: answer %q, but the fact is %q", ctx, value, p.Get(a))
						}
						return
					}
				}
			}
		}
	}
	t.Errorf("%q: no fact template matches", ctx)
}

func TestTrainingFactsConsistent(t *testing.T) {
	w := NewWorld(3, DefaultConfig)
	g := NewGenerator(w, 3, 10)
	for i := 0; i < 500; i++ {
		for _, s := range strings.Split(g.Story(), " . ") {
			s = strings.TrimSuffix(s, " .")
			k := strings.LastIndex(s, " ")
			answerFacts(t, w, s[:k], s[k+1:])
		}
	}
}

var eqRE = regexp.MustCompile(`^([0-9]+) ([+-]) ([0-9]+) =$`)

func mustNum(t *testing.T, s string) int {
	t.Helper()
	n, err := ParseNum(s)
	if err != nil {
		t.Fatalf("bad number %q", s)
	}
	return n
}

func TestTasksValid(t *testing.T) {
	w := NewWorld(1, DefaultConfig)
	tasks := AllTasks(w, 1, 400)
	if len(tasks) < 8 {
		t.Fatalf("only %d tasks", len(tasks))
	}
	for _, task := range tasks {
		h := task.Header
		if len(task.Docs) < 400 {
			t.Errorf("%s: %d docs, want >= 400", h.Name, len(task.Docs))
		}
		if h.Baseline < 0 || h.Baseline >= 1 {
			t.Errorf("%s: baseline %v", h.Name, h.Baseline)
		}
		var b bytes.Buffer
		if err := task.Write(&b); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		var head struct {
			Task Header `json:"task"`
		}
		if err := json.Unmarshal([]byte(lines[0]), &head); err != nil || head.Task.Name != h.Name {
			t.Fatalf("%s: bad header line %q", h.Name, lines[0])
		}
		if len(lines) != len(task.Docs)+1 {
			t.Fatalf("%s: %d lines for %d docs", h.Name, len(lines), len(task.Docs))
		}
		golds := make([]int, 4)
		for i, d := range task.Docs {
			switch h.Kind {
			case KindMultipleChoice:
				if d.Gold == nil || *d.Gold < 0 || *d.Gold >= len(d.Choices) {
					t.Fatalf("%s #%d: gold out of range", h.Name, i)
				}
				seen := map[string]bool{}
				for _, c := range d.Choices {
					if seen[c] || c == "" || strings.HasPrefix(c, " ") {
						t.Fatalf("%s #%d: bad choices %q", h.Name, i, d.Choices)
					}
					seen[c] = true
				}
				if len(d.Choices) == 4 {
					golds[*d.Gold]++
				}
				checkMC(t, w, h.Name, d)
			case KindLoglikelihood:
				if !strings.HasPrefix(d.Target, " ") || strings.HasSuffix(d.Context, " ") {
					t.Fatalf("%s #%d: target %q", h.Name, i, d.Target)
				}
				if h.Name == "facts_lambada" {
					answerFacts(t, w, d.Context, d.Target[1:])
				}
			case KindGenerate:
				checkProblem(t, d)
			case KindRolling:
				if d.Text == "" {
					t.Fatalf("%s #%d: empty", h.Name, i)
				}
			default:
				t.Fatalf("%s: kind %q", h.Name, h.Kind)
			}
		}
		if h.Kind == KindMultipleChoice {
			for i, n := range golds {
				if n < len(task.Docs)/8 {
					t.Errorf("%s: gold position %d only %d times", h.Name, i, n)
				}
			}
		}
	}
}

func checkMC(t *testing.T, w *World, name string, d Doc) {
	t.Helper()
	gold := d.Choices[*d.Gold]
	switch name {
	case "facts_mc":
		answerFacts(t, w, d.Context, gold)
	case "add_mc", "sub_mc":
		m := eqRE.FindStringSubmatch(d.Context)
		if m == nil {
			t.Fatalf("%s: context %q", name, d.Context)
		}
		a, b := mustNum(t, m[1]), mustNum(t, m[3])
		if !heldOutPair(a, b) {
			t.Errorf("%s: pair %d,%d is not held out", name, a, b)
		}
		want := a + b
		if m[2] == "-" {
			want = a - b
		}
		if gold != Num(want) {
			t.Errorf("%s: %q gold %q, want %q", name, d.Context, gold, Num(want))
		}
	case "context_mc":
		// "... the thing of NAME is": the gold is the color NAME was given.
		f := strings.Fields(d.Context)
		q := f[len(f)-2]
		for i := 0; i+4 < len(f); i++ {
			if f[i] == q && f[i+1] == "has" {
				if f[i+3] != gold {
					t.Errorf("context_mc: %q gold %q", d.Context, gold)
				}
				return
			}
		}
		t.Errorf("context_mc: %q never states %s", d.Context, q)
	case "count_mc":
		f := strings.Fields(d.Context)
		target, n := f[1], 0
		for _, x := range f[3 : len(f)-2] {
			if x == target {
				n++
			}
		}
		if gold != Num(n) {
			t.Errorf("count_mc: %q gold %q, want %d", d.Context, gold, n)
		}
	case "sort_mc":
		f := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(d.Context, "sort "), " :"))
		xs := make([]int, len(f))
		for i, x := range f {
			xs[i] = mustNum(t, x)
		}
		if gold != digits(sorted(xs)) {
			t.Errorf("sort_mc: %q gold %q", d.Context, gold)
		}
	}
}

var (
	hasRE  = regexp.MustCompile(`^Question: (\w+) has ([0-9]+) (\w+) \.`)
	stepRE = regexp.MustCompile(`(\w+) (gives (\w+)|loses) ([0-9]+) \w+ \.`)
	ansRE  = regexp.MustCompile(`#### (\-?[0-9\.\,]+)`)
)

func checkProblem(t *testing.T, d Doc) {
	t.Helper()
	if !strings.HasPrefix(d.Context, "Question: ") || !strings.HasSuffix(d.Context, "\nAnswer:") {
		t.Fatalf("problem context %q", d.Context)
	}
	m := hasRE.FindStringSubmatch(d.Context)
	if m == nil {
		t.Fatalf("problem %q", d.Context)
	}
	who, v := m[1], mustNum(t, m[2])
	for _, s := range stepRE.FindAllStringSubmatch(d.Context[len(m[0]):], -1) {
		k := mustNum(t, s[4])
		if s[2] == "loses" && s[1] == who {
			v -= k
		} else if s[3] == who {
			v += k
		} else {
			t.Fatalf("problem step %q", s[0])
		}
	}
	a := ansRE.FindStringSubmatch(d.Answer)
	if a == nil || a[1] != Num(v) {
		t.Errorf("problem %q answer %q, want #### %s", d.Context, d.Answer, Num(v))
	}
}

// TestShippedTasksRegenerate: the task files bundled with models/painter-16
// are exactly what the generator writes for seed 1 and 500 items.
var update = flag.Bool("update", false, "rewrite models/painter-16/tasks from the generator")

func TestShippedTasksRegenerate(t *testing.T) {
	dir := filepath.Join("..", "models", "painter-16", "tasks")
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) == 0 {
		// They are committed, so only a partial checkout lacks them.
		if os.Getenv("PAINTERC_REQUIRE_CORPUS") == "1" {
			t.Fatalf("no shipped tasks in %s; check out models/painter-16, or unset PAINTERC_REQUIRE_CORPUS to skip", dir)
		}
		t.Skipf("no shipped tasks in %s; set PAINTERC_REQUIRE_CORPUS=1 to fail instead", dir)
	}
	gen := map[string]*Task{}
	for _, task := range AllTasks(NewWorld(1, DefaultConfig), 1, 500) {
		gen[task.Header.Name] = task
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		task, ok := gen[name]
		if !ok {
			t.Errorf("%s: not a generated task", name)
			continue
		}
		var b bytes.Buffer
		if err := task.Write(&b); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b.Bytes()) {
			if *update {
				if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("%s differs from what seed 1 generates (go test ./corpus -run TestShippedTasksRegenerate -update rewrites it)", f)
		}
	}
}
