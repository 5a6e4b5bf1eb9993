package corpus

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestEnglishArithMC checks every question's gold answer by redoing the
// sum, and the properties the baseline of 0.25 rests on.
func TestEnglishArithMC(t *testing.T) {
	task := NewGenerator(nil, 1, 200).EnglishArithMC(400)
	if h := task.Header; h.Name != "english_arith_mc" || h.Kind != KindMultipleChoice || h.Category != "math" || h.Baseline != 0.25 {
		t.Fatalf("header %+v", h)
	}
	if len(task.Docs) != 400 {
		t.Fatalf("%d docs, want 400", len(task.Docs))
	}
	shots := "Question: What is 3 plus 4?\nAnswer: 7\n\nQuestion: What is 25 plus 13?\nAnswer: 38\n\nQuestion: What is 15 minus 7?\nAnswer: 8\n\n"
	places := map[int]int{}
	for i, d := range task.Docs {
		q, ok := strings.CutPrefix(d.Context, shots)
		if !ok {
			t.Fatalf("doc %d: context does not open with the three shots: %q", i, d.Context)
		}
		var a, b int
		if _, err := fmt.Sscanf(q, "Question: What is %d plus %d?\nAnswer:", &a, &b); err != nil || !strings.HasSuffix(q, "?\nAnswer:") {
			t.Fatalf("doc %d: question %q: %v", i, q, err)
		}
		lo, hi := 2, 9
		if i%2 == 1 {
			lo, hi = 10, 49
		}
		if a < lo || a > hi || b < lo || b > hi {
			t.Errorf("doc %d: %d plus %d outside %d..%d", i, a, b, lo, hi)
		}
		if a == 3 && b == 4 || a == 25 && b == 13 {
			t.Errorf("doc %d asks a shot: %q", i, q)
		}
		if d.Gold == nil || *d.Gold != i%4 || len(d.Choices) != 4 {
			t.Fatalf("doc %d: gold %v of %d choices, want place %d of 4", i, d.Gold, len(d.Choices), i%4)
		}
		places[*d.Gold]++
		seen := map[string]bool{}
		for j, c := range d.Choices {
			v, err := strconv.Atoi(strings.TrimPrefix(c, " "))
			if err != nil || !strings.HasPrefix(c, " ") || v < 0 || seen[c] {
				t.Fatalf("doc %d: choice %q (of %q) is not a new non-negative \" N\"", i, c, d.Choices)
			}
			seen[c] = true
			if (j == *d.Gold) != (v == a+b) {
				t.Errorf("doc %d: %d plus %d: choice %d is %q, gold is %d", i, a, b, j, c, *d.Gold)
			}
			if d := v - (a + b); d < -11 || d > 11 {
				t.Errorf("doc %d: distractor %q is %d away from %d, not a near miss", i, c, d, a+b)
			}
		}
	}
	for p := 0; p < 4; p++ {
		if places[p] != 100 {
			t.Errorf("gold in place %d %d times, want 100", p, places[p])
		}
	}
}

func TestEnglishArithMCDeterministic(t *testing.T) {
	write := func(seed uint64) []byte {
		var b bytes.Buffer
		if err := NewGenerator(nil, seed, 200).EnglishArithMC(50).Write(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	if !bytes.Equal(write(1), write(1)) {
		t.Fatal("same seed wrote different tasks")
	}
	if bytes.Equal(write(1), write(2)) {
		t.Fatal("seeds 1 and 2 wrote the same task")
	}
}
