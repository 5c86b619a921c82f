# make run   installs/starts what is missing (Redis, MinIO, fonts), then runs
#            the whole system on the built-in WeChat simulator and prints a
#            demo poster's URL. Ctrl-C stops it.
# make test  the same set-up (plus versitygw, a Redis Cluster and a Sentinel
#            topology on loopback), then every test (unit and integration)
#            with -race.
SHELL := /bin/bash

.PHONY: run test bench build deps chaos
deps:
	./scripts/devenv.sh

run: deps
	go run ./cmd/wxposter dev -demo

test: deps
	./scripts/redis-topologies.sh >/dev/null # Cluster and Sentinel on 127.0.0.1:7101-7123
	go test -race -count=1 -timeout 25m ./...
	cd clients/miniprogram && npm test

# make chaos  the fault-injection suite (chaos/, build tag chaos): its own Redis
#             and MinIO on ports 7200-7299, the real binary killed and starved.
chaos: deps
	go test -tags chaos -count=1 -timeout 20m -v ./chaos/

bench: deps
	go test -run '^$$' -bench . -benchmem ./...

build:
	go build -o wxposter ./cmd/wxposter

# make bench-e2e  the whole system as real processes (simulator, worker at
#                 concurrency 8, producer on 127.0.0.1:7300-7303, the shared
#                 Redis and MinIO with their own queue and bucket): fresh
#                 posters/s, cache hits, idle latency, worker RSS, against the
#                 render-only bound and /healthz of the same sitting.
.PHONY: bench-e2e
bench-e2e: deps
	go run ./cmd/bench-e2e $(BENCH_E2E_FLAGS)
