package compile_test

import (
	"fmt"
	"testing"

	"github.com/painterc/painterc/compile"
	"github.com/painterc/painterc/internal/onnxcheck"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/passes"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/testmodels"
)

// TestLowerMergedDecoder: blocks inside both branches of a merged decoder
// are found and rewritten alike, and on ORT both branches of the rewrite
// equal the merged form of the model built directly in the schedule.
func TestLowerMergedDecoder(t *testing.T) {
	orttest.Require(t)
	spec := testmodels.Spec{Family: testmodels.Llama, KVCache: true, Seed: 9}
	in := testmodels.Merged(testmodels.MustBuild(spec, spec.Identity()))
	b := run(t, in, compile.Options{Until: "detect"}).Blocks
	if b.Merged == nil || b.T != 8 || len(b.Merged.Branches) != 2 {
		t.Fatalf("merged=%v T=%d", b.Merged != nil, b.T)
	}
	dir := t.TempDir()
	var paths []string
	runs := passRuns(t, 8, passes.Options{})
	for _, src := range []string{"looped-parallel", "reverse", "skip", "0,[1,3,5]x2,6-7"} {
		o := compile.Options{Pass: src}
		if _, isPass := runs[src]; !isPass {
			o = compile.Options{Schedule: src}
		}
		r := run(t, in, o)
		got, sched := r.Model, r.Schedule
		want := testmodels.Merged(testmodels.MustBuild(spec, sched))
		gotPath := save(t, dir, fmt.Sprintf("got%d", len(paths)), got)
		paths = append(paths, gotPath)
		wantPath := save(t, dir, fmt.Sprintf("want%d", len(paths)), want)
		gs, ws := orttest.Session(t, gotPath), orttest.Session(t, wantPath)
		feeds, err := testmodels.RandomInputs(spec, sched, testmodels.InputOptions{Batch: 2, Seq: 3, Past: 2, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		for _, useCache := range []bool{true, false} {
			flag := map[string]*runtime.Tensor{"use_cache_branch": runtime.NewBool([]int64{1}, []bool{useCache})}
			f := feeds
			if !useCache { // the branch without the cache sees position 0 onwards
				f = map[string]testmodels.Tensor{}
				for n, v := range feeds {
					f[n] = v
				}
				f["attention_mask"] = testmodels.Tensor{Shape: []int64{2, 3}, Int: []int64{1, 1, 1, 1, 1, 1}}
				f["position_ids"] = testmodels.Tensor{Shape: []int64{2, 3}, Int: []int64{0, 1, 2, 0, 1, 2}}
			}
			orttest.Compare(t, fmt.Sprintf("%s use_cache=%v", src, useCache),
				orttest.RunWith(t, gs, f, flag), orttest.RunWith(t, ws, f, flag), 1e-5)
		}
	}
	onnxcheck.CheckMany(t, paths...)
}
