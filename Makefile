# Railyard's developer commands. `make run` and `make test` are the README's
# quick start; .ci/run runs `make test`.

SHELL := /bin/bash
GO ?= go

.PHONY: all build run test vet fmt check clean

all: check

## build: build the railyard binary into bin/
build:
	$(GO) build -o bin/railyard ./cmd/railyard

## run: run the server on http://127.0.0.1:8080 with its data in ./railyard-data
run:
	$(GO) run ./cmd/railyard serve

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

## vet: go vet every package
vet:
	$(GO) vet ./...

## fmt: fail if a file is not gofmt-formatted
fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

## check: fmt, vet and test
check: fmt vet test

## clean: remove build output
clean:
	rm -rf bin
