#!/usr/bin/env bash
# devenv.sh makes sure what wxposter needs on this machine is installed and
# running, installing or starting only what is missing:
#   - fonts-noto-cjk and fonts-noto-color-emoji (poster text), libjpeg-turbo
#     headers (the fast JPEG encoder), build tools and chromium (headless
#     browser tests), from Debian
#   - Redis on 127.0.0.1:6379
#   - MinIO on 127.0.0.1:9000, built once with `go install` and then reused
#   - versitygw (a maintained S3 gateway) on 127.0.0.1:7170, the second S3
#     server every storage path is tested on, likewise built once
#   - Node's mini-program test packages (npm ci, pinned by
#     clients/miniprogram/package-lock.json) for the share-poster component
# It is idempotent: `make run` and `make test` call it every time.
set -euo pipefail

# Outside the checkout: MinIO keeps running after this clone is deleted
# (CI clones afresh), and its data dir must outlive the clone.
STATE="${WXPOSTER_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/wxposter}"
MINIO_MODULE="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
MINIO_ENDPOINT="${WXPOSTER_MINIO_ENDPOINT:-127.0.0.1:9000}"
MINIO_USER="${WXPOSTER_MINIO_ACCESS_KEY:-wxposter}"
MINIO_PASS="${WXPOSTER_MINIO_SECRET_KEY:-wxposter-dev-secret}"
REDIS_PORT=6379
VERSITYGW_MODULE="github.com/versity/versitygw/cmd/versitygw@v1.8.0"
VERSITYGW_ENDPOINT="${WXPOSTER_TEST_VERSITYGW_ENDPOINT:-127.0.0.1:7170}"
VERSITYGW_USER="${WXPOSTER_TEST_VERSITYGW_ACCESS_KEY:-wxposter}"
VERSITYGW_PASS="${WXPOSTER_TEST_VERSITYGW_SECRET_KEY:-wxposter-dev-secret}"

log() { printf '[devenv] %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

mkdir -p "$STATE"

apt_install() {
	if [ "$(id -u)" -ne 0 ]; then
		log "missing Debian packages: $*; run: sudo apt-get install -y $*"
		exit 1
	fi
	log "installing $* (apt-get)"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >"$STATE/apt.log" 2>&1; then
		apt-get update >>"$STATE/apt.log" 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$STATE/apt.log" 2>&1 ||
			{ log "apt-get failed; see $STATE/apt.log"; exit 1; }
	fi
}

# --- Debian packages -------------------------------------------------------
missing=()
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || [ -n "${WXPOSTER_FONT_DIR:-}" ] || missing+=(fonts-noto-cjk)
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || [ -n "${WXPOSTER_FONT_DIR:-}" ] || missing+=(fonts-noto-color-emoji)
[ -f /usr/include/jpeglib.h ] || missing+=(libjpeg62-turbo-dev) # libjpeg-turbo for the cgo JPEG encoder
have gcc || missing+=(gcc)
have curl || missing+=(curl)
have redis-server || missing+=(redis-server)
have node || missing+=(nodejs) # the callback verifier's and the mini-program helper's tests
have chromium || [ -n "${WXPOSTER_CHROMIUM:-}" ] || missing+=(chromium) # headless browser tests (dashboard)
have npm || missing+=(npm) # the mini-program component's test packages (npm ci)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# --- Redis -----------------------------------------------------------------
redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
if ! redis_up; then
	log "starting Redis on 127.0.0.1:$REDIS_PORT"
	redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" \
		--save "" --appendonly no --dir "$STATE" --logfile "$STATE/redis.log"
	for _ in $(seq 50); do redis_up && break; sleep 0.1; done
	redis_up || { log "Redis did not start; see $STATE/redis.log"; exit 1; }
fi

# --- MinIO -----------------------------------------------------------------
minio_up() { curl -sf "http://$MINIO_ENDPOINT/minio/health/live" >/dev/null 2>&1; }
if ! minio_up; then
	MINIO_BIN="$(go env GOPATH)/bin/minio"
	if [ ! -x "$MINIO_BIN" ]; then
		log "building MinIO once with go install (about 6 minutes; cached in $(go env GOPATH)/bin)"
		(cd "$STATE" && GOFLAGS=-mod=mod go install "$MINIO_MODULE")
	fi
	log "starting MinIO on $MINIO_ENDPOINT (data in $STATE/minio)"
	MINIO_ROOT_USER="$MINIO_USER" MINIO_ROOT_PASSWORD="$MINIO_PASS" MINIO_BROWSER=off \
		nohup "$MINIO_BIN" server "$STATE/minio" --address "$MINIO_ENDPOINT" --quiet \
		>"$STATE/minio.log" 2>&1 </dev/null &
	for _ in $(seq 100); do minio_up && break; sleep 0.2; done
	minio_up || { log "MinIO did not start; see $STATE/minio.log"; exit 1; }
fi

# --- versitygw -------------------------------------------------------------
versitygw_up() { curl -sf "http://$VERSITYGW_ENDPOINT/health" >/dev/null 2>&1; }
if ! versitygw_up; then
	VERSITYGW_BIN="$(go env GOPATH)/bin/versitygw"
	if [ ! -x "$VERSITYGW_BIN" ]; then
		log "building versitygw once with go install (about 2 minutes; cached in $(go env GOPATH)/bin)"
		(cd "$STATE" && GOFLAGS=-mod=mod go install "$VERSITYGW_MODULE")
	fi
	log "starting versitygw on $VERSITYGW_ENDPOINT (data in $STATE/versitygw)"
	mkdir -p "$STATE/versitygw"
	ROOT_ACCESS_KEY="$VERSITYGW_USER" ROOT_SECRET_KEY="$VERSITYGW_PASS" \
		nohup "$VERSITYGW_BIN" --port "$VERSITYGW_ENDPOINT" --health /health --quiet posix "$STATE/versitygw" \
		>"$STATE/versitygw.log" 2>&1 </dev/null &
	for _ in $(seq 100); do versitygw_up && break; sleep 0.2; done
	versitygw_up || { log "versitygw did not start; see $STATE/versitygw.log"; exit 1; }
fi
log "ready: Redis 127.0.0.1:$REDIS_PORT, MinIO $MINIO_ENDPOINT, versitygw $VERSITYGW_ENDPOINT"
# --- Node packages of the mini-program tests (miniprogram-simulate) ----------
MP_DIR="$(cd "$(dirname "$0")/.." && pwd)/clients/miniprogram"
if [ -f "$MP_DIR/package-lock.json" ] && [ ! -d "$MP_DIR/node_modules/miniprogram-simulate" ]; then
	log "installing the mini-program test packages (npm ci in clients/miniprogram)"
	(cd "$MP_DIR" && npm ci --no-audit --no-fund >"$STATE/npm.log" 2>&1) ||
		{ log "npm ci failed; see $STATE/npm.log"; exit 1; }
fi

log "ready: Redis 127.0.0.1:$REDIS_PORT, MinIO $MINIO_ENDPOINT"
