# kmipd — the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
BIN       := bin/kmipd
DEV_DIR   ?= .kmipd-dev
FUZZTIME  ?= 30s
TEST_FLAGS ?=
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS   := -X main.version=$(VERSION)

.PHONY: all build run test test-unit vet fuzz bench bench-go generate clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kmipd

## run: start kmipd in development mode (dev PKI in $(DEV_DIR), SQLite, software crypto, 127.0.0.1:5696)
run: build
	./$(BIN) -dev -dev-dir $(DEV_DIR)

## test: vet, then every test (unit, contract, integration, interop, conformance)
test: vet
	$(GO) test $(TEST_FLAGS) -count=1 -timeout 30m ./...

test-unit:
	$(GO) test -count=1 -short ./domain/... ./ports/... ./app/... ./adapters/...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

## fuzz: run each fuzz target for $(FUZZTIME)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./adapters/transport/ttlv/
	$(GO) test -run '^$$' -fuzz '^FuzzMessage$$' -fuzztime $(FUZZTIME) ./test/fuzz/

## bench: kmipd (SQLite, bbolt) side by side with pykmip-server and a null responder; writes docs/bench/
BENCH_FLAGS ?=
bench: build
	$(GO) build -o bin/kmip-bench ./cmd/kmip-bench
	./bin/kmip-bench suite -kmipd $(BIN) -out docs/bench $(BENCH_FLAGS)

## bench-go: Go benchmarks of the codec, the storage engines and the PKCS#11 engine (SoftHSM2)
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./adapters/transport/ttlv/ ./adapters/storage/... ./adapters/crypto/pkcs11/

generate:
	$(GO) generate ./domain/kmip/

clean:
	rm -rf bin
