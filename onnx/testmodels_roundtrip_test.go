package onnx_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/testmodels"
)

// TestRoundTripTestmodels: every testmodel variant, written by this codec,
// decodes and re-encodes to the same bytes (the codec's own output is one of
// the writers it must reproduce exactly).
func TestRoundTripTestmodels(t *testing.T) {
	for _, s := range []testmodels.Spec{
		{Family: testmodels.Llama}, {Family: testmodels.Llama, KVCache: true},
		{Family: testmodels.Llama, Fused: true, KVCache: true}, {Family: testmodels.Llama, NoNames: true},
		{Family: testmodels.GPT2, KVCache: true, NoLayerIndex: true}, {Family: testmodels.BERT},
	} {
		name := fmt.Sprintf("%v kv=%v fused=%v", s.Family, s.KVCache, s.Fused)
		m, err := testmodels.Default(s)
		if err != nil {
			t.Fatal(err)
		}
		first, err := onnx.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		d, err := onnx.Decode(first)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		again, err := onnx.Encode(d)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Errorf("%s: decode+encode changed the bytes (%d -> %d)", name, len(first), len(again))
		}
	}
}
