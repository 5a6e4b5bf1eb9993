package schedule

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"", `schedule "": column 1: the schedule is empty: expected a block number, '[' or '('`},
		{"   ", `schedule "   ": column 4: the schedule is empty: expected a block number, '[' or '('`},
		{"0-7,[8-24]x0", `schedule "0-7,[8-24]x0": column 12: repeat count must be at least 1`},
		{"16x0", `schedule "16x0": column 4: repeat count must be at least 1`},
		{"[]", `schedule "[]": column 1: empty parallel group '[]': put at least one block inside`},
		{"0,[ ]", `schedule "0,[ ]": column 3: empty parallel group '[]': put at least one block inside`},
		{"()", `schedule "()": column 1: empty group '()': put at least one step inside`},
		{"0,()x2", `schedule "0,()x2": column 3: empty group '()': put at least one step inside`},
		{"[1,2", `schedule "[1,2": column 5: expected ',' or ']' to close the '[' at column 1; found end of input`},
		{"0,[1,2,3", `schedule "0,[1,2,3": column 9: expected ',' or ']' to close the '[' at column 3; found end of input`},
		{"(1,2", `schedule "(1,2": column 5: expected ',' or ')' to close the '(' at column 1; found end of input`},
		{"(1,[2,3)", `schedule "(1,[2,3)": column 8: expected ',' or ']' to close the '[' at column 4; found ')'`},
		{"[1-5,3]", `schedule "[1-5,3]": column 6: block 3 appears twice in one parallel group (columns 2 and 6); a parallel group is a set`},
		{"[8-24,20-30]", `schedule "[8-24,20-30]": column 7: block 20 appears twice in one parallel group (columns 2 and 7); a parallel group is a set`},
		{"[4,4]", `schedule "[4,4]": column 4: block 4 appears twice in one parallel group (columns 2 and 4); a parallel group is a set`},
		{"0-7]", `schedule "0-7]": column 4: expected ',' or the end of the schedule; found ']'`},
		{"0-7)", `schedule "0-7)": column 4: expected ',' or the end of the schedule; found ')'`},
		{"0-7,8 9", `schedule "0-7,8 9": column 7: expected ',' or the end of the schedule; found '9'`},
		{"0-7;8", `schedule "0-7;8": column 4: expected ',' or the end of the schedule; found ';'`},
		{"3x2x3", `schedule "3x2x3": column 4: expected ',' or the end of the schedule; found 'x'`},
		{"0-7,é", `schedule "0-7,é": column 5: expected a block number, '[' or '('; found 'é'`},
		{"é,x", `schedule "é,x": column 1: expected a block number, '[' or '('; found 'é'`},
		{"0,é]", `schedule "0,é]": column 3: expected a block number, '[' or '('; found 'é'`},
		{"0-7,", `schedule "0-7,": column 5: expected a block number, '[' or '('; found end of input`},
		{",0", `schedule ",0": column 1: expected a block number, '[' or '('; found ','`},
		{"0,,1", `schedule "0,,1": column 3: expected a block number, '[' or '('; found ','`},
		{"x3", `schedule "x3": column 1: expected a block number, '[' or '('; found 'x'`},
		{"3x", `schedule "3x": column 3: expected a repeat count; found end of input`},
		{"3x-2", `schedule "3x-2": column 3: repeat counts cannot be negative`},
		{"3-", `schedule "3-": column 3: expected a block number after '-'; found end of input`},
		{"-3", `schedule "-3": column 1: block numbers cannot be negative`},
		{"0,-3", `schedule "0,-3": column 3: block numbers cannot be negative`},
		{"3--5", `schedule "3--5": column 3: block numbers cannot be negative`},
		{"[-1]", `schedule "[-1]": column 2: block numbers cannot be negative`},
		{"[1x2]", `schedule "[1x2]": column 3: expected ',' or ']' to close the '[' at column 1; found 'x'`},
		{"[(1,2)]", `schedule "[(1,2)]": column 2: expected a block number or range inside '[...]'; found '('`},
		{"1234567", `schedule "1234567": column 1: number 1234567 is too large: at most 100000 is allowed`},
		{"0-99999999999999999999999", `schedule "0-99999999999999999999999": column 3: number 99999999999999999999... is too large: at most 100000 is allowed`},
		{"5x100001", `schedule "5x100001": column 3: number 100001 is too large: at most 100000 is allowed`},
		{"0x100000,1", `schedule "0x100000,1": column 10: the schedule runs more than 100000 block instances`},
		{"(0-9x1000)x1000", `schedule "(0-9x1000)x1000": column 1: this step runs 10000000 block instances; at most 100000 are allowed`},
		{"(0-9x10001)", `schedule "(0-9x10001)": column 2: this step runs 100010 block instances; at most 100000 are allowed`},
		{"1.", `schedule "1.": column 2: expected a part after '.': .attn (the block's attention half) or .mlp (its MLP half); found end of input`},
		{"1.ffn", `schedule "1.ffn": column 2: expected a part after '.': .attn (the block's attention half) or .mlp (its MLP half); found 'f'`},
		{"1-3.attn", `schedule "1-3.attn": column 4: a part (.attn) applies to one block, not to the range 1-3: write each block's part as its own step (1.attn,2.attn,...)`},
		{"0,[1.attn,2]", `schedule "0,[1.attn,2]": column 5: a parallel group cannot run a sub-block part (1.attn): parts run only as sequential steps; move it out of the '[...]' at column 3`},
		{"[1,2.mlp]", `schedule "[1,2.mlp]": column 5: a parallel group cannot run a sub-block part (2.mlp): parts run only as sequential steps; move it out of the '[...]' at column 1`},
		{"1.attn.mlp", `schedule "1.attn.mlp": column 7: expected ',' or the end of the schedule; found '.'`},
		{"1.attnx0", `schedule "1.attnx0": column 8: repeat count must be at least 1`},
		{strings.Repeat("(", 101) + "0" + strings.Repeat(")", 101),
			`schedule "` + strings.Repeat("(", 101) + "0" + strings.Repeat(")", 101) + `": column 101: groups are nested more than 100 deep`},
	} {
		_, err := Parse(tc.src)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want error %s", tc.src, tc.want)
			continue
		}
		if got := err.Error(); got != tc.want {
			t.Errorf("Parse(%q) error:\n got %s\nwant %s", tc.src, got, tc.want)
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error is %T, want *ParseError", tc.src, err)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	for _, src := range []string{
		"0", "0x1", "[7]", "[7]x1", "(0)", "((0))", "0-0", "\t0 ,\n1 ", "[0,2-4]", "[4-2,0]",
		strings.Repeat("(", 100) + "0" + strings.Repeat(")", 100),
		"0x100000", "100000",
	} {
		if _, err := Parse(src); err != nil {
			t.Errorf("Parse(%q): %v", src, err)
		}
	}
}

func TestCaret(t *testing.T) {
	_, err := Parse("0-7,\t[8-24]x0")
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *ParseError", err)
	}
	if got, want := pe.Caret(), "0-7,\t[8-24]x0\n    \t       ^"; got != want {
		t.Errorf("Caret() = %q, want %q", got, want)
	}
}

// FuzzParse checks that Parse never panics, that its errors point inside
// the input, and that everything it accepts survives canonical printing.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"0-7,25-31",
		"0-7,16x17,25-31",
		"0-7,24-8,25-31",
		"0-7,[8-24],25-31",
		"0-7,[8-24]x3,25-31",
		"0,[1,3,5]x2,6-11",
		"0-3,(4-7)x2,8-11",
		"(0,[1,2])x2",
		"((3x2),[4,1-2])x3",
		"8-24x3",
		" 0 - 7 , [ 8 - 24 ] x 3 ",
		"0,1x2,2",
		"[1-5,3]",
		"0-7,[8-24]x0",
		"(((0",
		"5x100000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Parse(src)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error is %T, want *ParseError", src, err)
			}
			if n := utf8.RuneCountInString(src); pe.Col < 1 || pe.Col > n+1 {
				t.Fatalf("Parse(%q): column %d outside 1..%d", src, pe.Col, n+1)
			}
			return
		}
		_ = s.Validate(32) // must not panic
		text := s.String()
		back, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its canonical form %q does not parse: %v", src, text, err)
		}
		if diff := cmp.Diff(s.Stages(), back.Stages()); diff != "" {
			t.Fatalf("Parse(%q): canonical form %q runs something else (-before +after):\n%s", src, text, diff)
		}
		if again := back.String(); again != text {
			t.Fatalf("Parse(%q): String not idempotent: %q then %q", src, text, again)
		}
	})
}
