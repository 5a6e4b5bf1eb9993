package tokenizer

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode/utf8"
)

// model turns one pre-token into ids.
type model interface {
	tokenize(word string, out []int) []int
	vocab() map[string]int
}

var modelTypes = map[string]bool{"BPE": true, "WordPiece": true, "Unigram": true, "WordLevel": true}

func (d *decoder) model(path string, raw json.RawMessage) (model, error) {
	if isNull(raw) {
		return nil, d.errf(path, "missing")
	}
	var t struct {
		Type *string `json:"type"`
	}
	if err := d.decode(path, raw, &t); err != nil {
		return nil, err
	}
	typ := ""
	if t.Type != nil {
		typ = *t.Type
	} else {
		// Old files leave the model's type out; the fields tell.
		var probe map[string]json.RawMessage
		_ = json.Unmarshal(raw, &probe)
		switch {
		case probe["merges"] != nil:
			typ = "BPE"
		case probe["continuing_subword_prefix"] != nil:
			typ = "WordPiece"
		case bytes.HasPrefix(bytes.TrimSpace(probe["vocab"]), []byte("[")):
			typ = "Unigram"
		default:
			return nil, d.errf(path, `no "type" field`)
		}
	}
	switch typ {
	case "BPE":
		return d.bpe(path, raw)
	case "WordPiece":
		return d.wordPiece(path, raw)
	case "WordLevel":
		return d.wordLevel(path, raw)
	case "Unigram":
		return d.unigram(path, raw)
	}
	return nil, unsupported(d, path, typ, modelTypes)
}

// ---- BPE ----

type bpeModel struct {
	vocabMap   map[string]int
	merges     map[uint64]uint64 // (left<<32|right) -> (rank<<32|merged id)
	unk        string
	unkID      int
	hasUnk     bool
	prefix     string // continuing_subword_prefix
	suffix     string // end_of_word_suffix
	fuseUnk    bool
	byteFall   bool
	ignoreMrg  bool
	byteIDs    [256]int // <0xHH> ids, -1 when missing
	cache      sync.Map // word -> []int
	cacheCount int64
	cacheMu    sync.Mutex
}

// mergeJSON is one merge, written "a b" (older files) or ["a", "b"].
type mergeJSON [2]string

func (m *mergeJSON) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		a, c, ok := strings.Cut(s, " ")
		if !ok {
			return fmt.Errorf("merge %q is not two tokens separated by a space", s)
		}
		m[0], m[1] = a, c
		return nil
	}
	var pair []string
	if err := json.Unmarshal(b, &pair); err != nil {
		return fmt.Errorf("a merge must be \"a b\" or [\"a\", \"b\"], found %s", truncate(string(b), 40))
	}
	if len(pair) != 2 {
		return fmt.Errorf("a merge must have two tokens, found %d", len(pair))
	}
	m[0], m[1] = pair[0], pair[1]
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (d *decoder) bpe(path string, raw json.RawMessage) (model, error) {
	var c struct {
		Vocab       map[string]int `json:"vocab"`
		Merges      []mergeJSON    `json:"merges"`
		Unk         *string        `json:"unk_token"`
		Prefix      *string        `json:"continuing_subword_prefix"`
		Suffix      *string        `json:"end_of_word_suffix"`
		FuseUnk     bool           `json:"fuse_unk"`
		ByteFall    bool           `json:"byte_fallback"`
		IgnoreMerge bool           `json:"ignore_merges"`
		Dropout     *float64       `json:"dropout"`
	}
	if err := d.decode(path, raw, &c); err != nil {
		return nil, err
	}
	if c.Dropout != nil && *c.Dropout > 0 {
		return nil, d.errf(path+".dropout", "BPE dropout %v is not supported (it makes encoding random)", *c.Dropout)
	}
	m := &bpeModel{vocabMap: c.Vocab, fuseUnk: c.FuseUnk, byteFall: c.ByteFall, ignoreMrg: c.IgnoreMerge}
	if m.vocabMap == nil {
		m.vocabMap = map[string]int{}
	}
	if c.Prefix != nil {
		m.prefix = *c.Prefix
	}
	if c.Suffix != nil {
		m.suffix = *c.Suffix
	}
	if c.Unk != nil {
		m.unk = *c.Unk
		m.unkID, m.hasUnk = m.vocabMap[m.unk]
	}
	for b := range m.byteIDs {
		id, ok := m.vocabMap[fmt.Sprintf("<0x%02X>", b)]
		if !ok {
			id = -1
		}
		m.byteIDs[b] = id
	}
	m.merges = make(map[uint64]uint64, len(c.Merges))
	plen := len(m.prefix)
	for i, mg := range c.Merges {
		a, okA := m.vocabMap[mg[0]]
		b, okB := m.vocabMap[mg[1]]
		merged := mg[0] + mg[1]
		if plen > 0 && strings.HasPrefix(mg[1], m.prefix) {
			merged = mg[0] + mg[1][plen:]
		}
		id, okM := m.vocabMap[merged]
		if !okA || !okB || !okM {
			missing := mg[0]
			switch {
			case !okA:
			case !okB:
				missing = mg[1]
			default:
				missing = merged
			}
			return nil, d.errf(fmt.Sprintf("%s.merges[%d]", path, i), "token %q is not in the vocabulary", missing)
		}
		key := uint64(uint32(a))<<32 | uint64(uint32(b))
		if _, dup := m.merges[key]; !dup {
			m.merges[key] = uint64(i)<<32 | uint64(uint32(id))
		}
	}
	return m, nil
}

func (m *bpeModel) vocab() map[string]int { return m.vocabMap }

const maxCached = 1 << 18 // words kept in the BPE cache

// clearCache empties the word cache (benchmarks measure cold encoding).
func (m *bpeModel) clearCache() {
	m.cacheMu.Lock()
	m.cache.Clear()
	m.cacheCount = 0
	m.cacheMu.Unlock()
}

func (m *bpeModel) tokenize(word string, out []int) []int {
	if word == "" {
		return out
	}
	if m.ignoreMrg {
		if id, ok := m.vocabMap[word]; ok {
			return append(out, id)
		}
	}
	if v, ok := m.cache.Load(word); ok {
		return append(out, v.([]int)...)
	}
	ids := m.merge(word)
	if len(word) < 256 {
		m.cacheMu.Lock()
		if m.cacheCount < maxCached {
			m.cacheCount++
			m.cache.Store(word, ids)
		}
		m.cacheMu.Unlock()
	}
	return append(out, ids...)
}

type bpeSym struct {
	id         int
	prev, next int
	gone       bool
}

type bpeCand struct {
	rank  uint32
	pos   int
	newID int
}

type bpeQueue []bpeCand

func (q bpeQueue) Len() int { return len(q) }
func (q bpeQueue) Less(i, j int) bool {
	if q[i].rank != q[j].rank {
		return q[i].rank < q[j].rank
	}
	return q[i].pos < q[j].pos
}
func (q bpeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *bpeQueue) Push(x any)   { *q = append(*q, x.(bpeCand)) }
func (q *bpeQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// merge is BPE on one word: characters become symbols (with the subword
// prefix and word suffix, byte fallback or unk for unknown ones), then the
// lowest-ranked adjacent pair is merged until none is in the merge table.
func (m *bpeModel) merge(word string) []int {
	syms := make([]bpeSym, 0, len(word))
	lastUnk := false // the previous character became unk
	add := func(id int, unk bool) {
		if unk && lastUnk && m.fuseUnk {
			return // fused into the previous unk
		}
		lastUnk = unk
		syms = append(syms, bpeSym{id: id})
	}
	n := utf8.RuneCountInString(word)
	i := 0
	for off, r := range word {
		s := word[off : off+utf8.RuneLen(r)]
		if i > 0 && m.prefix != "" {
			s = m.prefix + s
		}
		if i == n-1 && m.suffix != "" {
			s += m.suffix
		}
		i++
		if id, ok := m.vocabMap[s]; ok {
			add(id, false)
			continue
		}
		if m.byteFall {
			raw := word[off : off+utf8.RuneLen(r)]
			all := true
			for j := 0; j < len(raw); j++ {
				if m.byteIDs[raw[j]] < 0 {
					all = false
				}
			}
			if all {
				for j := 0; j < len(raw); j++ {
					add(m.byteIDs[raw[j]], false)
				}
				continue
			}
		}
		if m.hasUnk {
			add(m.unkID, true)
		}
	}
	for k := range syms {
		syms[k].prev, syms[k].next = k-1, k+1
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	var q bpeQueue
	push := func(pos int) {
		nx := syms[pos].next
		if nx < 0 {
			return
		}
		key := uint64(uint32(syms[pos].id))<<32 | uint64(uint32(syms[nx].id))
		if v, ok := m.merges[key]; ok {
			heap.Push(&q, bpeCand{rank: uint32(v >> 32), pos: pos, newID: int(uint32(v))})
		}
	}
	for k := 0; k+1 < len(syms); k++ {
		push(k)
	}
	for q.Len() > 0 {
		c := heap.Pop(&q).(bpeCand)
		s := &syms[c.pos]
		if s.gone || s.next < 0 {
			continue
		}
		nx := s.next
		key := uint64(uint32(s.id))<<32 | uint64(uint32(syms[nx].id))
		if v, ok := m.merges[key]; !ok || int(uint32(v)) != c.newID {
			continue // stale: a neighbour changed since this was queued
		}
		s.id = c.newID
		syms[nx].gone = true
		s.next = syms[nx].next
		if s.next >= 0 {
			syms[s.next].prev = c.pos
		}
		if s.prev >= 0 {
			push(s.prev)
		}
		push(c.pos)
	}
	ids := make([]int, 0, len(syms))
	for k := 0; k >= 0 && k < len(syms); k = syms[k].next {
		ids = append(ids, syms[k].id)
	}
	return ids
}

// ---- WordPiece ----

type wordPieceModel struct {
	vocabMap map[string]int
	unk      string
	unkID    int
	hasUnk   bool
	prefix   string
	maxChars int
}

func (d *decoder) wordPiece(path string, raw json.RawMessage) (model, error) {
	var c struct {
		Vocab    map[string]int `json:"vocab"`
		Unk      *string        `json:"unk_token"`
		Prefix   *string        `json:"continuing_subword_prefix"`
		MaxChars *int           `json:"max_input_chars_per_word"`
	}
	if err := d.decode(path, raw, &c); err != nil {
		return nil, err
	}
	m := &wordPieceModel{vocabMap: c.Vocab, unk: "[UNK]", prefix: "##", maxChars: 100}
	if m.vocabMap == nil {
		m.vocabMap = map[string]int{}
	}
	if c.Unk != nil {
		m.unk = *c.Unk
	}
	if c.Prefix != nil {
		m.prefix = *c.Prefix
	}
	if c.MaxChars != nil {
		m.maxChars = *c.MaxChars
	}
	m.unkID, m.hasUnk = m.vocabMap[m.unk]
	if !m.hasUnk {
		return nil, d.errf(path+".unk_token", "%q is not in the vocabulary", m.unk)
	}
	return m, nil
}

func (m *wordPieceModel) vocab() map[string]int { return m.vocabMap }

func (m *wordPieceModel) tokenize(word string, out []int) []int {
	if utf8.RuneCountInString(word) > m.maxChars {
		return append(out, m.unkID)
	}
	start := len(out)
	for pos := 0; pos < len(word); {
		end := len(word)
		found := -1
		for end > pos {
			s := word[pos:end]
			if pos > 0 {
				s = m.prefix + s
			}
			if id, ok := m.vocabMap[s]; ok {
				found = id
				break
			}
			_, size := utf8.DecodeLastRuneInString(word[pos:end])
			end -= size
		}
		if found < 0 {
			return append(out[:start], m.unkID)
		}
		out = append(out, found)
		pos = end
	}
	return out
}

// ---- WordLevel ----

type wordLevelModel struct {
	vocabMap map[string]int
	unk      string
	unkID    int
	hasUnk   bool
}

func (d *decoder) wordLevel(path string, raw json.RawMessage) (model, error) {
	var c struct {
		Vocab map[string]int `json:"vocab"`
		Unk   *string        `json:"unk_token"`
	}
	if err := d.decode(path, raw, &c); err != nil {
		return nil, err
	}
	m := &wordLevelModel{vocabMap: c.Vocab, unk: "<unk>"}
	if m.vocabMap == nil {
		m.vocabMap = map[string]int{}
	}
	if c.Unk != nil {
		m.unk = *c.Unk
	}
	m.unkID, m.hasUnk = m.vocabMap[m.unk]
	return m, nil
}

func (m *wordLevelModel) vocab() map[string]int { return m.vocabMap }

func (m *wordLevelModel) tokenize(word string, out []int) []int {
	if id, ok := m.vocabMap[word]; ok {
		return append(out, id)
	}
	if m.hasUnk {
		return append(out, m.unkID)
	}
	return out
}

// ---- Unigram ----

type unigramModel struct {
	vocabMap map[string]int
	pieces   []string
	scores   []float64
	trie     *trieNode
	unkID    int
	hasUnk   bool
	unkScore float64
	byteFall bool
	byteIDs  [256]int
}

type trieNode struct {
	next map[byte]*trieNode
	id   int // -1 when no piece ends here
}

func (d *decoder) unigram(path string, raw json.RawMessage) (model, error) {
	var c struct {
		Vocab    []json.RawMessage `json:"vocab"`
		UnkID    *int              `json:"unk_id"`
		ByteFall bool              `json:"byte_fallback"`
	}
	if err := d.decode(path, raw, &c); err != nil {
		return nil, err
	}
	m := &unigramModel{vocabMap: make(map[string]int, len(c.Vocab)), byteFall: c.ByteFall, trie: &trieNode{id: -1}}
	minScore := math.Inf(1)
	for i, r := range c.Vocab {
		var entry []json.RawMessage
		var piece string
		var score float64
		if json.Unmarshal(r, &entry) != nil || len(entry) != 2 || json.Unmarshal(entry[0], &piece) != nil || json.Unmarshal(entry[1], &score) != nil {
			return nil, d.errf(fmt.Sprintf("%s.vocab[%d]", path, i), `must be ["piece", score], found %s`, truncate(string(r), 40))
		}
		if _, dup := m.vocabMap[piece]; !dup {
			m.vocabMap[piece] = i
		}
		m.pieces = append(m.pieces, piece)
		m.scores = append(m.scores, score)
		minScore = math.Min(minScore, score)
		n := m.trie
		for j := 0; j < len(piece); j++ {
			if n.next == nil {
				n.next = map[byte]*trieNode{}
			}
			nn := n.next[piece[j]]
			if nn == nil {
				nn = &trieNode{id: -1}
				n.next[piece[j]] = nn
			}
			n = nn
		}
		if n.id < 0 {
			n.id = i
		}
	}
	if c.UnkID != nil {
		if *c.UnkID < 0 || *c.UnkID >= len(c.Vocab) {
			return nil, d.errf(path+".unk_id", "%d is outside the vocabulary (size %d)", *c.UnkID, len(c.Vocab))
		}
		m.unkID, m.hasUnk = *c.UnkID, true
	}
	m.unkScore = minScore - 10
	for b := range m.byteIDs {
		id, ok := m.vocabMap[fmt.Sprintf("<0x%02X>", b)]
		if !ok {
			id = -1
		}
		m.byteIDs[b] = id
	}
	return m, nil
}

func (m *unigramModel) vocab() map[string]int { return m.vocabMap }

// tokenize is the Viterbi best segmentation of word; runs of characters no
// piece covers become one unk (or their bytes, with byte_fallback).
func (m *unigramModel) tokenize(word string, out []int) []int {
	if word == "" {
		return out
	}
	type node struct {
		score float64
		start int
		id    int
		set   bool
	}
	best := make([]node, len(word)+1)
	best[0].set = true
	for pos := 0; pos < len(word); {
		if !best[pos].set {
			_, size := utf8.DecodeRuneInString(word[pos:])
			pos += size
			continue
		}
		_, size := utf8.DecodeRuneInString(word[pos:])
		single := false
		n := m.trie
		for j := pos; j < len(word) && n != nil; j++ {
			n = n.next[word[j]]
			if n == nil {
				break
			}
			if n.id >= 0 {
				end := j + 1
				cand := best[pos].score + m.scores[n.id]
				if !best[end].set || cand > best[end].score {
					best[end] = node{score: cand, start: pos, id: n.id, set: true}
				}
				if end-pos == size {
					single = true
				}
			}
		}
		if !single {
			end := pos + size
			cand := best[pos].score + m.unkScore
			if !best[end].set || cand > best[end].score {
				best[end] = node{score: cand, start: pos, id: -1, set: true}
			}
		}
		pos += size
	}
	// Walk back from the end.
	type tok struct {
		a, b int
		id   int
	}
	var toks []tok
	for end := len(word); end > 0; {
		nd := best[end]
		toks = append(toks, tok{nd.start, end, nd.id})
		end = nd.start
	}
	for i, j := 0, len(toks)-1; i < j; i, j = i+1, j-1 {
		toks[i], toks[j] = toks[j], toks[i]
	}
	// Fuse consecutive unknowns.
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.id >= 0 {
			out = append(out, t.id)
			continue
		}
		for i+1 < len(toks) && toks[i+1].id < 0 {
			i++
			t.b = toks[i].b
		}
		out = m.unknown(word[t.a:t.b], out)
	}
	return out
}

func (m *unigramModel) unknown(s string, out []int) []int {
	if m.byteFall {
		all := true
		for j := 0; j < len(s); j++ {
			if m.byteIDs[s[j]] < 0 {
				all = false
			}
		}
		if all {
			for j := 0; j < len(s); j++ {
				out = append(out, m.byteIDs[s[j]])
			}
			return out
		}
	}
	if m.hasUnk {
		out = append(out, m.unkID)
	}
	return out
}
