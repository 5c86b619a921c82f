package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/finished"
	"github.com/wxposter/wxposter/internal/procstat"
	"github.com/wxposter/wxposter/storage"
	"github.com/wxposter/wxposter/tasks"
)

// system is wxposter running as real processes: the WeChat simulator, one
// worker and one producer, on the shared Redis and MinIO but with their own
// queue, bucket and app.
type system struct {
	dir      string // binary and logs
	api      string // producer base URL
	queue    string
	bucket   string
	appID    string
	rdb      *redis.Client
	store    *storage.Store
	procs    []*exec.Cmd
	worker   *exec.Cmd
	redisURL string
	port     int
	s3       string // the S3 server's host:port
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// startSystem builds wxposter and starts sim, worker and producer on
// ports base (producer), base+1 (simulator), base+2 and base+3 (worker's
// and producer's pprof).
func startSystem(ctx context.Context, base, concurrency int, logLevel, s3 string) (*system, error) {
	dir, err := os.MkdirTemp("", "wxposter-bench-")
	if err != nil {
		return nil, err
	}
	id := randomID(4)
	s := &system{
		dir: dir, api: fmt.Sprintf("http://127.0.0.1:%d", base),
		queue: "bench-" + id, bucket: "wxbench-" + id, appID: "wxbe" + randomID(6),
		redisURL: env("WXPOSTER_REDIS_URL", "redis://127.0.0.1:6379/0"),
		port:     base,
		s3:       s3,
	}
	bin := filepath.Join(dir, "wxposter")
	if prebuilt != "" {
		bin = prebuilt
	} else {
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/wxposter")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build wxposter (run from the repository root): %w", err)
		}
	}
	opt, err := redis.ParseURL(s.redisURL)
	if err != nil {
		return nil, err
	}
	s.rdb = redis.NewClient(opt)
	minio := storage.Config{
		Endpoint:  s3,
		AccessKey: env("WXPOSTER_MINIO_ACCESS_KEY", "wxposter"),
		SecretKey: env("WXPOSTER_MINIO_SECRET_KEY", "wxposter-dev-secret"),
		Bucket:    s.bucket,
	}
	if s.store, err = storage.New(ctx, minio); err != nil {
		return nil, fmt.Errorf("minio (run scripts/devenv.sh): %w", err)
	}
	common := []string{
		"WXPOSTER_REDIS_URL=" + s.redisURL,
		"WXPOSTER_MINIO_ENDPOINT=" + minio.Endpoint,
		"WXPOSTER_MINIO_ACCESS_KEY=" + minio.AccessKey,
		"WXPOSTER_MINIO_SECRET_KEY=" + minio.SecretKey,
		"WXPOSTER_BUCKET=" + s.bucket,
		"WXPOSTER_APPS=" + s.appID + ":bench-secret-not-real",
		"WXPOSTER_QUEUE=" + s.queue,
		"WXPOSTER_LISTEN=" + strings.TrimPrefix(s.api, "http://"),
		fmt.Sprintf("WXPOSTER_SIM_LISTEN=127.0.0.1:%d", base+1),
		fmt.Sprintf("WXPOSTER_WECHAT_API_BASE=http://127.0.0.1:%d", base+1),
		fmt.Sprintf("WXPOSTER_WORKER_CONCURRENCY=%d", concurrency),
		fmt.Sprintf("WXPOSTER_RENDER_CONCURRENCY=%d", renderConcurrency),
		"WXPOSTER_LOG_LEVEL=" + logLevel,
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
	}
	// Storage settings given to the benchmark apply to the system under it.
	for _, k := range []string{"WXPOSTER_S3_CHECKSUM", "WXPOSTER_MADE_INDEX_MB"} {
		if v := os.Getenv(k); v != "" {
			common = append(common, k+"="+v)
		}
	}
	for _, role := range []string{"sim", "worker", "producer"} {
		cmd := exec.Command(bin, role)
		cmd.Env = common
		switch role {
		case "worker":
			cmd.Env = append(cmd.Env, fmt.Sprintf("WXPOSTER_PPROF_LISTEN=127.0.0.1:%d", base+2))
		case "producer":
			cmd.Env = append(cmd.Env, fmt.Sprintf("WXPOSTER_PPROF_LISTEN=127.0.0.1:%d", base+3))
		}
		logf, err := os.Create(filepath.Join(dir, role+".log"))
		if err != nil {
			return s, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			return s, fmt.Errorf("start %s: %w", role, err)
		}
		s.procs = append(s.procs, cmd)
		if role == "worker" {
			s.worker = cmd
		}
		if role == "sim" {
			if err := waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/", base+1), false); err != nil {
				return s, fmt.Errorf("simulator: %w (log: %s)", err, logf.Name())
			}
		}
	}
	if err := waitHTTP(ctx, s.api+"/readyz", true); err != nil {
		return s, fmt.Errorf("producer: %w (logs in %s)", err, dir)
	}
	return s, nil
}

// waitHTTP waits until url answers (with 200 if ok200).
func waitHTTP(ctx context.Context, url string, ok200 bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if !ok200 || resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("did not answer " + url + " within 30 s")
}

// workerRSS is the worker's resident set size in bytes.
func (s *system) workerRSS() int64 { return procstat.RSS(s.worker.Process.Pid) }

// stop ends the processes it started and removes the bench's queue, keys
// and bucket from the shared Redis and MinIO.
func (s *system) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		_ = p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = p.Process.Kill()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if s.rdb != nil {
		_ = asynq.NewInspectorFromRedisClient(s.rdb).DeleteQueue(s.queue, true)
		s.rdb.Del(ctx, tasks.WakeKey(s.queue))
		if s.store != nil { // the index of made posters of the bench's bucket
			s.rdb.Del(ctx, finished.New(s.rdb, finished.WithIndex(1, s.store.URL(""))).IndexKey())
		}
		for _, pattern := range []string{"*" + s.appID + "*", "*" + s.bucket + "*"} {
			iter := s.rdb.Scan(ctx, 0, pattern, 1000).Iterator()
			for iter.Next(ctx) {
				s.rdb.Del(ctx, iter.Val())
			}
		}
		s.rdb.Close()
	}
	if s.store != nil {
		if err := s.store.RemoveAll(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "bench-e2e: remove bucket:", err)
		}
	}
	if keepLogs {
		fmt.Fprintln(os.Stderr, "bench-e2e: logs kept in", s.dir)
		return
	}
	os.RemoveAll(s.dir)
}

// keepLogs keeps the processes' logs (-keep); renderConcurrency is the
// worker's WXPOSTER_RENDER_CONCURRENCY (-render-concurrency); prebuilt is
// the binary to run instead of a fresh build (-bin).
var (
	keepLogs          bool
	renderConcurrency int
	prebuilt          string
)

// profile saves a CPU profile of the worker (or the producer) taken while
// f runs, to file, if file is not empty.
func (s *system) profile(file string, producer bool, seconds int, f func()) {
	if file == "" {
		f()
		return
	}
	port := s.port + 2
	if producer {
		port = s.port + 3
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", port, seconds))
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-e2e: profile:", err)
			return
		}
		defer resp.Body.Close()
		out, err := os.Create(file)
		if err == nil {
			_, err = io.Copy(out, resp.Body)
			out.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-e2e: profile:", err)
			return
		}
		fmt.Fprintln(os.Stderr, "bench-e2e: CPU profile in", file)
	}()
	f()
	<-done
}
