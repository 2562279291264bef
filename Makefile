# Railyard's developer commands. `make run` and `make test` are the README's
# quick start; .ci/run runs `make check`, then `make test`.

SHELL := /bin/bash
GO ?= go
# BIN is where build writes the binary and what run starts.
BIN ?= bin/railyard
# ARGS are more flags for `railyard serve` in run:
# make run ARGS="--listen 127.0.0.1:9090"
ARGS ?=

# What `railyard version` prints, stamped in at link time: git's name for
# the checkout, its commit, and the time of the build. Outside a Git
# checkout they stay empty and the binary falls back to what the Go
# toolchain recorded (see cmd/railyard/version.go).
VERSION = $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT = $(shell git rev-parse HEAD 2>/dev/null)
DATE = $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS = -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

.PHONY: all build run test check tidy fmt vet staticcheck clean

all: check test

## build: build the railyard binary into bin/ (BIN), with its version
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/railyard

## run: build, then run the server on http://127.0.0.1:8080 with its data in
## ./railyard-data; ARGS adds flags. Ctrl-C stops it cleanly: the shell
## execs the binary, so make's only child is the server, which exits 0
## after a graceful shutdown (`go run` would exit 1 on the signal, and make
## report "Error 1").
run: build
	exec $(BIN) serve $(ARGS)

## test: run every test with the race detector; print what plain go test
## prints (failures with their logs, package results) and a closing
## "N passed, N failed, N skipped" line (subtests count)
test:
	@set -o pipefail; $(GO) test -race -count=1 -v ./... 2>&1 | awk "$$GOTEST_FILTER"

# GOTEST_FILTER reads `go test -v` output: it keeps the log of a test only
# if the test fails, drops the progress lines and counts the results.
define GOTEST_FILTER
/^[[:space:]]*=== (RUN|PAUSE|CONT|NAME)/ { next }
/^[[:space:]]*--- FAIL/ { printf "%s", buf; buf = ""; print; failed++; next }
/^[[:space:]]*--- SKIP/ { printf "%s", buf; buf = ""; print; skipped++; next }
/^--- PASS/ { buf = ""; passed++; next }
/^[[:space:]]+--- PASS/ { passed++; next }
/^PASS$$/ { next }
/^(ok|\?) / { buf = ""; print; next }
/^FAIL/ { printf "%s", buf; buf = ""; print; next }
{ buf = buf $$0 "\n" }
END { printf "%s", buf; printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }
endef
export GOTEST_FILTER

## check: the static checks, quick enough to run before every commit (and
## run by CI before the tests): go.mod tidy, gofmt, go vet, staticcheck
check: tidy fmt vet staticcheck

## tidy: fail if go.mod or go.sum is not what `go mod tidy` writes
tidy:
	$(GO) mod tidy -diff

## fmt: fail if a file is not gofmt-formatted
fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

## vet: go vet every package
vet:
	$(GO) vet ./...

## staticcheck: the staticcheck version go.mod pins as a tool
staticcheck:
	$(GO) tool staticcheck ./...

## clean: remove build output
clean:
	rm -rf bin
