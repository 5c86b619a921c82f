package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/storage"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

// fakePacer holds the first n calls back with hold.
type fakePacer struct {
	mu     sync.Mutex
	n      int
	hold   pacing.Hold
	admits int
}

func (f *fakePacer) Admit(context.Context, string, time.Duration) (pacing.Hold, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.admits++
	if f.admits <= f.n {
		return f.hold, nil
	}
	return pacing.Hold{}, nil
}

func (f *fakePacer) MinuteQuotaHit(context.Context, string) (pacing.Hold, error) {
	return f.hold, nil
}

func (f *fakePacer) DailyQuotaHit(context.Context, string) (pacing.Hold, error) { return f.hold, nil }

type fakeCodes struct{ calls atomic.Int32 }

func (f *fakeCodes) GetUnlimitedCode(context.Context, wechat.App, wechat.UnlimitedCode) (*wechat.Image, error) {
	f.calls.Add(1)
	return &wechat.Image{Data: []byte("jpeg"), ContentType: "image/jpeg"}, nil
}

type memStore struct{ m sync.Map }

func (s *memStore) Get(_ context.Context, key string) (*storage.Object, error) {
	if v, ok := s.m.Load(key); ok {
		return &storage.Object{Data: v.([]byte)}, nil
	}
	return nil, storage.ErrNotFound
}

func (s *memStore) Put(_ context.Context, key string, data []byte, _ storage.PutOptions) error {
	s.m.Store(key, data)
	return nil
}

func (s *memStore) URL(key string) string { return "mem://" + key }

// Held-back jobs keep their retries on real asynq: rescheduled while they
// have retries left, waited out in the worker on their last attempt (with
// MaxRetry(0), asynq would archive them on any error), and failed with the
// reason when the hold outlasts the job.
func TestHeldJobsKeepTheirRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxRetry  int
		timeout   time.Duration
		retryIn   time.Duration
		wantState asynq.TaskState
		wantRuns  int32 // ProcessTask calls
		wantCode  string
	}{
		{"retries left: rescheduled", 1, 30 * time.Second, 300 * time.Millisecond, asynq.TaskStateCompleted, 3, ""},
		{"MaxRetry(0): waits in the worker", 0, 30 * time.Second, 300 * time.Millisecond, asynq.TaskStateCompleted, 1, ""},
		{"MaxRetry(0), hold beyond the deadline: fails saying why", 0, 3 * time.Second, time.Minute, asynq.TaskStateArchived, 1, "rate_limited"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb := testenv.Redis(t)
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			queue := "wtest-" + testenv.ID(6)
			app := wechat.App{AppID: testenv.AppID(), Secret: "s"}
			pacer := &fakePacer{n: 2, hold: pacing.Hold{Reason: pacing.ReasonRate, RetryIn: tc.retryIn, Rate: 60}}
			codes := &fakeCodes{}
			h := NewHandler(rdb, []wechat.App{app}, codes, &memStore{}, nil, nil, WithLogger(quiet), WithPacer(pacer))

			cfg := ServerConfig{Queue: queue, Concurrency: 2, PollInterval: 20 * time.Millisecond, Logger: quiet}.asynq()
			cfg.DelayedTaskCheckInterval = 100 * time.Millisecond // retries come back at once
			srv := asynq.NewServerFromRedisClient(rdb, cfg)
			var runs atomic.Int32
			mux := asynq.NewServeMux()
			mux.HandleFunc(tasks.TypeGeneratePoster, func(ctx context.Context, task *asynq.Task) error {
				runs.Add(1)
				return h.ProcessTask(ctx, task)
			})
			if err := srv.Start(mux); err != nil {
				t.Fatal(err)
			}
			defer srv.Shutdown()
			insp := asynq.NewInspectorFromRedisClient(rdb)
			defer insp.DeleteQueue(queue, true)

			p := tasks.PosterPayload{AppID: app.AppID, Code: wechat.UnlimitedCode{Page: "pages/index/index", Scene: "held"}}
			b, _ := json.Marshal(p)
			if _, err := asynq.NewClientFromRedisClient(rdb).Enqueue(asynq.NewTask(tasks.TypeGeneratePoster, b),
				asynq.Queue(queue), asynq.TaskID(p.JobID()), asynq.MaxRetry(tc.maxRetry),
				asynq.Timeout(tc.timeout), asynq.Retention(time.Minute)); err != nil {
				t.Fatal(err)
			}

			var info *asynq.TaskInfo
			for end := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				var err error
				if info, err = insp.GetTaskInfo(queue, p.JobID()); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
					t.Fatal(err)
				}
				if info != nil && (info.State == asynq.TaskStateCompleted || info.State == asynq.TaskStateArchived) {
					break
				}
				if time.Now().After(end) {
					t.Fatalf("job did not end: %+v", info)
				}
			}
			var res tasks.Result
			_ = json.Unmarshal(info.Result, &res)
			if info.State != tc.wantState || info.Retried != 0 || runs.Load() != tc.wantRuns {
				t.Fatalf("state %s, retried %d, runs %d; want %s, 0, %d (result %s)",
					info.State, info.Retried, runs.Load(), tc.wantState, tc.wantRuns, info.Result)
			}
			switch {
			case tc.wantCode == "" && (res.URL == "" || codes.calls.Load() != 1 || pacer.admits != 3):
				t.Errorf("result %s, code calls %d, admits %d; want a URL after one call and 3 admits",
					info.Result, codes.calls.Load(), pacer.admits)
			case tc.wantCode != "" && (res.Error == nil || res.Error.Code != tc.wantCode || !res.Final || codes.calls.Load() != 0):
				t.Errorf("result %s, code calls %d; want a final %s error and no call", info.Result, codes.calls.Load(), tc.wantCode)
			}
		})
	}
}

func TestQuotaAnswersBecomeHolds(t *testing.T) {
	hold := pacing.Hold{Reason: pacing.ReasonCooldown, RetryIn: time.Minute}
	h := NewHandler(nil, nil, nil, nil, nil, nil, WithPacer(&fakePacer{hold: hold}))
	for _, tc := range []struct {
		name string
		err  error
		held bool
	}{
		{"45011 from the code API", &wechat.Error{API: "wxa/getwxacodeunlimit", Code: wechat.CodeMinuteQuota}, true},
		{"45009 from the code API", &wechat.Error{API: "wxa/getwxacodeunlimit", Code: wechat.CodeDailyQuota}, true},
		{"45009 wrapped", fmt.Errorf("x: %w", &wechat.Error{API: "wxa/getwxacode", Code: wechat.CodeDailyQuota}), true},
		{"45009 from stable_token (force_refresh limit)", &wechat.Error{API: "cgi-bin/stable_token", Code: wechat.CodeDailyQuota}, false},
		{"busy", &wechat.Error{API: "wxa/getwxacodeunlimit", Code: wechat.CodeSystemBusy}, false},
		{"network", errors.New("connection refused"), false},
	} {
		err := h.quotaHit(context.Background(), "wx1", tc.err)
		var rl *RateLimitError
		if got := errors.As(err, &rl); got != tc.held {
			t.Errorf("%s: held = %v, want %v (%v)", tc.name, got, tc.held, err)
			continue
		}
		if tc.held && (rl.RetryIn != time.Minute || rl.AppID != "wx1" || !errors.Is(err, tc.err)) {
			t.Errorf("%s: %+v", tc.name, rl)
		}
	}
}
