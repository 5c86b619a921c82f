package e2e

import (
	"bytes"
	"fmt"
	"image"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/scene"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
	"github.com/wxposter/wxposter/wxsim"
)

// The spine end to end (POST → queue → worker → WeChat simulator → render →
// S3 → polled URL → anonymous download with the right QR code) on each Redis
// topology and S3 server wxposter supports besides the default pair.

func TestSpineOnRedisCluster(t *testing.T) {
	s := start(t, withRedis(testenv.RedisClusterURL), withQueueShards(3))
	jobs := spineJobs(t, s, "cluster", 6)
	// The shards are separate asynq queues: each job is in the one its id
	// names, which is where the producer read its status from.
	insp := asynq.NewInspectorFromRedisClient(s.rdb)
	used := map[string]bool{}
	for _, id := range jobs {
		q := tasks.ShardQueue(s.queue, 3, id)
		if _, err := insp.GetTaskInfo(q, id); err != nil {
			t.Errorf("job %s not in its shard %s: %v", id, q, err)
		}
		used[q] = true
	}
	t.Logf("%d jobs over %d shard queues", len(jobs), len(used))
}

func TestSpineOnVersitygw(t *testing.T) {
	s := start(t, withS3(testenv.Versity))
	spineJobs(t, s, "versitygw", 2)
}

// On Sentinel the master is killed (SIGKILL) while jobs run; Sentinel
// promotes the replica, asynq and go-redis reconnect to it, and every job
// still finishes with its poster.
func TestSpineOnRedisSentinelWithFailover(t *testing.T) {
	testenv.LockTopology(t, "sentinel")
	testenv.WaitSentinelReady(t, testenv.RedisSentinelURL)
	s := start(t, withRedis(testenv.RedisSentinelURL), withWorkerConcurrency(2),
		withSim(wxsim.WithLatency(400*time.Millisecond)))
	spineJobs(t, s, "sentinel-before", 1)

	const n = 6
	ids := make([]string, n)
	for i := range ids {
		ids[i] = s.submit(spineBody(s, fmt.Sprintf("failover-%d", i))).ID
	}
	master := testenv.SentinelMasterAddr(ctxT(t), t, testenv.RedisSentinelURL)
	testenv.SyncReplicas(t, master) // the jobs are on the replica too
	testenv.KillRedis(t, master)
	killed := time.Now()
	for i, id := range ids {
		j := s.awaitWithin(id, 150*time.Second)
		if j.Status != "succeeded" {
			t.Fatalf("job %d after the failover = %+v", i, j)
		}
		checkPoster(t, j, spineBody(s, fmt.Sprintf("failover-%d", i)))
	}
	now := testenv.SentinelMasterAddr(ctxT(t), t, testenv.RedisSentinelURL)
	if now == master {
		t.Fatalf("sentinels still name %s, the killed master", master)
	}
	t.Logf("master %s killed; %d jobs finished on %s %s later", master, n, now, time.Since(killed).Round(100*time.Millisecond))
}

// spineBody is a default-template poster with an avatar, unique per tag.
func spineBody(s *system, tag string) map[string]any {
	return map[string]any{
		"template": "default", "page": pageDetail, "scene": "t:" + tag,
		"data": map[string]string{"nickname": "小明", "title": "拼团海报 " + tag, "avatar": s.avatar.URL + "/a.png"},
	}
}

// spineJobs makes n posters and checks each; it returns their job ids.
func spineJobs(t *testing.T, s *system, tag string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		j := s.submit(spineBody(s, fmt.Sprintf("%s-%d", tag, i)))
		if j.Status != "queued" {
			t.Fatalf("submit = %+v, want queued", j)
		}
		ids[i] = j.ID
	}
	for i, id := range ids {
		done := s.awaitWithin(id, 60*time.Second)
		if done.Status != "succeeded" {
			t.Fatalf("job = %+v, want succeeded", done)
		}
		checkPoster(t, done, spineBody(s, fmt.Sprintf("%s-%d", tag, i)))
	}
	return ids
}

// checkPoster downloads a finished poster anonymously and checks that it is
// a 750×1334 JPEG whose QR code opens the requested page and scene.
func checkPoster(t *testing.T, j job, body map[string]any) {
	t.Helper()
	resp, b := download(t, j.URL)
	if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("Content-Type = %q", ct)
	}
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode poster: %v", err)
	}
	if format != "jpeg" || img.Bounds().Dx() != 750 || img.Bounds().Dy() != 1334 {
		t.Errorf("poster is %s %v, want a 750×1334 jpeg", format, img.Bounds())
	}
	want := body["page"].(string) + "?scene=" + body["scene"].(string)
	if got := scanQR(t, img); got != want {
		t.Errorf("QR = %q, want %q", got, want)
	}
}

// awaitWithin polls the job in short holds (a completion notice published
// while Redis fails over is lost; the next poll reads the state) until it
// ends or d passes.
func (s *system) awaitWithin(id string, d time.Duration) job {
	s.tb.Helper()
	deadline := time.Now().Add(d)
	var last job
	for time.Now().Before(deadline) {
		code, j := s.get(id, 2)
		if code == http.StatusOK {
			last = j
			if j.Status == "succeeded" || j.Status == "failed" {
				return j
			}
		} else if !strings.HasPrefix(fmt.Sprint(code), "5") {
			s.tb.Fatalf("GET job %s = %d", id, code)
		} else {
			time.Sleep(200 * time.Millisecond) // 503 while Redis fails over
		}
	}
	s.tb.Fatalf("job %s did not end in %s (last %+v)", id, d, last)
	return job{}
}

// The project's multi-key commands and Lua scripts on Redis Cluster:
// templates (scripts over head, index and version keys in one hash tag),
// pacing (quota holds and resume), scenes, token fetch and force refresh
// (locks, guard keys), and a poster rendered from a stored template.
func TestStoresOnRedisCluster(t *testing.T) {
	s := start(t, withRedis(testenv.RedisClusterURL))
	ctx := ctxT(t)

	activity, err := os.ReadFile("../examples/templates/activity.json")
	if err != nil {
		t.Fatal(err)
	}
	s.putTemplate("activity", activity, http.StatusCreated)
	s.putTemplate("activity", activity, http.StatusOK) // same content: unchanged
	body := map[string]any{"template": "activity", "page": pageDetail, "scene": "act:cluster",
		"data": map[string]string{"title": "集群上的活动", "time": "周六", "place": "植物园", "organizer": "小红花"}}
	s.renderPoster(t, body)
	if code, b := s.call(http.MethodGet, "/v1/templates", nil); code != http.StatusOK || !bytes.Contains(b, []byte(`"activity"`)) {
		t.Fatalf("list = %d %s", code, b)
	}
	if code, b := s.call(http.MethodDelete, "/v1/templates/activity", nil); code != http.StatusNoContent && code != http.StatusOK {
		t.Fatalf("delete = %d %s", code, b)
	}
	if n, err := s.templates.MigrateLegacyKeys(ctx); n != 0 || err != nil {
		t.Fatalf("migration on a cluster = %d, %v; want a no-op", n, err)
	}

	p := pacing.New(s.rdb)
	if _, err := p.DailyQuotaHit(ctx, s.app.AppID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.MinuteQuotaHit(ctx, s.app.AppID); err != nil {
		t.Fatal(err)
	}
	if h, err := p.State(ctx, s.app.AppID); err != nil || !h.Held() {
		t.Fatalf("state after 45009 = %+v, %v", h, err)
	}
	if err := p.Resume(ctx, s.app.AppID); err != nil {
		t.Fatal(err)
	}
	if h, err := p.Admit(ctx, s.app.AppID, time.Second); err != nil || h.Held() {
		t.Fatalf("admit after resume = %+v, %v", h, err)
	}

	scenes := scene.NewStore(s.rdb)
	ref, err := scenes.Scene(ctx, map[string]string{"activity": "2026-spring", "from": "cluster"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := scenes.Resolve(ctx, ref); err != nil || got["from"] != "cluster" {
		t.Fatalf("resolve %s = %v, %v", ref, got, err)
	}

	wx := wechat.New(s.rdb, wechat.WithBaseURL(s.simURL))
	if err := wx.ForceRefreshToken(ctx, s.app); err != nil {
		t.Fatalf("force refresh on a cluster: %v", err)
	}
	if _, err := wx.JSAPITicket(ctx, s.app); err != nil {
		t.Fatalf("jsapi_ticket on a cluster: %v", err)
	}
}

// A batch on Redis Cluster with sharded poster queues: its state scripts
// run under the batch's hash tag, its control tasks on the first shard, its
// items on the batch queue; every item's poster is made.
func TestBatchOnRedisCluster(t *testing.T) {
	s := start(t, withRedis(testenv.RedisClusterURL), withQueueShards(3))
	items := []map[string]any{}
	for i := range 5 {
		items = append(items, map[string]any{"key": fmt.Sprint("k", i), "scene": fmt.Sprint("cl:", i)})
	}
	id := s.createBatch(map[string]any{"name": "cluster", "template": "default", "page": pageIndex,
		"data": map[string]string{"title": "集群批量"}, "items": items})
	v := s.awaitBatch(id, 60*time.Second)
	if v.Status != "completed" || v.Counts["succeeded"] != len(items) {
		t.Fatalf("batch = %+v, want %d succeeded", v, len(items))
	}
	if got := s.sim.Total("/wxa/getwxacodeunlimit"); got != len(items) {
		t.Errorf("code calls = %d, want %d", got, len(items))
	}
}
