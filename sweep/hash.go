package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/onnx"
)

// HashFile returns the SHA-256 of a file's bytes, in hex.
func HashFile(path string) (string, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// HashModel returns the content hash of a model: the SHA-256 of its .onnx
// file together with the name and SHA-256 of every external data file its
// tensors refer to, so that a changed weight file changes the hash. m is the
// decoded model at path (its Dir resolves the locations).
func HashModel(path string, m *onnx.Model) (string, error) {
	main, err := HashFile(path)
	if err != nil {
		return "", err
	}
	locs := map[string]bool{}
	var walkGraph func(g *onnx.Graph)
	tensor := func(t *onnx.Tensor) {
		if t.IsExternal() {
			if info, err := t.External(); err == nil {
				locs[info.Location] = true
			}
		}
	}
	walkGraph = func(g *onnx.Graph) {
		if g == nil {
			return
		}
		for _, t := range g.Initializer {
			tensor(t)
		}
		for _, n := range g.Node {
			for _, a := range n.Attribute {
				if a.T != nil {
					tensor(a.T)
				}
				for _, t := range a.Tensors {
					tensor(t)
				}
				walkGraph(a.G)
				for _, sg := range a.Graphs {
					walkGraph(sg)
				}
			}
		}
	}
	if m != nil {
		walkGraph(m.Graph)
	}
	h := sha256.New()
	fmt.Fprintf(h, "painterc model v1\nonnx %s\n", main)
	names := make([]string, 0, len(locs))
	for l := range locs {
		names = append(names, l)
	}
	sort.Strings(names)
	for _, l := range names {
		p, err := onnx.ResolveLocation(m.Dir, l)
		if err != nil {
			return "", err
		}
		sum, err := HashFile(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "external %q %s\n", l, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Key is the content hash a results row is keyed by: the model's hash, the
// canonical schedule, the task file's hash and the scorer settings that
// change scores (sorted by name). Two variants with the same schedule share
// a key, so the sweep scores them once.
func Key(modelHash, schedule, taskHash string, settings map[string]string) string {
	h := sha256.New()
	fmt.Fprintf(h, "painterc sweep key v1\nmodel %s\nschedule %s\ntask %s\n", modelHash, schedule, taskHash)
	names := make([]string, 0, len(settings))
	for k := range settings {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(h, "setting %q %q\n", k, settings[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// settingsText is settings in a stable, readable form for messages.
func settingsText(s map[string]string) string {
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + "=" + s[k]
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, " ")
}
