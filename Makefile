# Keywatch's two commands: `make run` and `make test`. Both set up whatever a
# fresh Debian machine lacks first (scripts/setup.sh), then build.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# cargo-leptos and plain cargo share one target directory, so the console is
# compiled once for tests, end-to-end runs and `make run` alike.
export CARGO_TARGET_DIR ?= $(CURDIR)/target
# .toolchain.env (written by setup) puts Debian's rustc first on PATH when
# rustup could not provide the wasm32 target.
CARGO_ENV := . ./.toolchain.env &&

.PHONY: run test bench setup-run setup-test setup-bench cli cfn-lint e2e lint clean

## Build the console in release mode and start it at http://127.0.0.1:3000 on the sandbox.
run: setup-run
	$(CARGO_ENV) cargo leptos build --release
	"$(CARGO_TARGET_DIR)/release/keywatch" precompress --site-root target/site >/dev/null
	$(CARGO_ENV) LEPTOS_SITE_ROOT=target/site KEYWATCH_AWS=$${KEYWATCH_AWS:-sandbox} \
		"$(CARGO_TARGET_DIR)/release/keywatch" serve

## Every test tier: unit, integration, the CLI against `keywatch sandbox`, cfn-lint on the CloudFormation templates, and Playwright end to end.
test: setup-test
	$(MAKE) --no-print-directory unit-and-integration cli cfn-lint e2e

setup-run:
	@scripts/setup.sh run

setup-test:
	@scripts/setup.sh test

setup-bench:
	@scripts/setup.sh bench

.PHONY: unit-and-integration
unit-and-integration:
	$(CARGO_ENV) cargo test --workspace --exclude keywatch-frontend
	# domain/ is shared with the browser: it must keep building for wasm32.
	$(CARGO_ENV) cargo build -q -p keywatch-domain --target wasm32-unknown-unknown

cli:
	$(CARGO_ENV) cargo build -q -p keywatch
	scripts/test-aws-cli.sh "$(CARGO_TARGET_DIR)/debug/keywatch"
	scripts/test-lab-original.sh "$(CARGO_TARGET_DIR)/debug/keywatch"

# The lab's CloudFormation templates, checked with cfn-lint from PyPI.
cfn-lint:
	scripts/test-cfn-lint.sh

e2e:
	$(CARGO_ENV) scripts/test-e2e.sh

## Requests per second and other ratios against baselines run in the same process.
bench: setup-bench
	$(CARGO_ENV) cargo bench -p keywatch-sandbox --bench throughput
	$(CARGO_ENV) cargo bench -p keywatch-domain --bench filter_pattern
	$(CARGO_ENV) cargo bench -p keywatch-domain --bench alarm_replay
	$(CARGO_ENV) cargo bench -p keywatch-workload --bench round_trip
	$(CARGO_ENV) cargo bench -p keywatch --bench history_page
	$(CARGO_ENV) scripts/bench-first-load.sh

lint:
	$(CARGO_ENV) cargo clippy --workspace --exclude keywatch-frontend --all-targets -- -D warnings
	$(CARGO_ENV) cargo fmt --all --check

clean:
	rm -rf target end2end/test-results end2end/playwright-report
