package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxposter/wxposter/internal/testenv"
)

// BenchmarkWorkerRSS runs the real `wxposter worker` binary at concurrency 8
// and keeps it rendering template posters, sampling its resident memory
// (VmRSS) every 50 ms. It reports the peak, which the issue caps at 200 MB.
// Each iteration is one poster; use -benchtime 400x or more so the worker
// runs long enough to reach its steady state. Sub-benchmarks render the
// built-in default template and the activity example palette (gradients,
// shadows, CJK text, the code).
func BenchmarkWorkerRSS(b *testing.B) {
	activity, err := os.ReadFile("../examples/templates/activity.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("default", func(b *testing.B) { benchWorkerRSS(b, nil, defaultPoster) })
	b.Run("activity", func(b *testing.B) { benchWorkerRSS(b, activity, activityPoster) })
}

func benchWorkerRSS(b *testing.B, palette []byte, body func(scene string) map[string]any) {
	s := start(b, withWorkerProcesses(0)) // the only worker is the binary
	if palette != nil {
		s.putTemplate("activity", palette, http.StatusCreated)
	}
	bin := filepath.Join(b.TempDir(), "wxposter")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/wxposter").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "worker")
	cmd.Env = append(os.Environ(),
		"WXPOSTER_REDIS_URL="+testenv.RedisURL,
		"WXPOSTER_MINIO_ENDPOINT="+testenv.MinIOServer,
		"WXPOSTER_MINIO_ACCESS_KEY="+testenv.MinIOKey,
		"WXPOSTER_MINIO_SECRET_KEY="+testenv.MinIOSecret,
		"WXPOSTER_BUCKET="+s.store.Bucket(),
		"WXPOSTER_WECHAT_API_BASE="+s.simURL,
		"WXPOSTER_APPS="+s.app.AppID+":"+s.app.Secret,
		"WXPOSTER_QUEUE="+s.queue,
		"WXPOSTER_WORKER_CONCURRENCY=8",
		"WXPOSTER_IMAGE_HOSTS="+mustURL(b, s.avatar.URL).Host,
		"WXPOSTER_LOG_LEVEL=warn",
	)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()

	var (
		mu         sync.Mutex
		peak       int64
		anon, file int64 // at the peak
		stop       = make(chan struct{})
		done       = make(chan struct{})
	)
	go func() {
		defer close(done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if m, err := procStatus(cmd.Process.Pid); err == nil {
				mu.Lock()
				if m["VmRSS"] > peak {
					peak, anon, file = m["VmRSS"], m["RssAnon"], m["RssFile"]
				}
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()

	prefix := testenv.ID(4)
	b.ResetTimer()
	ids := make([]string, b.N)
	var wg sync.WaitGroup
	for w := range 8 { // 8 clients keep the worker's 8 slots busy
		wg.Go(func() {
			for i := w; i < b.N; i += 8 {
				ids[i] = s.submit(body(fmt.Sprintf("%s:%d", prefix, i))).ID
			}
		})
	}
	wg.Wait()
	s.awaitAll(ids)
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(peak)/1024, "peakRSS_MB")
	b.ReportMetric(float64(anon)/1024, "anon_MB")
	b.ReportMetric(float64(file)/1024, "file_MB")
}

// defaultPoster uses the built-in template with every field.
func defaultPoster(scene string) map[string]any {
	return map[string]any{"template": "default", "page": pageIndex, "scene": scene,
		"data": map[string]string{"nickname": "小明 🌸", "title": "周末亲子活动：一起去植物园认识一百种花，还有更多惊喜等你来"}}
}

// activityPoster uses examples/templates/activity.json.
func activityPoster(scene string) map[string]any {
	return map[string]any{"template": "activity", "page": pageIndex, "scene": scene,
		"data": map[string]string{"title": "2026 城市夜跑嘉年华 · 第 " + scene + " 站", "time": "11月29日 周六 19:30",
			"place": "滨江绿道 · 三号入口", "organizer": "跑者俱乐部"}}
}

// procStatus reads the memory lines (in KiB) of a process's status.
func procStatus(pid int) (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, " kB")), 10, 64); err == nil {
			m[k] = n
		}
	}
	if m["VmRSS"] == 0 {
		return nil, fmt.Errorf("no VmRSS for %d", pid)
	}
	return m, sc.Err()
}
