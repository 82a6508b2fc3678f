# crossgov entry points. `make test` is what CI runs (.ci/run); it installs the EVM toolchain itself.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The native binary from the platform package: npm's `forge` wrapper script exits 0 whatever forge
# returned, which would hide failing tests.
NPM_PLATFORM := $(shell node -p "process.platform + '-' + ({x64: 'amd64', arm64: 'arm64'}[process.arch] || process.arch)" 2>/dev/null)
FORGE := $(CURDIR)/node_modules/@foundry-rs/forge-$(NPM_PLATFORM)/bin/forge
TOOLCHAIN_STAMP := node_modules/.crossgov-toolchain
USERS ?= 20
RATES ?= 2,5,10,20,40
RATE_SECS ?= 30
TRIALS ?= 100
JOBS ?= 4
TEST_LOGS := $(CURDIR)/target/test-logs
# CI=true raises fuzz and invariant effort (foundry.toml [profile.ci]).
FORGE_PROFILE := $(if $(filter true,$(CI)),ci,default)
# The EVM the contracts are compiled for (foundry.toml's evm_version, London, unless set). The
# committed artifacts are London's: `make contracts EVM_VERSION=shanghai` rewrites them for a chain
# that has a later hardfork, and test-contracts checks them against the same setting.
EVM_VERSION ?= london
# Fuzz and invariant gas varies with the random inputs, so the committed snapshot holds unit tests only.
SNAPSHOT_FILTER := --no-match-test '^(testFuzz|invariant)_'

.PHONY: help toolchain contracts test test-contracts test-rust lint-solidity gas-snapshot demo bench-gas bench chaos

help:
	@echo "make test       build and run every check and test (what CI runs)"
	@echo "make contracts  compile contracts and rewrite contracts/artifacts/*.json"
	@echo "make demo       run a local consortium through 2PC, HTLC, a relayer crash and the audit"
	@echo "make bench-gas  gas per 2PC transfer, HTLC swap and batched report vs a lower bound and the baseline"
	@echo "make bench      bench-gas, then throughput, latency, resume time and capacity at rising offered load (1 s blocks)"
	@echo "make chaos      TRIALS=N seeded fault trials (SEED=base to repeat a run, REPLAY=seed for one trial)"

# The npm registry is the only source of anvil, forge and solc here; package-lock.json pins them.
# `npm install` rather than `npm ci`: the lock holds only the platform packages this registry serves,
# which `npm ci` treats as out of sync; with the lock present `npm install` keeps the pinned versions.
$(TOOLCHAIN_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is required (Node.js 18+): apt-get install nodejs npm" >&2; exit 1; }
	npm install --no-audit --no-fund
	@touch $@

toolchain: $(TOOLCHAIN_STAMP)

contracts: toolchain
	cd contracts && FOUNDRY_EVM_VERSION=$(EVM_VERSION) $(FORGE) build
	node tools/artifacts.mjs

test: toolchain
	@rm -rf $(TEST_LOGS) && mkdir -p $(TEST_LOGS)
	$(MAKE) --no-print-directory test-contracts lint-solidity test-rust
	@node tools/test-summary.mjs $(TEST_LOGS)/*.log

# forge lints contracts/src while it builds ([lint] in foundry.toml); any lint or compiler warning
# fails here. (A separate `forge lint` run would leave ABI-only files in out/.)
test-contracts:
	@cd contracts && { log=$$(FOUNDRY_EVM_VERSION=$(EVM_VERSION) $(FORGE) build 2>&1) || { echo "$$log"; exit 1; }; } && echo "$$log" && \
	  if grep -qE '^(warning|error)(\[|:)' <<< "$$log"; then echo "forge build reported warnings" >&2; exit 1; fi
	node tools/artifacts.mjs --check
	cd contracts && $(FORGE) fmt --check
	@mkdir -p $(TEST_LOGS)
	cd contracts && FOUNDRY_EVM_VERSION=$(EVM_VERSION) FOUNDRY_PROFILE=$(FORGE_PROFILE) $(FORGE) test 2>&1 | tee $(TEST_LOGS)/forge.log
	cd contracts && FOUNDRY_EVM_VERSION=$(EVM_VERSION) $(FORGE) snapshot --check $(SNAPSHOT_FILTER)

gas-snapshot: toolchain
	cd contracts && FOUNDRY_EVM_VERSION=$(EVM_VERSION) $(FORGE) snapshot $(SNAPSHOT_FILTER)

# solang is a second, independent Solidity front end: its errors and warnings fail the build.
lint-solidity:
	cargo run -q -p solang-lint -- contracts/src

test-rust:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	@mkdir -p $(TEST_LOGS)
	cargo test --workspace --locked 2>&1 | tee $(TEST_LOGS)/cargo.log

# Installs the npm toolchain (anvil) if needed, builds the CLI and runs `crossgov demo`.
demo: toolchain
	cargo run --quiet --bin crossgov -- demo

# Gas per cross-chain operation from real receipts; fails when a figure grew >5% over the
# committed baseline (bench/baseline/gas.json: update it in the same change when intended).
bench-gas: toolchain
	cargo run --quiet --bin crossgov-bench -- gas --out bench/results/gas.json --check bench/baseline/gas.json

# Throughput, latency, CPU/RSS and resume time of 2PC transfers at 1 s blocks (a release build:
# the relayers' CPU is part of the figures): USERS at once, then capacity at the offered RATES
# (transfers/s, RATE_SECS each) until the relayers stop keeping up. The latest run's figures;
# the before/after history is in bench/results/load.json and optimisations.json.
bench: bench-gas
	cargo run --release --quiet --bin crossgov-bench -- load --users $(USERS) --block-time 1 --out bench/results/load-latest.json
	cargo run --release --quiet --bin crossgov-bench -- load --rate $(RATES) --secs $(RATE_SECS) --block-time 1 --out bench/results/capacity.json

# Seeded randomized fault trials against the local consortium; prints a summary and fails on any
# violation, naming the failing seed and `make chaos REPLAY=<seed>`, which replays that trial.
chaos: toolchain
	cargo run --quiet --bin crossgov-chaos -- $(if $(REPLAY),--replay $(REPLAY),--trials $(TRIALS) --jobs $(JOBS) $(if $(SEED),--seed $(SEED)))
