//go:build chaos

package chaos

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wxposter/wxposter/wxsim"
)

// check asserts the invariants every scenario shares.
func check(t *testing.T, c *cluster, tl tally, distinct, inFlight int) {
	t.Helper()
	calls := c.codeCalls()
	if tl.Lost != 0 || tl.Failed != 0 || tl.Succeeded != tl.Jobs {
		t.Errorf("jobs %d: succeeded %d, failed %d %v, lost %d; want all succeeded", tl.Jobs, tl.Succeeded, tl.Failed, tl.Codes, tl.Lost)
	}
	if calls < distinct || calls > distinct+inFlight {
		t.Errorf("WeChat code calls %d for %d distinct codes (allowed in flight: %d)", calls, distinct, inFlight)
	}
}

// A worker is SIGKILLed mid-batch (POST /v1/batches) while it has jobs in
// flight; a replacement starts. asynq re-runs the killed jobs once their
// lease expires (30 s) and the recoverer sees them (every minute); the
// batch's counts stay exact.
func TestWorkerSIGKILL(t *testing.T) {
	const n, conc = 100, 4
	c := newCluster(t, "sigkill", wxsim.WithLatency(300*time.Millisecond))
	c.startProducer()
	victim := c.startWorker(conc)
	c.startWorker(conc)
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = map[string]any{"key": fmt.Sprintf("u-%03d", i), "scene": fmt.Sprintf("kill%d", i),
			"data": map[string]string{"nickname": fmt.Sprintf("用户%d", i)}}
	}
	code, out, err := c.call("POST", "/v1/batches", map[string]any{"name": "chaos", "template": "default",
		"page": page, "data": map[string]string{"title": "故障注入"}, "items": items})
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("POST /v1/batches: %d %s %v", code, out, err)
	}
	var b struct {
		ID     string         `json:"id"`
		Status string         `json:"status"`
		Total  int            `json:"total"`
		Counts map[string]int `json:"counts"`
	}
	json.Unmarshal(out, &b)
	time.Sleep(3 * time.Second) // items in flight on both workers
	victim.kill(syscall.SIGKILL)
	c.startWorker(conc)
	start := time.Now()
	for time.Since(start) < 4*time.Minute && b.Status != "completed" {
		if code, out, err := c.call("GET", "/v1/batches/"+b.ID+"?wait=30", nil); err == nil && code == http.StatusOK {
			json.Unmarshal(out, &b)
		}
	}
	total, twice := renders(c.workers...)
	calls := c.codeCalls()
	tl := tally{Jobs: n, Succeeded: b.Counts["succeeded"], Failed: b.Counts["failed"],
		Lost: n - b.Counts["succeeded"] - b.Counts["failed"], Took: time.Since(start)}
	report(t, "worker SIGKILL mid-batch", "batch_items", b.Total, "status", b.Status, "succeeded", tl.Succeeded,
		"failed", tl.Failed, "not_final", tl.Lost, "code_calls", calls, "distinct_codes", n, "renders", total,
		"rendered_twice", twice, "took_after_kill", tl.Took.Round(time.Second))
	if b.Status != "completed" || b.Total != n {
		t.Errorf("batch %+v, want completed with %d items", b, n)
	}
	check(t, c, tl, n, conc)
}

// Redis is SIGKILLed mid-run and restarted on its AOF 3 s later.
func TestRedisSIGKILLAndRestart(t *testing.T) {
	const n, conc = 60, 4
	c := newCluster(t, "redis", wxsim.WithLatency(200*time.Millisecond))
	c.startProducer()
	c.startWorker(conc)
	ids := c.submit(posters("redis", n)...)
	time.Sleep(1500 * time.Millisecond)
	c.redis.kill(syscall.SIGKILL)
	time.Sleep(3 * time.Second)
	c.startRedis()
	tl, _ := c.awaitAll(ids, 4*time.Minute)
	total, twice := renders(c.workers...)
	report(t, "Redis SIGKILL+restart", "jobs", tl.Jobs, "succeeded", tl.Succeeded, "failed", tl.Failed, "lost", tl.Lost,
		"code_calls", c.codeCalls(), "distinct_codes", n, "renders", total, "rendered_twice", twice, "took", tl.Took.Round(time.Second))
	check(t, c, tl, n, 0)
	if twice != 0 {
		t.Errorf("%d jobs rendered twice", twice)
	}
}

// Storage is down for 60 s: posters are still accepted, /readyz stays
// ready (storage degraded), and every job succeeds once storage is back,
// without a second code call.
func TestStorageDown60s(t *testing.T) {
	const before, during, conc = 20, 20, 4
	c := newCluster(t, "storage")
	c.startProducer()
	c.startWorker(conc)
	ids := c.submit(posters("before", before)...)
	c.s3.kill(syscall.SIGKILL)
	downAt := time.Now()
	ids = append(ids, c.submit(posters("during", during)...)...) // fails open
	code, body, err := c.call("GET", "/readyz", nil)
	var ready struct {
		Ready    bool     `json:"ready"`
		Degraded []string `json:"degraded"`
	}
	json.Unmarshal(body, &ready)
	if err != nil || code != http.StatusOK || !ready.Ready || len(ready.Degraded) == 0 {
		t.Errorf("readyz with storage down: %d %s %v; want 200, ready, storage degraded", code, body, err)
	}
	time.Sleep(60*time.Second - time.Since(downAt))
	c.startS3()
	tl, _ := c.awaitAll(ids, 3*time.Minute)
	report(t, "storage down 60s", "jobs", tl.Jobs, "succeeded", tl.Succeeded, "failed", tl.Failed, "lost", tl.Lost,
		"code_calls", c.codeCalls(), "distinct_codes", before+during, "accepted_while_down", during,
		"readyz_while_down", code, "took_after_restore", tl.Took.Round(time.Second))
	check(t, c, tl, before+during, 0)
}

// WeChat answers "system busy" (-1) to 30 % of calls, 250 ms late, and
// every access_token is revoked every 2 s (40001, then a new one).
func TestWeChatBusySlowAndRotatingTokens(t *testing.T) {
	const n, conc = 40, 4
	c := newCluster(t, "wechat", wxsim.WithErrorRatio(0.3), wxsim.WithLatency(250*time.Millisecond))
	c.startProducer()
	c.startWorker(conc)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(2 * time.Second)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				c.sim.InvalidateTokens()
			}
		}
	})
	ids := c.submit(posters("busy", n)...)
	tl, _ := c.awaitAll(ids, 4*time.Minute)
	close(stop)
	wg.Wait()
	busy := c.sim.Count("/wxa/getwxacodeunlimit", -1)
	expired := c.sim.Count("/wxa/getwxacodeunlimit", 40001) + c.sim.Count("/wxa/getwxacodeunlimit", 42001)
	report(t, "WeChat busy+slow+tokens", "jobs", tl.Jobs, "succeeded", tl.Succeeded, "failed", tl.Failed, "lost", tl.Lost,
		"code_calls", c.codeCalls(), "distinct_codes", n, "busy_answers", busy, "token_errors", expired,
		"took", tl.Took.Round(time.Second))
	check(t, c, tl, n, 0)
}

// The producer gets SIGTERM while 40 clients long-poll (?wait=30) jobs no
// worker runs yet: every poll is answered at once with the job's status,
// the producer exits 0, and the jobs finish after a restart.
func TestProducerSIGTERMUnderLongPolls(t *testing.T) {
	const n = 40
	c := newCluster(t, "sigterm")
	c.startProducer()
	ids := c.submit(posters("term", n)...)
	type answer struct {
		code   int
		status string
		after  time.Duration
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			code, body, _ := c.call("GET", "/v1/posters/"+id+"?wait=30", nil)
			var j job
			json.Unmarshal(body, &j)
			answers[i] = answer{code: code, status: j.Status}
		})
	}
	time.Sleep(time.Second) // every poll is waiting
	termAt := time.Now()
	c.prod.kill(syscall.SIGTERM)
	wg.Wait()
	answered := time.Since(termAt)
	exit, err := c.prod.wait(15 * time.Second)
	exited := time.Since(termAt)
	ok := 0
	for _, a := range answers {
		if a.code == http.StatusOK && a.status == "queued" {
			ok++
		}
	}
	c.startProducer()
	c.startWorker(4)
	tl, _ := c.awaitAll(ids, 2*time.Minute)
	report(t, "producer SIGTERM", "long_polls", n, "answered_with_status", ok, "all_answered_after", answered.Round(time.Millisecond),
		"exit_code", exit, "exited_after", exited.Round(time.Millisecond), "jobs", tl.Jobs, "succeeded", tl.Succeeded,
		"failed", tl.Failed, "lost", tl.Lost, "code_calls", c.codeCalls())
	if err != nil || exit != 0 {
		t.Errorf("producer exit %d (%v), want 0", exit, err)
	}
	if ok != n || answered > 10*time.Second {
		t.Errorf("%d of %d long polls answered with their status, the last after %s", ok, n, answered)
	}
	check(t, c, tl, n, 0)
}
