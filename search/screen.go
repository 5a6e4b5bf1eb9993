package search

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/schedule"
)

// Screen is what screening says about a candidate on the calibration
// text, each a mean over every scored token: the KL divergence of its
// next-token distribution from the full model's, how often its top token is
// the full model's, and its own negative log-likelihood of the text (whose
// exponential is the calibration perplexity SLEB ranks by).
type Screen struct {
	KL     float64 `json:"kl"`
	Top1   float64 `json:"top1"`
	NLL    float64 `json:"nll"`
	Tokens int     `json:"tokens"`
}

// Screener screens candidates. Package screen's implementation runs the
// full model and several candidates in one ONNX Runtime graph.
type Screener interface {
	Screen(ctx context.Context, cands []schedule.Schedule) ([]Screen, error)
}

// ScreenFile is the screening store in a search directory.
const ScreenFile = "screen.jsonl"

// screenRow is one line of screen.jsonl.
type screenRow struct {
	Schedule string `json:"schedule"`
	Screen
	Key string `json:"key"`
}

// screenStore holds every screen a search has made, keyed by content (the
// model, the calibration windows, the schedule), appended and fsynced as
// each batch finishes, so a killed search resumes without screening again.
type screenStore struct {
	path  string
	salt  string // hash of the model and the calibration windows
	byKey map[string]Screen
	f     *os.File
}

func screenKey(salt, sched string) string {
	h := sha256.Sum256([]byte(salt + "\x00" + sched))
	return hex.EncodeToString(h[:])
}

// openScreenStore reads path (when it exists) and opens it for appending.
// Lines of other models or calibration text stay in the file but are not
// used; a torn last line (a kill mid-write) is dropped.
func openScreenStore(path, salt string) (*screenStore, error) {
	s := &screenStore{path: path, salt: salt, byKey: map[string]Screen{}}
	data, err := safeio.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	good := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		var r screenRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			if good+len(sc.Bytes())+1 >= len(data) {
				break // the torn last line of a killed run
			}
			return nil, fmt.Errorf("%s:%d: not a screening row: %v; move the file away to screen again", path, line, err)
		}
		good += len(sc.Bytes()) + 1
		if r.Key == screenKey(salt, r.Schedule) {
			s.byKey[r.Key] = r.Screen
		}
	}
	if good < len(data) {
		if err := os.Truncate(path, int64(good)); err != nil {
			return nil, err
		}
	}
	if s.f, err = os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *screenStore) get(sched string) (Screen, bool) {
	r, ok := s.byKey[screenKey(s.salt, sched)]
	return r, ok
}

func (s *screenStore) put(scheds []string, rs []Screen) error {
	var buf bytes.Buffer
	for i, sc := range scheds {
		k := screenKey(s.salt, sc)
		s.byKey[k] = rs[i]
		b, err := json.Marshal(screenRow{Schedule: sc, Screen: rs[i], Key: k})
		if err != nil {
			return err
		}
		buf.Write(append(b, '\n'))
	}
	if _, err := s.f.Write(buf.Bytes()); err != nil {
		return err
	}
	return s.f.Sync()
}

func (s *screenStore) close() error {
	if s == nil || s.f == nil {
		return nil
	}
	return s.f.Close()
}
