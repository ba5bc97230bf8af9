# kmipd — the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
BIN       := bin/kmipd
DEV_DIR   ?= .kmipd-dev
FUZZTIME  ?= 30s
TEST_FLAGS ?=
RUN_FLAGS ?=
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS   := -X main.version=$(VERSION)

.PHONY: all build run run-hsm run-pg test test-unit vet lint fuzz bench bench-go generate clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kmipd
	$(GO) build -o bin/kmipctl ./cmd/kmipctl

## run: start kmipd in development mode (dev PKI and seal key in $(DEV_DIR), SQLite, software crypto, 127.0.0.1:5696, HTTPS on 5697)
run: build
	$(BIN) -dev -dev-dir $(DEV_DIR) $(RUN_FLAGS)

## run-hsm: development mode on a SoftHSM2 token, keys sealed under the token's KEK (created in $(HSM_DIR) on first use; needs softhsm2)
HSM_DIR    ?= .kmipd-dev-hsm
HSM_LABEL  ?= kmipd-dev
HSM_MODULE ?= $(firstword $(wildcard /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so /opt/homebrew/lib/softhsm/libsofthsm2.so))
run-hsm: build
	@command -v softhsm2-util >/dev/null || { echo "run-hsm needs SoftHSM2: apt-get install softhsm2"; exit 1; }
	@test -n "$(HSM_MODULE)" || { echo "run-hsm: libsofthsm2.so not found; set HSM_MODULE"; exit 1; }
	@mkdir -p $(HSM_DIR)/tokens && chmod 700 $(HSM_DIR)
	@test -f $(HSM_DIR)/softhsm2.conf || printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$(abspath $(HSM_DIR))" > $(HSM_DIR)/softhsm2.conf
	@test -f $(HSM_DIR)/pin || (umask 077 && od -An -N8 -tx1 /dev/urandom | tr -d ' \n' > $(HSM_DIR)/pin)
	@SOFTHSM2_CONF=$(abspath $(HSM_DIR))/softhsm2.conf softhsm2-util --show-slots | grep -q 'Label: *$(HSM_LABEL) *$$' || \
	  SOFTHSM2_CONF=$(abspath $(HSM_DIR))/softhsm2.conf softhsm2-util --init-token --free --label $(HSM_LABEL) \
	    --so-pin "$$(cat $(HSM_DIR)/pin)" --pin "$$(cat $(HSM_DIR)/pin)" >/dev/null
	@printf '[crypto]\ntype = "pkcs11"\n\n[crypto.pkcs11]\nmodule = "%s"\ntoken_label = "%s"\npin_file = "%s"\n\n[seal]\ntype = "pkcs11"\n\n[seal.pkcs11]\nmodule = "%s"\ntoken_label = "%s"\npin_file = "%s"\n' \
	  "$(HSM_MODULE)" "$(HSM_LABEL)" "$(abspath $(HSM_DIR))/pin" "$(HSM_MODULE)" "$(HSM_LABEL)" "$(abspath $(HSM_DIR))/pin" > $(HSM_DIR)/kmipd-hsm.toml
	SOFTHSM2_CONF=$(abspath $(HSM_DIR))/softhsm2.conf $(BIN) -dev -dev-dir $(HSM_DIR) -config $(HSM_DIR)/kmipd-hsm.toml $(RUN_FLAGS)

## run-pg: a local PostgreSQL cluster in $(PG_DIR) and two kmipd nodes sharing it on 127.0.0.1:$(PORT_A) and :$(PORT_B), dev PKI (needs postgresql)
PG_DIR ?= .kmipd-dev-pg
PORT_A ?= 5696
PORT_B ?= 5697
run-pg: build
	BIN=$(BIN) PG_DIR=$(PG_DIR) PORT_A=$(PORT_A) PORT_B=$(PORT_B) RUN_FLAGS="$(RUN_FLAGS)" ./scripts/run-pg.sh

## test: vet and lint, then every test (unit, contract, integration, interop, conformance)
test: vet lint
	$(GO) test $(TEST_FLAGS) -count=1 -timeout 30m ./...

test-unit:
	$(GO) test -count=1 -short ./domain/... ./ports/... ./app/... ./adapters/...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

## lint: staticcheck, pinned in go.mod as a tool (`go tool staticcheck`); a deprecation
## the KMIP formats force is silenced where it occurs by `//lint:ignore SAxxxx reason`.
lint:
	$(GO) tool staticcheck ./...

## fuzz: run each fuzz target for $(FUZZTIME)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./adapters/transport/ttlv/
	$(GO) test -run '^$$' -fuzz '^FuzzMessage$$' -fuzztime $(FUZZTIME) ./test/fuzz/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./adapters/transport/kmipjson/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./adapters/transport/kmipxml/

## bench: kmipd (SQLite, bbolt) side by side with pykmip-server and a null responder, then kmipd plain / sealed / sealed+audit, then kmipd on PostgreSQL with one and two nodes; writes docs/bench/ (BENCH_FLAGS='-only seal' or '-only postgres': that section alone)
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
