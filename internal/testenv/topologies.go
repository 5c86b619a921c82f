package testenv

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Redis topologies scripts/redis-topologies.sh starts on loopback for
// `make test`: a three-master Cluster, and a master + replica watched by
// three Sentinels.
var (
	RedisClusterURL = env("WXPOSTER_TEST_REDIS_CLUSTER_URL",
		"redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103")
	RedisSentinelURL = env("WXPOSTER_TEST_REDIS_SENTINEL_URL",
		"redis+sentinel://127.0.0.1:7121,127.0.0.1:7122,127.0.0.1:7123/"+SentinelMaster+"/0")
)

// SentinelMaster is the master name the test Sentinels watch.
const SentinelMaster = "wxposter-test"

// Nodes the tests may kill: only the topology script's, never the shared
// Redis on 6379.
const topologyPorts = "71"

// LockTopology keeps other test processes (other checkouts running `make
// test` on this machine) from failing over the same topology at the same
// time, until the end of the test.
func LockTopology(tb testing.TB, name string) {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), "wxposter-topology-locks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() }) // closing releases the lock
}

// sentinelAddrs are the host:port list of a redis+sentinel URL.
func sentinelAddrs(tb testing.TB, url string) []string {
	_, rest, _ := strings.Cut(url, "://")
	hosts, _, _ := strings.Cut(rest, "/")
	if i := strings.LastIndexByte(hosts, '@'); i >= 0 {
		hosts = hosts[i+1:]
	}
	return strings.Split(hosts, ",")
}

// SentinelMasterAddr is the master the Sentinels of url name now.
func SentinelMasterAddr(ctx context.Context, tb testing.TB, url string) string {
	tb.Helper()
	for _, a := range sentinelAddrs(tb, url) {
		sc := redis.NewSentinelClient(&redis.Options{Addr: a})
		hp, err := sc.GetMasterAddrByName(ctx, SentinelMaster).Result()
		sc.Close()
		if err == nil && len(hp) == 2 {
			return net.JoinHostPort(hp[0], hp[1])
		}
	}
	tb.Fatalf("no sentinel of %s names a master%s", url, topologyHint)
	return ""
}

const topologyHint = " (run `make test`, or scripts/redis-topologies.sh)"

// WaitSentinelReady waits until the Sentinels of url agree on a master
// that has a replica in sync and every Sentinel knows the others, so that
// a failover can happen now.
func WaitSentinelReady(tb testing.TB, url string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addrs := sentinelAddrs(tb, url)
	for {
		ok := true
		master := SentinelMasterAddr(ctx, tb, url)
		for _, a := range addrs {
			sc := redis.NewSentinelClient(&redis.Options{Addr: a})
			m, err := sc.Master(ctx, SentinelMaster).Result()
			reps, err2 := sc.Replicas(ctx, SentinelMaster).Result()
			sc.Close()
			if err != nil || err2 != nil || net.JoinHostPort(m["ip"], m["port"]) != master ||
				m["num-other-sentinels"] != strconv.Itoa(len(addrs)-1) || !hasHealthyReplica(reps) ||
				strings.Contains(m["flags"], "down") {
				ok = false
			}
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("sentinel topology %s not ready for a failover%s", url, topologyHint)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func hasHealthyReplica(reps []map[string]string) bool {
	for _, r := range reps {
		if !strings.Contains(r["flags"], "down") && !strings.Contains(r["flags"], "disconnected") &&
			r["master-link-status"] == "ok" {
			return true
		}
	}
	return false
}

// SyncReplicas waits until the replicas of the master at addr have every
// write made so far (WAIT after a write of our own: the replication stream
// is ordered). Asynchronous replication loses the last writes when a master
// dies before sending them; this keeps a failover test about failover.
func SyncReplicas(tb testing.TB, addr string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	if err := c.Set(ctx, "wxtest:sync", time.Now().UnixNano(), time.Minute).Err(); err != nil {
		tb.Fatal(err)
	}
	n, err := c.Do(ctx, "WAIT", 1, 5000).Int()
	if err != nil || n < 1 {
		tb.Fatalf("WAIT for the replica: %d, %v", n, err)
	}
}

// KillRedis kills the topology node at addr with SIGKILL, as a crash
// would, and restarts the topology (as a replica of whoever is master
// then) at the end of the test.
func KillRedis(tb testing.TB, addr string) {
	tb.Helper()
	_, port, _ := net.SplitHostPort(addr)
	if !strings.HasPrefix(port, topologyPorts) || len(port) != 4 {
		tb.Fatalf("refusing to kill %s: not a node of scripts/redis-topologies.sh", addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr})
	info, err := c.Info(ctx, "server").Result()
	c.Close()
	if err != nil {
		tb.Fatal(err)
	}
	pid := 0
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	if pid <= 1 {
		tb.Fatalf("no process_id in INFO of %s", addr)
	}
	tb.Cleanup(func() { RestartTopologies(tb) })
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		tb.Fatalf("kill %s (pid %d): %v", addr, pid, err)
	}
	tb.Logf("killed the Redis at %s (pid %d)", addr, pid)
}

// RestartTopologies runs scripts/redis-topologies.sh, which starts the
// nodes that are missing.
func RestartTopologies(tb testing.TB) {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "redis-topologies.sh")
	out, err := exec.Command("bash", script).CombinedOutput()
	if err != nil {
		tb.Errorf("%s: %v\n%s", script, err, out)
	}
}
