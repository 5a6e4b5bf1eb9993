package eval

import "testing"

// The expected strings are what CPython 3.11 prints for the same values
// (repr, json.dumps(..., ensure_ascii=False) with and without indent=2).
func TestPyRepr(t *testing.T) {
	for x, want := range map[float64]string{
		1e-05: "1e-05", 0.0001: "0.0001", 1e16: "1e+16", 123.0: "123.0", -0.0020888051949441433: "-0.0020888051949441433",
		1.5e-300: "1.5e-300", 2.5e+20: "2.5e+20", 0.1: "0.1", 1234567890123456.0: "1234567890123456.0",
	} {
		if got := pyRepr(x); got != want {
			t.Errorf("pyRepr(%v) = %s, want %s", x, got, want)
		}
	}
}

func TestPyDumps(t *testing.T) {
	doc := pyDoc(`{"context": "é\"\\\n\t\u0001 <&>` + "\u2028" + `", "choices": ["a", []], "gold": 3, "x": {}, "f": 1.0, "n": null, "b": true}`)
	for _, c := range []struct {
		indent bool
		want   string
	}{
		{true, "{\n  \"context\": \"\u00e9\\\"\\\\\\n\\t\\u0001 <&>\u2028\",\n  \"choices\": [\n    \"a\",\n    []\n  ],\n  \"gold\": 3,\n  \"x\": {},\n  \"f\": 1.0,\n  \"n\": null,\n  \"b\": true\n}"},
		{false, "{\"context\": \"\u00e9\\\"\\\\\\n\\t\\u0001 <&>\u2028\", \"choices\": [\"a\", []], \"gold\": 3, \"x\": {}, \"f\": 1.0, \"n\": null, \"b\": true}"},
	} {
		got, err := pyDumps(doc, c.indent)
		if err != nil || string(got) != c.want {
			t.Errorf("indent %v:\n got %s (%v)\nwant %s", c.indent, got, err, c.want)
		}
	}
}

// The three hashes lm-eval 0.4.13 logged for the first add_mc document of
// models/painter-16 (scripts/referee/lmeval_referee.py's run).
func TestLMEvalHashes(t *testing.T) {
	d := lmDoc{doc: pyDoc(`{"context":"81 + 58 =","choices":["101","38","501","301"],"gold":3}`), target: 3,
		args: [][]any{{"81 + 58 =", " 101"}}}
	dh, ph, th, err := d.hashes()
	if err != nil {
		t.Fatal(err)
	}
	if dh != "d9aac26b2f3dcdb616077d8f79feee329deac1adee19805814e850d05ee13e09" ||
		ph != "01e957c71d79be31a320896c680ac0946939d0c3938cf320c026660a7c1d55e6" ||
		th != "4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce" {
		t.Errorf("hashes %s %s %s", dh, ph, th)
	}
}
