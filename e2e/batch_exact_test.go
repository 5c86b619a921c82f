package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/imagesrc"
	"github.com/wxposter/wxposter/storage"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
	"github.com/wxposter/wxposter/wxsim"
)

// childConfig is what a worker child process needs to join a test's system.
type childConfig struct {
	SimURL, AppID, AppSecret, Bucket, Queue, BatchQueue, BatchPrefix, TmplPrefix string
	CallbackSecret                                                               string
	CallbackHosts                                                                []string
	Concurrency                                                                  int
}

const childEnv = "WXPOSTER_E2E_WORKER_CHILD"

// TestBatchWorkerChild is not a test: it is the worker process that
// TestBatchExactUnderKillAndDuplicates starts (the test binary run again)
// and kills with SIGKILL.
func TestBatchWorkerChild(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		t.Skip("only run as a child process")
	}
	var c childConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := storage.New(ctx, storage.Config{Endpoint: testenv.MinIOServer, AccessKey: testenv.MinIOKey,
		SecretKey: testenv.MinIOSecret, Bucket: c.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	s := &system{tb: t, app: wechat.App{AppID: c.AppID, Secret: c.AppSecret}, store: store, queue: c.Queue,
		batchQueue: c.BatchQueue, batchPrefix: c.BatchPrefix, tmplPrefix: c.TmplPrefix, logs: &testenv.LogBuffer{}}
	rdb := testenv.Redis(t)
	renderer, err := poster.New()
	if err != nil {
		t.Fatal(err)
	}
	set := settings{maxRetry: 3, workers: c.Concurrency, poll: 20 * time.Millisecond,
		callbackSecret: c.CallbackSecret, callbackHosts: c.CallbackHosts}
	wx := wechat.New(rdb, wechat.WithBaseURL(c.SimURL))
	srv, mux := s.newWorker(rdb, wx, renderer, imagesrc.NewFetcher(), set, s.logs.Logger())
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	fmt.Println("worker child ready")
	time.Sleep(5 * time.Minute) // until killed; never longer than a test run
	srv.Shutdown()
}

// startChild starts a worker process for s and returns it.
func (s *system) startChild(c childConfig) *exec.Cmd {
	s.tb.Helper()
	raw, _ := json.Marshal(c)
	cmd := exec.Command(os.Args[0], "-test.run=^TestBatchWorkerChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		s.tb.Fatal(err)
	}
	s.tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// TestBatchExactUnderKillAndDuplicates: a worker process killed with
// SIGKILL in the middle of a batch, and tasks delivered again after the
// batch ended, leave the counts exact and one callback per completion.
func TestBatchExactUnderKillAndDuplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for asynq to recover the killed worker's tasks (about a minute)")
	}
	const secret = "batch-callback-secret-e2e"
	rcv := newReceiver(t, secret, "127.0.0.1:0")
	s := start(t, withWorkerProcesses(0), withSim(wxsim.WithLatency(250*time.Millisecond)), withCallbacks(secret, rcv.addr))
	s.dumpLogsOnFailure()
	cfg := childConfig{SimURL: s.simURL, AppID: s.app.AppID, AppSecret: s.app.Secret, Bucket: s.store.Bucket(),
		Queue: s.queue, BatchQueue: s.batchQueue, BatchPrefix: s.batchPrefix, TmplPrefix: s.tmplPrefix,
		CallbackSecret: secret, CallbackHosts: []string{rcv.addr}, Concurrency: 4}

	const n = 40
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = map[string]any{"key": fmt.Sprint(i), "scene": fmt.Sprintf("k:%d", i)}
	}
	id := s.createBatch(map[string]any{"template": "default", "page": pageIndex, "items": items,
		"data": map[string]string{"title": "整点秒杀"}, "callback_url": rcv.url()})

	first := s.startChild(cfg)
	deadline := time.Now().Add(60 * time.Second)
	for {
		v := s.batch(id, 0)
		if v.Counts["succeeded"] >= 8 && v.Counts["running"] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child worker made no progress: %+v", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killed := s.batch(id, 0)
	t.Logf("killed the worker at %v", killed.Counts)

	s.startChild(cfg)
	v := s.awaitBatch(id, 3*time.Minute)
	if v.Status != "completed" || v.Counts["succeeded"] != n || v.sum() != n {
		t.Fatalf("after the kill: %+v", v)
	}
	got := rcv.awaitAccepted(1, 20*time.Second)
	if !got[0].Valid || got[0].Event.Batch.Counts.Succeeded != n {
		t.Fatalf("callback %+v", got[0])
	}

	// Deliver tasks again: a job of the batch (as another queue's task, so
	// asynq takes it) and a dispatch chunk.
	var p tasks.PosterPayload
	raw, err := s.rdb.HGet(ctxT(t), s.batchPrefix+"batch:{"+id+"}:pay", s.items(id, "succeeded")[0].ID).Result()
	if err != nil || json.Unmarshal([]byte(raw), &p) != nil {
		t.Fatalf("payload: %v", err)
	}
	client := asynq.NewClientFromRedisClient(s.rdb)
	defer client.Close()
	if _, err := client.Enqueue(asynq.NewTask(tasks.TypeGeneratePoster, []byte(raw)), asynq.Queue(s.queue),
		asynq.TaskID(p.JobID()), asynq.Retention(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Enqueue(asynq.NewTask("batch:dispatch", []byte(fmt.Sprintf(`{"batch":%q,"round":"dup","from":0,"to":%d}`, id, n))),
		asynq.Queue(s.queue)); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspectorFromRedisClient(s.rdb)
	defer insp.Close()
	deadline = time.Now().Add(30 * time.Second)
	for {
		info, err := insp.GetTaskInfo(s.queue, p.JobID())
		if err == nil && info.State == asynq.TaskStateCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("duplicate task did not run: %+v %v", info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	after := s.batch(id, 0)
	if fmt.Sprint(after.Counts) != fmt.Sprint(v.Counts) || *after.FinishedAt != *v.FinishedAt {
		t.Fatalf("duplicates changed the batch: %+v → %+v", v, after)
	}
	if all := rcv.all(); len(all) != 1 {
		t.Fatalf("callback deliveries = %d, want 1: %+v", len(all), all)
	}
}
