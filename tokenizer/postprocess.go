package tokenizer

import (
	"encoding/json"
	"fmt"
)

// postProcessor adds special tokens around one sequence's ids.
type postProcessor func([]int) []int

var postProcessorTypes = map[string]bool{
	"TemplateProcessing": true, "ByteLevel": true, "BertProcessing": true,
	"RobertaProcessing": true, "Sequence": true,
}

// templatePost builds a processor from a template of ids where -1 stands
// for the sequence.
func templatePost(tmpl []int) postProcessor {
	return func(ids []int) []int {
		out := make([]int, 0, len(ids)+len(tmpl))
		for _, x := range tmpl {
			if x == -1 {
				out = append(out, ids...)
			} else {
				out = append(out, x)
			}
		}
		return out
	}
}

// tokenPair is the ["[CLS]", 101] form of BertProcessing and
// RobertaProcessing.
type tokenPair struct {
	tok string
	id  int
}

func (p *tokenPair) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) != 2 {
		return fmt.Errorf(`must be ["token", id]`)
	}
	if err := json.Unmarshal(raw[0], &p.tok); err != nil {
		return fmt.Errorf(`must be ["token", id]`)
	}
	if err := json.Unmarshal(raw[1], &p.id); err != nil {
		return fmt.Errorf(`must be ["token", id]`)
	}
	return nil
}

func (d *decoder) postProcessor(path string, raw json.RawMessage) (postProcessor, error) {
	typ, err := d.typeOf(path, raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "ByteLevel":
		return func(ids []int) []int { return ids }, nil // offsets only
	case "BertProcessing", "RobertaProcessing":
		var c struct {
			Sep *tokenPair `json:"sep"`
			Cls *tokenPair `json:"cls"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		if c.Sep == nil || c.Cls == nil {
			return nil, d.errf(path, `needs "sep" and "cls"`)
		}
		if c.Sep.id < 0 || c.Cls.id < 0 {
			return nil, d.errf(path, "negative token id")
		}
		return templatePost([]int{c.Cls.id, -1, c.Sep.id}), nil
	case "TemplateProcessing":
		var c struct {
			Single        []json.RawMessage `json:"single"`
			SpecialTokens map[string]struct {
				IDs []int `json:"ids"`
			} `json:"special_tokens"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		var tmpl []int
		for i, item := range c.Single {
			p := fmt.Sprintf("%s.single[%d]", path, i)
			var it struct {
				Sequence *struct {
					ID string `json:"id"`
				} `json:"Sequence"`
				SpecialToken *struct {
					ID string `json:"id"`
				} `json:"SpecialToken"`
			}
			if err := d.decode(p, item, &it); err != nil {
				return nil, err
			}
			switch {
			case it.Sequence != nil:
				if it.Sequence.ID != "A" {
					return nil, d.errf(p, "a single-sequence template can only use sequence A, not %q", it.Sequence.ID)
				}
				tmpl = append(tmpl, -1)
			case it.SpecialToken != nil:
				st, ok := c.SpecialTokens[it.SpecialToken.ID]
				if !ok {
					return nil, d.errf(p, "special token %q is not in special_tokens", it.SpecialToken.ID)
				}
				for _, id := range st.IDs {
					if id < 0 {
						return nil, d.errf(p, "negative id %d", id)
					}
				}
				tmpl = append(tmpl, st.IDs...)
			default:
				return nil, d.errf(p, `needs "Sequence" or "SpecialToken"`)
			}
		}
		return templatePost(tmpl), nil
	case "Sequence":
		var c struct {
			Processors []json.RawMessage `json:"processors"`
		}
		if err := d.decode(path, raw, &c); err != nil {
			return nil, err
		}
		var seq []postProcessor
		for i, r := range c.Processors {
			p, err := d.postProcessor(fmt.Sprintf("%s.processors[%d]", path, i), r)
			if err != nil {
				return nil, err
			}
			seq = append(seq, p)
		}
		return func(ids []int) []int {
			for _, p := range seq {
				ids = p(ids)
			}
			return ids
		}, nil
	}
	return nil, unsupported(d, path, typ, postProcessorTypes)
}
