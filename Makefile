# redox-hwtest. The two commands: `make run` and `make test` (see README.md).
GO       ?= go
BIN      := bin/redox-hwtest
MATRIX   ?= hw.yaml
# Fuzz by iteration count, never by wall time: a timed -fuzztime on a loaded 2-core machine
# fails with "context deadline exceeded" now and then.
FUZZTIME ?= 2000x
# Timeouts inside the tests are the harness's own (scaled boot deadlines); this only stops a
# runaway test binary.
TESTTIMEOUT ?= 75m

# gitlab-ci-local (npm), pinned with its dependency tree in ci/gitlab-ci-local/package-lock.json,
# installed project-locally by `make deps` (make pipeline runs the example GitLab pipeline with it).
GCL_DIR  := .cache/tools/gitlab-ci-local
GCL      := $(GCL_DIR)/node_modules/.bin/gitlab-ci-local

.PHONY: all deps packages fixtures build run test vet unit fuzz bench nightly pipeline facts-drift clean

all: build

## deps: install the Debian packages the harness and its tests need (as root; otherwise list what
## is missing), and gitlab-ci-local for `make pipeline`
deps: packages $(GCL)

# packages: the Debian packages alone; what `make test` and `make run` need (no test runs
# gitlab-ci-local, whose npm install takes minutes on a fresh machine)
packages:
	sh fixtures/install-deps.sh --with-chromium

$(GCL): ci/gitlab-ci-local/package.json ci/gitlab-ci-local/package-lock.json
	sh fixtures/install-deps.sh --with-chromium
	mkdir -p $(GCL_DIR) && cp ci/gitlab-ci-local/package.json ci/gitlab-ci-local/package-lock.json $(GCL_DIR)/
	cd $(GCL_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(GCL)

## fixtures: build the stand-in boot images into .cache/fixtures/current (cached by a hash of their inputs)
fixtures: packages
	sh fixtures/build.sh >/dev/null

## build: the command-line front end
build:
	$(GO) build -o $(BIN) ./cmd/redox-hwtest

## run: boot the default matrix and write results under out/runs/<time>/
run: fixtures build
	$(BIN) run -matrix $(MATRIX); status=$$?; \
	$(BIN) report site -o out/site out/runs/*/ >/dev/null && echo "support page: out/site/index.html"; \
	exit $$status

## facts-drift: find every source line docs/redox-facts.md quotes at the newest commit of its
## repository in MIRRORS (bare git mirrors, <owner>+<name>/repo or <owner>/<name>.git);
## writes docs/redox-drift.md. Needs the mirrors (no network), so not part of `make test`.
## redox-os/base is read in the fork Gh0s777tt/eos-base, whose last upstream commit is 9dd6901d.
MIRRORS ?=
DRIFTFLAGS ?= -alias redox-os/base=Gh0s777tt/eos-base -head redox-os/base=9dd6901d
facts-drift:
	@test -n "$(MIRRORS)" || { echo "usage: make facts-drift MIRRORS=<directory of upstream mirrors>"; exit 2; }
	$(GO) run ./cmd/redox-hwtest facts-drift -mirrors "$(MIRRORS)" $(DRIFTFLAGS) -out docs/redox-drift.md; s=$$?; [ $$s -le 1 ] || exit $$s

## nightly: run the matrix, gate against the last good run (out/nightly/baseline), publish out/nightly/site
nightly: fixtures build
	sh ci/nightly.sh

## pipeline: run ci/gitlab-nightly.example.yml under gitlab-ci-local on the lab stand-ins (docs/pipeline.md)
pipeline: fixtures deps
	sh ci/pipeline.sh

## test: vet, unit and integration tests against real stand-in guests, then a short fuzz of every target
test: fixtures vet unit fuzz

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l . | grep -v '^\.cache/')" || { echo "gofmt needed:"; gofmt -l . | grep -v '^\.cache/'; exit 1; }

# The Ginkgo suites under suites/ run the whole matrix when given no filter (`make run`'s
# work, once per suite package). `make test` runs them end to end on the x86_64 BIOS jobs
# (the plain stand-in and the one speaking Redox; REDOX_HWTEST_FILTER is -filter's default)
# and lists the whole matrix with a dry run: every other job's path (UEFI, aarch64, i586,
# riscv64, screen-only) has its live tests in the package that implements it.
SUITEFILTER ?= arch:x86_64,firmware:bios,!screen-only

# Three test packages at once on two cores: the longest packages spend most of their time
# waiting (silence windows, BMC timeouts, TCG guests stalled on purpose), so the machine sat
# at a load of ~1.6 with two; the time scale of the stand-in jobs (x15) absorbs the rest.
TESTPKGS ?= 3

unit:
	REDOX_HWTEST_REQUIRE_FIXTURES=1 REDOX_HWTEST_FILTER='$(SUITEFILTER)' $(GO) test -p $(TESTPKGS) -timeout $(TESTTIMEOUT) ./...
	$(GO) test -count=1 ./suites/... -matrix=$(MATRIX) -ginkgo.dry-run >/dev/null

## fuzz: run every Go fuzz target for FUZZTIME each
fuzz:
	@set -e; grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^\./\.cache/' | while read f; do \
	  pkg=./$$(dirname $${f#./}); \
	  for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
	    echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg >/dev/null || { $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; exit 1; }; \
	  done; \
	done

## bench: speed goals as ratios against baselines measured in the same run
bench: fixtures
	$(GO) test -run '^$$' -bench 'PlainRead|ConsoleMatch20' -benchtime 3x ./harness/engine/console > out-bench.txt
	$(GO) test -run '^$$' -bench 'BootToShell|ScreenOverhead' -benchtime 3x -timeout 30m ./harness/engine/job >> out-bench.txt
	$(GO) test -run '^$$' -bench 'OCR' -benchtime 2x ./harness/engine/screen >> out-bench.txt
	$(GO) test -run '^$$' -bench 'RFB' -benchtime 20x ./hosts/rfb >> out-bench.txt
	$(GO) test -run '^$$' -bench 'ScreenOnly' -benchtime 2x -timeout 30m ./harness/engine/job >> out-bench.txt
	-$(GO) test -run '^$$' -bench 'Analyze' -benchtime 3x ./harness/... ./cmd/... >> out-bench.txt 2>/dev/null
	$(GO) test -run '^$$' -bench 'Lab20|Lab300|MakeRunVMs' -benchtime 1x -timeout 60m ./harness/lab/schedule >> out-bench.txt
	cd internal/peerbench && $(GO) test -run '^$$' -bench Peer -benchtime 3x -timeout 30m . >> ../../out-bench.txt
	$(GO) test -run '^$$' -bench 'ImageFetch' -benchtime 3x -timeout 30m ./hosts/imagecache >> out-bench.txt
	$(GO) test -run '^$$' -bench 'Site' -benchtime 1x -timeout 20m ./reports/site >> out-bench.txt
	$(GO) run ./internal/benchratio < out-bench.txt
	@rm -f out-bench.txt

clean:
	rm -rf bin out
