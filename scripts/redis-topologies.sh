#!/usr/bin/env bash
# redis-topologies.sh starts, on loopback, the two Redis topologies the
# end-to-end spine also runs on in `make test`:
#   - a Redis Cluster of three masters     127.0.0.1:7101-7103
#   - a master + replica watched by three  127.0.0.1:7111 (master), 7112 (replica)
#     Sentinels (master name wxposter-test) 127.0.0.1:7121-7123
# Sentinel is tuned to fail over within a few seconds (down-after 1 s), for
# the test that kills the master mid-run. It is idempotent: running nodes
# are reused, missing ones started (after a failover, as replicas of the
# current master), and it prints the URLs the tests read.
#
#   scripts/redis-topologies.sh        start what is missing, print the URLs
#   scripts/redis-topologies.sh stop   stop every node it started
set -euo pipefail

STATE="${WXPOSTER_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/wxposter}"
DIR="$STATE/redis-topologies"
CLUSTER_PORTS=(7101 7102 7103)
DATA_PORTS=(7111 7112)
SENTINEL_PORTS=(7121 7122 7123)
MASTER_NAME=wxposter-test

log() { printf '[redis-topologies] %s\n' "$*" >&2; }
up() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }
wait_up() {
	for _ in $(seq 50); do up "$1" && return 0; sleep 0.1; done
	log "node $1 did not start; see $DIR/$1/redis.log"
	exit 1
}

mkdir -p "$DIR"

if [ "${1:-}" = stop ]; then
	for p in "${CLUSTER_PORTS[@]}" "${DATA_PORTS[@]}" "${SENTINEL_PORTS[@]}"; do
		pid="$(cat "$DIR/$p/redis.pid" 2>/dev/null || true)"
		if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then log "stopped $p (pid $pid)"; fi
	done
	exit 0
fi

# One run at a time: several checkouts may run `make test` at once.
exec 9>"$DIR/lock"
flock 9

# start_node PORT [redis-server args…] starts a data node unless it runs.
start_node() {
	local port=$1
	shift
	up "$port" && return 0
	mkdir -p "$DIR/$port"
	redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --dir "$DIR/$port" \
		--logfile "$DIR/$port/redis.log" --pidfile "$DIR/$port/redis.pid" \
		--save "" --appendonly no "$@" 9>&-
	wait_up "$port"
}

# --- Cluster -----------------------------------------------------------------
cluster_ok() { redis-cli -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }
for p in "${CLUSTER_PORTS[@]}"; do
	start_node "$p" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000
done
# Restarted nodes find each other again through nodes.conf; give them time.
for _ in $(seq 50); do cluster_ok "${CLUSTER_PORTS[0]}" && break; sleep 0.1; done
if ! cluster_ok "${CLUSTER_PORTS[0]}"; then
	log "creating the cluster on ${CLUSTER_PORTS[*]}"
	addrs=()
	for p in "${CLUSTER_PORTS[@]}"; do
		# Only our own test nodes: forget any half-made cluster.
		redis-cli -p "$p" flushall >/dev/null
		redis-cli -p "$p" cluster reset hard >/dev/null
		addrs+=("127.0.0.1:$p")
	done
	redis-cli --cluster create "${addrs[@]}" --cluster-yes >"$DIR/cluster-create.log" 2>&1 ||
		{ log "cluster create failed; see $DIR/cluster-create.log"; exit 1; }
	for p in "${CLUSTER_PORTS[@]}"; do
		for _ in $(seq 100); do cluster_ok "$p" && break; sleep 0.1; done
		cluster_ok "$p" || { log "cluster not ok on $p"; exit 1; }
	done
fi

# --- Sentinel ----------------------------------------------------------------
# current_master is the data node's port the sentinels (or, without them,
# the nodes themselves) say is the master.
current_master() {
	local s addr p
	for s in "${SENTINEL_PORTS[@]}"; do
		if up "$s"; then
			addr="$(redis-cli -p "$s" sentinel get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | tail -1)"
			if [ -n "$addr" ] && up "$addr"; then echo "$addr"; return; fi
		fi
	done
	for p in "${DATA_PORTS[@]}"; do
		if up "$p" && redis-cli -p "$p" role 2>/dev/null | head -1 | grep -q master; then echo "$p"; return; fi
	done
	echo "${DATA_PORTS[0]}"
}
master="$(current_master)"
start_node "$master" --appendonly no
for p in "${DATA_PORTS[@]}"; do
	[ "$p" = "$master" ] || start_node "$p" --replicaof 127.0.0.1 "$master"
done
any_sentinel=false
for s in "${SENTINEL_PORTS[@]}"; do up "$s" && any_sentinel=true; done
for s in "${SENTINEL_PORTS[@]}"; do
	up "$s" && continue
	mkdir -p "$DIR/$s"
	# Sentinels rewrite their own file; with no sentinel left running, the
	# old files may name a stale topology, so start afresh.
	if [ "$any_sentinel" = false ] || [ ! -f "$DIR/$s/sentinel.conf" ]; then
		cat >"$DIR/$s/sentinel.conf" <<-EOF
			port $s
			bind 127.0.0.1
			dir $DIR/$s
			sentinel monitor $MASTER_NAME 127.0.0.1 $master 2
			sentinel down-after-milliseconds $MASTER_NAME 1000
			sentinel failover-timeout $MASTER_NAME 3000
			sentinel parallel-syncs $MASTER_NAME 1
		EOF
	fi
	redis-server "$DIR/$s/sentinel.conf" --sentinel --daemonize yes \
		--logfile "$DIR/$s/redis.log" --pidfile "$DIR/$s/redis.pid" 9>&-
	wait_up "$s"
done

join() { local IFS=,; echo "$*"; }
cl=() sl=()
for p in "${CLUSTER_PORTS[@]}"; do cl+=("127.0.0.1:$p"); done
for p in "${SENTINEL_PORTS[@]}"; do sl+=("127.0.0.1:$p"); done
echo "WXPOSTER_TEST_REDIS_CLUSTER_URL=redis+cluster://$(join "${cl[@]}")"
echo "WXPOSTER_TEST_REDIS_SENTINEL_URL=redis+sentinel://$(join "${sl[@]}")/$MASTER_NAME/0"
log "ready: cluster ${CLUSTER_PORTS[*]}, sentinel master $master (sentinels ${SENTINEL_PORTS[*]})"
