package batch

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

// newTestStore is a Store on the test Redis under a fresh prefix and queues.
func newTestStore(t *testing.T) (*Store, *asynq.Inspector) {
	t.Helper()
	rdb := testenv.Redis(t)
	prefix := "batchtest-" + testenv.ID(6) + ":"
	q := "batchtest-" + testenv.ID(6)
	s := NewStore(rdb, WithKeyPrefix(prefix+"batch:"), WithQueues(q, q+"-b"), WithRetention(time.Hour))
	insp := asynq.NewInspectorFromRedisClient(rdb)
	t.Cleanup(func() {
		ctx := context.Background()
		if keys, _ := rdb.Keys(ctx, prefix+"*").Result(); len(keys) > 0 {
			for _, k := range keys {
				rdb.Del(ctx, k)
			}
		}
		_ = insp.DeleteQueue(q, true)
		insp.Close()
		s.Close()
	})
	return s, insp
}

func testSpec(jobs ...string) Spec {
	sp := Spec{App: "wx1", CallbackURL: "https://hooks.example.com/x", Payloads: map[string]tasks.PosterPayload{}}
	for i, j := range jobs {
		sp.Items = append(sp.Items, Item{Key: fmt.Sprint(i), JobID: j, Ext: "jpg"})
		sp.Payloads[j] = tasks.PosterPayload{AppID: "wx1", Code: wechat.UnlimitedCode{Scene: j}}
	}
	return sp
}

func counts(t *testing.T, s *Store, id string) (*View, string) {
	t.Helper()
	v, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if v.Counts.Sum() != v.Total {
		t.Fatalf("counts %+v do not add up to %d", v.Counts, v.Total)
	}
	c := v.Counts
	return v, fmt.Sprintf("q%d r%d t%d s%d f%d c%d", c.Queued, c.Running, c.Retrying, c.Succeeded, c.Failed, c.Cancelled)
}

// TestTransitionsAreExact replays the deliveries asynq may make: starts and
// ends twice, late retries after success, concurrent finishes; counts move
// once per real transition and completion is detected once.
func TestTransitionsAreExact(t *testing.T) {
	s, insp := newTestStore(t)
	ctx := context.Background()
	id, _, err := s.Create(ctx, testSpec("j1", "j2", "j2", "j3"))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		do   func() error
		want string
	}{
		{func() error { _, err := s.Started(ctx, "j1", true); return err }, "q3 r1 t0 s0 f0 c0"},
		{func() error { _, err := s.Started(ctx, "j1", true); return err }, "q3 r1 t0 s0 f0 c0"}, // redelivered
		{func() error { return s.Ended(ctx, "j1", Retrying, nil) }, "q3 r0 t1 s0 f0 c0"},
		{func() error { _, err := s.Started(ctx, "j1", true); return err }, "q3 r1 t0 s0 f0 c0"},
		{func() error { return s.Ended(ctx, "j1", Succeeded, nil) }, "q3 r0 t0 s1 f0 c0"},
		{func() error { return s.Ended(ctx, "j1", Succeeded, nil) }, "q3 r0 t0 s1 f0 c0"}, // duplicate
		{func() error { return s.Ended(ctx, "j1", Retrying, nil) }, "q3 r0 t0 s1 f0 c0"},  // late
		{func() error { return s.Ended(ctx, "j1", Failed, nil) }, "q3 r0 t0 s1 f0 c0"},    // late
		{func() error { return s.Ended(ctx, "j3", Failed, &tasks.JobError{Code: "41030", Message: "page"}) }, "q2 r0 t0 s1 f1 c0"},
		{func() error { return s.Ended(ctx, "j3", Succeeded, nil) }, "q2 r0 t0 s1 f1 c0"}, // failed waits for retry
	}
	// The registry is written by dispatch; do it by hand here.
	for _, j := range []string{"j1", "j2", "j3"} {
		s.rdb.SAdd(ctx, s.jobKey(j), id)
	}
	for i, st := range steps {
		if err := st.do(); err != nil {
			t.Fatal(err)
		}
		if _, got := counts(t, s, id); got != st.want {
			t.Fatalf("step %d: %s, want %s", i, got, st.want)
		}
	}
	// j2 holds two items; twenty concurrent finishes count them once.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := s.Ended(ctx, "j2", Succeeded, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	v, got := counts(t, s, id)
	if got != "q0 r0 t0 s3 f1 c0" || v.Status != StatusCompleted || v.FinishedAt == nil {
		t.Fatalf("%s %+v, want completed", got, v)
	}
	cb, err := insp.ListPendingTasks(s.queue)
	if err != nil {
		t.Fatal(err)
	}
	var callbacks []string
	for _, c := range cb {
		if c.Type == TypeCallback {
			callbacks = append(callbacks, c.ID)
		}
	}
	if len(callbacks) != 1 || callbacks[0] != "batch-callback-"+DeliveryID(id, 1) {
		t.Fatalf("callback tasks %v, want one for completion 1", callbacks)
	}
	if ttl := s.rdb.TTL(ctx, s.keysOf(id).st).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("state TTL %s, want the retention", ttl)
	}

	// Retry reopens the batch (no TTL), a second completion is a second
	// callback.
	if n, err := s.Retry(ctx, id); err != nil || n != 1 {
		t.Fatalf("retry = %d %v", n, err)
	}
	if v, got := counts(t, s, id); got != "q1 r0 t0 s3 f0 c0" || v.Status != StatusRunning || s.rdb.TTL(ctx, s.keysOf(id).st).Val() != -1 {
		t.Fatalf("after retry %s %+v", got, v)
	}
	if err := s.Ended(ctx, "j3", Succeeded, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := insp.GetTaskInfo(s.queue, "batch-callback-"+DeliveryID(id, 2)); err != nil {
		t.Fatalf("second completion's callback: %v", err)
	}
}

// TestCancel: queued and retrying items are cancelled, running ones finish
// and end the batch; a job only cancelled items wait on is not run.
func TestCancel(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	id, _, err := s.Create(ctx, testSpec("a", "b", "c", "d"))
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []string{"a", "b", "c", "d"} {
		s.rdb.SAdd(ctx, s.jobKey(j), id)
	}
	_, _ = s.Started(ctx, "a", true)
	_, _ = s.Started(ctx, "b", true)
	_ = s.Ended(ctx, "b", Retrying, nil)
	n, ended, err := s.Cancel(ctx, id)
	if err != nil || ended || n != 3 {
		t.Fatalf("cancel = %d %v %v", n, ended, err)
	}
	if v, got := counts(t, s, id); got != "q0 r1 t0 s0 f0 c3" || v.Status != StatusCancelled || v.Ended() {
		t.Fatalf("%s %+v", got, v)
	}
	if run, err := s.Started(ctx, "c", true); err != nil || run {
		t.Fatalf("a cancelled item's job would run: %v %v", run, err)
	}
	if run, _ := s.Started(ctx, "c", false); !run {
		t.Fatal("a single poster sharing the job must run")
	}
	_ = s.Ended(ctx, "a", Succeeded, nil)
	if v, got := counts(t, s, id); got != "q0 r0 t0 s1 f0 c3" || !v.Ended() || v.Status != StatusCancelled {
		t.Fatalf("%s %+v", got, v)
	}
	if _, ended, _ := s.Cancel(ctx, id); !ended {
		t.Fatal("cancelling an ended batch must say so")
	}
}

func TestIdempotencyKey(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	sp := testSpec("a")
	sp.IdempotencyKey = "k1"
	id1, ex1, err := s.Create(ctx, sp)
	if err != nil || ex1 {
		t.Fatal(err, ex1)
	}
	id2, ex2, err := s.Create(ctx, sp)
	if err != nil || !ex2 || id2 != id1 {
		t.Fatalf("second create = %s %v %v, want %s existing", id2, ex2, err, id1)
	}
	sp.App = "wx2" // keys are per app
	if id3, ex3, _ := s.Create(ctx, sp); ex3 || id3 == id1 {
		t.Fatal("another app's key must not collide")
	}
}

func TestHosts(t *testing.T) {
	h, err := ParseHosts([]string{"hooks.example.com", "api.example.com:8443", "127.0.0.1:7401", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example.com/x", true},
		{"http://hooks.example.com:9000/x", true},
		{"https://api.example.com:8443/x", true},
		{"https://api.example.com/x", false},
		{"http://127.0.0.1:7401/x", true},
		{"http://127.0.0.1:7402/x", false},
		{"http://localhost:1234/", true},
		{"https://evil.example.com/", false},
		{"https://user:pw@hooks.example.com/", false},
		{"ftp://hooks.example.com/", false},
		{"/relative", false},
	} {
		if got := h.Check(tc.url) == ""; got != tc.ok {
			t.Errorf("%s: allowed %v, want %v (%s)", tc.url, got, tc.ok, h.Check(tc.url))
		}
	}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"93.184.216.34:443", true},
		{"127.0.0.1:7401", true}, // listed IP
		{"127.0.0.2:80", true},   // localhost listed: loopback
		{"10.0.0.5:443", false},  // a listed name resolving to a private address
		{"192.168.1.1:80", false},
		{"169.254.169.254:80", false},
		{"[::1]:80", true},
		{"[fd00::1]:80", false},
	} {
		if got := h.control("tcp", tc.addr, nil) == nil; got != tc.ok {
			t.Errorf("dial %s: allowed %v, want %v", tc.addr, got, tc.ok)
		}
	}
	strict, _ := ParseHosts([]string{"hooks.example.com"})
	if strict.control("tcp", "127.0.0.1:80", nil) == nil {
		t.Error("loopback allowed without being listed")
	}
	if _, err := ParseHosts([]string{"http://x"}); err == nil {
		t.Error("a URL is not a host entry")
	}
	if (&Hosts{}).Check("https://hooks.example.com/") == "" {
		t.Error("an empty allow list allows nothing")
	}
}

func TestSignVerify(t *testing.T) {
	secret := []byte("0123456789abcdef")
	body := []byte(`{"event":"batch.completed"}`)
	now := time.Unix(1_700_000_000, 0)
	h := Sign(secret, now, body)
	if !strings.HasPrefix(h, "t=1700000000,v1=") || len(h) != len("t=1700000000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := Verify(secret, h, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"body":   Verify(secret, h, append(body, ' '), now, time.Minute),
		"secret": Verify([]byte("other-secret-000"), h, body, now, time.Minute),
		"old":    Verify(secret, h, body, now.Add(10*time.Minute), 5*time.Minute),
		"format": Verify(secret, "v1=abc", body, now, time.Minute),
	} {
		if err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}
