package importers

import "testing"

func TestGsm8kDoc(t *testing.T) {
	d, err := gsm8kDoc(rowOf(t, map[string]any{"question": "2+2?", "answer": "2+2=4\n#### 4"}))
	if err != nil || d != (answerDoc{Context: "Question: 2+2?\nAnswer:", Answer: "2+2=4\n#### 4"}) {
		t.Errorf("got %+v, %v", d, err)
	}
	if h := gsm8k.Header; h.Kind != "generate" || h.MaxGenToks != 256 || len(h.Until) != 3 || h.Until[0] != "Question:" {
		t.Errorf("header %+v: want gsm8k.yaml's until and 256 tokens", h)
	}
}
