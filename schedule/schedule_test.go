package schedule

import (
	"math"
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t testing.TB, src string) Schedule {
	t.Helper()
	s, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return s
}

func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0-7,25-31", "0-7,25-31"},
		{"0,1,2,3,4,5,6,7", "0-7"},
		{"0,[1,3,5]x2,6-11", "0,[1,3,5]x2,6-11"},
		{"0-3,(4-7)x2,8-11", "0-3,(4-7)x2,8-11"},
		{"24-8", "24-8"},
		{"24,23,22", "24-22"},
		{"[3,1,2]", "[1-3]"},
		{"[8-24]x1", "[8-24]"},
		{"[24-8]", "[8-24]"},
		{"[5,1-3,9,8]", "[1-3,5,8-9]"},
		{"0,1x2,2", "0,1x2,2"},     // no run across a repeated step
		{"0,1,1,2", "0-1,1-2"},     // a run steps by exactly 1
		{"0-2,1-0", "0-2,1-0"},     // direction changes end a run
		{"16,16,16", "16,16,16"},   // not a run: prints as written
		{"16x17", "16x17"},         // a repeated single block
		{"(16)x17", "16x17"},       // group of one step hands over its repeat
		{"((3x2))x3", "3x6"},       // nested repeats multiply
		{"([1,2]x2)x3", "[1-2]x6"}, //
		{"0,(1,2),3", "0-3"},       // unrepeated groups are spliced, runs merge across
		{"(0-3)", "0-3"},           //
		{"4,[5],6", "4-6"},         // a parallel group of one is that block
		{"[5]x3", "5x3"},           //
		{"8-24x3", "(8-24)x3"},     // a repeated range keeps its parentheses
		{"(0,[1,2])x2", "(0,[1-2])x2"},
		{"((0,1)x2,2)x3", "((0-1)x2,2)x3"},
		{" 0 - 7 , [ 8 - 24 ] x 3 , 25-31 ", "0-7,[8-24]x3,25-31"},
		{"007", "7"},
	} {
		if got := mustParse(t, tc.in).String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStringBuiltInCode(t *testing.T) {
	s := Schedule{Steps: []Step{
		{Kind: StepBlock, Block: 0}, // Repeat 0 reads as 1
		{Kind: StepBlock, Block: 1},
		{Kind: StepParallel, Members: []int{4, 2, 3}, Repeat: 2},
		{Kind: StepSeq, Body: []Step{{Kind: StepBlock, Block: 5}, {Kind: StepBlock, Block: 6}}},
		{Kind: StepSeq, Body: []Step{{Kind: StepBlock, Block: 7}}, Repeat: 2},
	}}
	if got, want := s.String(), "0-1,[2-4]x2,5-6,7x2"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := Sequential(3, 4, 5, 9).String(), "3-5,9"; got != want {
		t.Errorf("Sequential(3, 4, 5, 9).String() = %q, want %q", got, want)
	}
}

func TestStagesInstances(t *testing.T) {
	for _, tc := range []struct {
		src       string
		stages    [][]int
		instances []int
	}{
		{"0,[1,3,5]x2,6", [][]int{{0}, {1, 3, 5}, {1, 3, 5}, {6}}, []int{0, 1, 3, 5, 1, 3, 5, 6}},
		{"(0,[1,2])x2", [][]int{{0}, {1, 2}, {0}, {1, 2}}, []int{0, 1, 2, 0, 1, 2}},
		{"((0,1x2)x2,[3,2])", [][]int{{0}, {1}, {1}, {0}, {1}, {1}, {2, 3}}, []int{0, 1, 1, 0, 1, 1, 2, 3}},
		{"[5,3,1]", [][]int{{1, 3, 5}}, []int{1, 3, 5}}, // a set: written order does not matter
		{"[4]x2", [][]int{{4}, {4}}, []int{4, 4}},
		{"3-1", [][]int{{3}, {2}, {1}}, []int{3, 2, 1}},
		{"8-10x2", [][]int{{8}, {9}, {10}, {8}, {9}, {10}}, []int{8, 9, 10, 8, 9, 10}},
	} {
		s := mustParse(t, tc.src)
		var stages [][]int
		for _, st := range s.Stages() {
			stages = append(stages, st.Blocks)
		}
		if diff := cmp.Diff(tc.stages, stages); diff != "" {
			t.Errorf("Parse(%q).Stages() mismatch (-want +got):\n%s", tc.src, diff)
		}
		if diff := cmp.Diff(tc.instances, s.Instances()); diff != "" {
			t.Errorf("Parse(%q).Instances() mismatch (-want +got):\n%s", tc.src, diff)
		}
	}
}

// TestParseAST pins the tree Parse builds, columns included, since lowering
// and error messages rely on it.
func TestParseAST(t *testing.T) {
	got := mustParse(t, "0-2, [4,3]x2,(5,6-7x2)x3")
	want := Schedule{Steps: []Step{
		{Kind: StepBlock, Block: 0, Repeat: 1, Col: 1},
		{Kind: StepBlock, Block: 1, Repeat: 1, Col: 3},
		{Kind: StepBlock, Block: 2, Repeat: 1, Col: 3},
		{Kind: StepParallel, Members: []int{4, 3}, Repeat: 2, Col: 6},
		{Kind: StepSeq, Repeat: 3, Col: 14, Body: []Step{
			{Kind: StepBlock, Block: 5, Repeat: 1, Col: 15},
			{Kind: StepSeq, Repeat: 2, Col: 17, Body: []Step{
				{Kind: StepBlock, Block: 6, Repeat: 1, Col: 17},
				{Kind: StepBlock, Block: 7, Repeat: 1, Col: 19},
			}},
		}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		src  string
		T    int
		want string // "" for valid
	}{
		{"0-31", 32, ""},
		{"0-7,[8-24]x3,25-31", 32, ""},
		{"0-7,40", 32, "schedule column 5: block 40 is out of range: the model has 32 blocks (0-31)"},
		{"0-40", 32, "schedule column 3: block 40 is out of range: the model has 32 blocks (0-31)"},
		{"30-40,5", 32, "schedule column 4: block 40 is out of range: the model has 32 blocks (0-31)"},
		{"40-30", 32, "schedule column 1: block 40 is out of range: the model has 32 blocks (0-31)"},
		{"33-40", 32, "schedule column 1: block 33 is out of range: the model has 32 blocks (0-31)"},
		{"32,33", 32, "schedule column 1: block 32 is out of range: the model has 32 blocks (0-31)"},
		{"0,[30-40]", 32, "schedule column 3: block 40 is out of range: the model has 32 blocks (0-31)"},
		{"0,(1,(2,99)x2)", 32, "schedule column 9: block 99 is out of range: the model has 32 blocks (0-31)"},
		{"0,1", 1, "schedule column 3: block 1 is out of range: the model has 1 block (0)"},
		{"0", 0, "schedule: the model has no blocks"},
	} {
		err := mustParse(t, tc.src).Validate(tc.T)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("Parse(%q).Validate(%d) = %q, want %q", tc.src, tc.T, got, tc.want)
		}
	}
}

func TestValidateBuiltInCode(t *testing.T) {
	for _, tc := range []struct {
		s    Schedule
		want string
	}{
		{Schedule{}, "schedule: the schedule is empty: it must run at least one block"},
		{Sequential(0, -1), "schedule: block -1 is out of range: the model has 4 blocks (0-3)"},
		{Schedule{Steps: []Step{{Kind: StepParallel}}}, "schedule: empty parallel group"},
		{Schedule{Steps: []Step{{Kind: StepParallel, Members: []int{1, 2, 1}}}}, "schedule: block 1 appears twice in one parallel group"},
		{Schedule{Steps: []Step{{Kind: StepSeq}}}, "schedule: empty sequential group"},
		{Schedule{Steps: []Step{{Kind: StepBlock, Repeat: -2}}}, "schedule: repeat count -2 must be at least 1"},
		{Schedule{Steps: []Step{{Kind: StepKind(9)}}}, "schedule: unknown step kind 9"},
		// The instance cap holds for schedules built in code, which never
		// went through the parser's limits.
		{Schedule{Steps: []Step{{Kind: StepBlock, Repeat: 100001}}}, "the schedule runs 100001 block instances; at most 100000 are allowed"},
		{Schedule{Steps: []Step{{Kind: StepParallel, Members: []int{0, 1, 2, 3}, Repeat: 30000}}}, "the schedule runs 120000 block instances; at most 100000 are allowed"},
		{Schedule{Steps: []Step{{Kind: StepSeq, Body: []Step{{Kind: StepBlock, Repeat: 1000}}, Repeat: 1000}}}, "the schedule runs 1000000 block instances; at most 100000 are allowed"},
		{Schedule{Steps: []Step{{Kind: StepSeq, Body: []Step{{Kind: StepBlock, Repeat: 2}}, Repeat: math.MaxInt}}}, "the schedule runs more than 100000 block instances; at most 100000 are allowed"},
	} {
		err := tc.s.Validate(4)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%#v.Validate(4) = %v, want %q", tc.s, err, tc.want)
		}
	}
	// Exactly at the cap is allowed.
	if err := (Schedule{Steps: []Step{{Kind: StepParallel, Members: []int{0, 1, 2, 3}, Repeat: 25000}}}).Validate(4); err != nil {
		t.Errorf("100000 instances: %v", err)
	}
}

// randomSteps builds a valid schedule over blocks 0..T-1 in code, biased
// towards what canonical printing rewrites: runs, repeats of 1, groups of
// one and nested groups.
func randomSteps(r *rand.Rand, T, depth int) []Step {
	var steps []Step
	for range 1 + r.IntN(4) {
		rep := 1
		if r.IntN(3) == 0 {
			rep = 1 + r.IntN(3)
		}
		switch k := r.IntN(10); {
		case k < 4: // a run, up or down
			a, b := r.IntN(T), r.IntN(T)
			for _, st := range Span(a, b) {
				st.Repeat = 1
				steps = append(steps, st)
			}
			steps[len(steps)-1].Repeat = rep
		case k < 6:
			// A whole block or, one time in three, one of its halves.
			steps = append(steps, Step{Kind: StepBlock, Block: r.IntN(T), Part: Part(max(0, r.IntN(6)-3)), Repeat: rep})
		case k < 8:
			m := r.Perm(T)[:1+r.IntN(min(T, 6))]
			steps = append(steps, Step{Kind: StepParallel, Members: m, Repeat: rep})
		default:
			if depth < 3 {
				steps = append(steps, Step{Kind: StepSeq, Body: randomSteps(r, T, depth+1), Repeat: rep})
			}
		}
	}
	if len(steps) == 0 {
		steps = append(steps, Step{Kind: StepBlock, Block: r.IntN(T), Repeat: 1})
	}
	return steps
}

// notCanonical matches what canonical printing never writes: an x1 or a space.
var notCanonical = regexp.MustCompile(`x1([^0-9]|$)| `)

// TestRoundTrip checks the printer's contract on many random schedules:
// Parse(String(s)) runs exactly what s runs, and printing is idempotent.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		T := 1 + r.IntN(12)
		s := Schedule{Steps: randomSteps(r, T, 0)}
		if err := s.Validate(T); err != nil {
			t.Fatalf("generator built an invalid schedule %q: %v", s, err)
		}
		text := s.String()
		back, err := Parse(text)
		if err != nil {
			t.Fatalf("#%d: Parse(%q): %v", i, text, err)
		}
		if diff := cmp.Diff(s.Stages(), back.Stages()); diff != "" {
			t.Fatalf("#%d: %q changes Stages on a round trip (-before +after):\n%s", i, text, diff)
		}
		if again := back.String(); again != text {
			t.Fatalf("#%d: String not idempotent: %q then %q", i, text, again)
		}
		if err := back.Validate(T); err != nil {
			t.Fatalf("#%d: %q no longer validates: %v", i, text, err)
		}
		if notCanonical.MatchString(text) {
			t.Fatalf("#%d: %q is not canonical", i, text)
		}
	}
}

// TestParts pins the sub-block steps: their canonical form (a part never
// joins a range), their stages, and the KV slots: an attention half owns
// one, an MLP half none.
func TestParts(t *testing.T) {
	for _, tc := range []struct {
		src, canon string
		stages     []Stage
		instances  []int
	}{
		{"0,1.attn,2", "0,1.attn,2", []Stage{{Blocks: []int{0}}, {Blocks: []int{1}, Part: Attn}, {Blocks: []int{2}}}, []int{0, 1, 2}},
		{"0,1.mlp,2", "0,1.mlp,2", []Stage{{Blocks: []int{0}}, {Blocks: []int{1}, Part: MLP}, {Blocks: []int{2}}}, []int{0, 2}},
		{"0,(1.attn,1.mlp)", "0,1.attn,1.mlp", []Stage{{Blocks: []int{0}}, {Blocks: []int{1}, Part: Attn}, {Blocks: []int{1}, Part: MLP}}, []int{0, 1}},
		{"1.attnx2", "1.attnx2", []Stage{{Blocks: []int{1}, Part: Attn}, {Blocks: []int{1}, Part: Attn}}, []int{1, 1}},
		{"(1.mlp)x2", "1.mlpx2", []Stage{{Blocks: []int{1}, Part: MLP}, {Blocks: []int{1}, Part: MLP}}, nil},
		{"(2.attn,3.mlp)x2", "(2.attn,3.mlp)x2", []Stage{{Blocks: []int{2}, Part: Attn}, {Blocks: []int{3}, Part: MLP}, {Blocks: []int{2}, Part: Attn}, {Blocks: []int{3}, Part: MLP}}, []int{2, 2}},
		{"1.attn,2.attn,3.attn", "1.attn,2.attn,3.attn", nil, []int{1, 2, 3}},
		{"0,1,2.mlp,3,4", "0-1,2.mlp,3-4", nil, []int{0, 1, 3, 4}},
		{" 4 .attn x 2", "4.attnx2", nil, []int{4, 4}},
	} {
		s := mustParse(t, tc.src)
		if got := s.String(); got != tc.canon {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.src, got, tc.canon)
		}
		if got := mustParse(t, s.String()).String(); got != tc.canon {
			t.Errorf("round trip of %q gives %q", tc.canon, got)
		}
		if tc.stages != nil {
			if diff := cmp.Diff(tc.stages, s.Stages()); diff != "" {
				t.Errorf("Parse(%q).Stages() mismatch (-want +got):\n%s", tc.src, diff)
			}
		}
		if diff := cmp.Diff(tc.instances, s.Instances()); diff != "" {
			t.Errorf("Parse(%q).Instances() mismatch (-want +got):\n%s", tc.src, diff)
		}
		if err := s.Validate(8); err != nil {
			t.Errorf("Parse(%q).Validate(8): %v", tc.src, err)
		}
	}
	if err := mustParse(t, "0,9.attn").Validate(8); err == nil || err.Error() != "schedule column 3: block 9 is out of range: the model has 8 blocks (0-7)" {
		t.Errorf("Validate of 9.attn on 8 blocks: %v", err)
	}
	bad := Schedule{Steps: []Step{{Kind: StepParallel, Members: []int{1, 2}, Part: Attn}}}
	if err := bad.Validate(8); err == nil {
		t.Errorf("Validate accepts a parallel group with a part")
	}
}
