//go:build cgo

package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// externalFolderKey is ONNX Runtime's session option naming the folder
// that a model loaded from memory resolves its external data locations
// against (kOrtSessionOptionsModelExternalInitializersFileFolderPath).
const externalFolderKey = "session.model_external_initializers_file_folder_path"

// NewSessionWithExternalData loads a serialized ModelProto from memory
// whose external tensors live in files in dataDir: ONNX Runtime resolves
// each tensor's location against dataDir and reads the file itself, as it
// does for a model loaded by path (on the CPU it memory-maps each tensor's
// range), so the weights are neither copied by painterc nor limited by
// protobuf's 2 GiB, and nothing is written anywhere. The caller checks the
// locations first (onnx.Load refuses locations outside the model's
// directory).
//
// A model without external tensors loads as NewSessionFromBytes loads it.
func NewSessionWithExternalData(model []byte, name, dataDir string, so SessionOptions) (*Session, error) {
	m, name, err := decodeSessionBytes(model, name)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(dataDir)
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(dir); err == nil && !st.IsDir() {
			err = errors.New("not a directory")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("model %s: external data folder %q: %w", name, dataDir, unwrapPathErr(err))
	}
	external := firstExternal(m) != ""
	return newSession(name, so, func(opts *ort.SessionOptions) (*ort.DynamicAdvancedSession, error) {
		if external {
			if err := opts.AddSessionConfigEntry(externalFolderKey, dir); err != nil {
				return nil, fmt.Errorf("setting the external data folder: %w", err)
			}
		}
		das, err := ort.NewDynamicAdvancedSessionWithONNXData(model, nil, nil, opts)
		if err != nil {
			return nil, errors.New(strings.TrimPrefix(err.Error(), "Error creating C session: "))
		}
		return das, nil
	})
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
