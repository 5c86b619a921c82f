# make run   installs/starts what is missing (Redis, MinIO, fonts), then runs
#            the whole system on the built-in WeChat simulator and prints a
#            demo poster's URL. Ctrl-C stops it.
# make test  the same set-up, then every test (unit and integration) with -race.
SHELL := /bin/bash

.PHONY: run test bench build deps
deps:
	./scripts/devenv.sh

run: deps
	go run ./cmd/wxposter dev -demo

test: deps
	go test -race -count=1 -timeout 25m ./...

bench: deps
	go test -run '^$$' -bench . -benchmem ./...

build:
	go build -o wxposter ./cmd/wxposter
