package sweep_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/painterc/painterc/eval"
)

type (
	evalTask    = eval.Task
	evalResults = eval.Results
)

func sqrt(x float64) float64 { return math.Sqrt(x) }
func exp(x float64) float64  { return math.Exp(x) }

// jsonNum is x as encoding/json writes it.
func jsonNum(t testing.TB, x float64) string {
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
