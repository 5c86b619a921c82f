// Command bench-e2e measures wxposter end to end on this machine (make
// bench-e2e): it builds the binary, starts the WeChat simulator, one worker
// and one producer as separate processes on the shared Redis and MinIO (its
// own queue, bucket and app; ports 7300-7303 by default), and measures in
// one sitting, each repeated -runs times and interleaved:
//
//   - render-only bound: render + JPEG of the default-template poster in
//     this process, one goroutine per core (half the duration just before
//     and half just after the fresh posters, averaged);
//   - fresh posters/s end to end (codes already stored, every poster new;
//     POST ?wait=30, one request per poster), and the CPU each process
//     (simulator, worker, producer, the S3 server, Redis, this load client)
//     spent per fresh poster, and from that the ceiling: the best ratio to
//     the bound the processes that are not wxposter leave it;
//   - GET /healthz req/s at 50 connections;
//   - cache-hit POST /v1/posters req/s at 50 connections, saturated, and
//     p99 latency at 50 connections sending half the /healthz rate (at
//     saturation, latency is just connections / throughput);
//   - idle enqueue → succeeded latency (POST ?wait) p50/p99;
//   - the worker's peak RSS.
//
// It prints the medians and their ratios against issue 11's targets.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/imagesrc"
	"github.com/wxposter/wxposter/storage"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

const (
	page  = "pages/index/index"
	title = "【限时特惠】新疆阿克苏冰糖心苹果 5 斤装，当季现摘，脆甜多汁，扫码立即抢购"
)

type options struct {
	runs, port, concurrency, clients, conns, codes, idle int
	dur                                                  time.Duration
	logLevel, profiles, s3                               string
}

// sample is one run's measurements.
type sample struct {
	render, fresh, hits, health float64       // per second
	hitP99, hitP99Sat           time.Duration // at half the healthz rate; saturated
	pacedRate                   float64
	healthP99                   time.Duration // /healthz at the same paced rate: the machine's floor
	idleP50, idleP99            time.Duration
	rss                         int64
	cpu                         string  // CPU per fresh poster by process
	ceiling                     float64 // the best fresh ÷ bound ratio the processes around wxposter allow
}

func main() {
	var o options
	flag.IntVar(&o.runs, "runs", 3, "repetitions of every measurement (medians are reported)")
	flag.IntVar(&o.port, "port", 7300, "first of four loopback ports: producer, simulator, worker pprof, producer pprof")
	flag.IntVar(&o.concurrency, "concurrency", 8, "worker concurrency (WXPOSTER_WORKER_CONCURRENCY)")
	flag.IntVar(&renderConcurrency, "render-concurrency", 0, "WXPOSTER_RENDER_CONCURRENCY of the worker (0: its default, one per CPU)")
	flag.IntVar(&o.clients, "clients", 24, "clients asking for fresh posters at once")
	flag.IntVar(&o.conns, "conns", 50, "connections for cache hits and /healthz")
	flag.IntVar(&o.codes, "codes", 8, "distinct codes (scenes) the posters share")
	flag.IntVar(&o.idle, "idle", 40, "idle-latency samples per run")
	flag.DurationVar(&o.dur, "duration", 8*time.Second, "measured time of each throughput phase")
	flag.StringVar(&o.logLevel, "log-level", "info", "WXPOSTER_LOG_LEVEL of the processes")
	flag.StringVar(&o.s3, "s3", env("WXPOSTER_MINIO_ENDPOINT", "127.0.0.1:9000"),
		"host:port of the S3 server (127.0.0.1:7170: the versitygw scripts/devenv.sh runs); keys from WXPOSTER_MINIO_ACCESS_KEY and _SECRET_KEY")
	flag.StringVar(&o.profiles, "profiles", "", "directory for CPU profiles of the last run: worker.pprof and producer-fresh.pprof (fresh posters), producer.pprof (cache hits)")
	flag.BoolVar(&keepLogs, "keep", false, "keep the processes' logs")
	flag.StringVar(&prebuilt, "bin", "", "a wxposter binary to measure instead of building ./cmd/wxposter (an older build, for a before/after in one sitting)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-e2e:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	fmt.Fprintf(os.Stderr, "bench-e2e: building and starting sim, worker (concurrency %d), producer on 127.0.0.1:%d-%d\n",
		o.concurrency, o.port, o.port+2)
	s, err := startSystem(ctx, o.port, o.concurrency, o.logLevel, o.s3)
	if s != nil {
		defer s.stop()
	}
	if err != nil {
		return err
	}
	avatarURL, avatar, err := s.putAvatar(ctx)
	if err != nil {
		return err
	}
	body := func(code int, nickname string) map[string]any {
		return map[string]any{"template": "default", "page": page, "scene": fmt.Sprintf("bench:%d", code),
			"data": map[string]string{"nickname": nickname, "title": title, "avatar": avatarURL}}
	}
	// The codes are stored once; these posters are also the cache hits.
	made := make([][]byte, o.codes)
	for k := range o.codes {
		b := body(k, "小明")
		if _, err := s.make(ctx, b); err != nil {
			return fmt.Errorf("warm-up poster: %w", err)
		}
		made[k], _ = json.Marshal(b)
	}
	renderIn, err := s.renderInput(ctx, avatar)
	if err != nil {
		return err
	}
	renderer, err := poster.New()
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	fmt.Printf("bench-e2e  %s  %s  GOMAXPROCS=%d  %s\n", time.Now().UTC().Format(time.RFC3339), host,
		runtime.GOMAXPROCS(0), loadavg())
	fmt.Printf("%-3s %8s %7s %5s %9s %7s %5s %7s %7s %8s %7s %7s %7s %6s\n", "run", "render/s", "fresh/s", "ratio",
		"healthz/s", "hits/s", "ratio", "p99 sat", "paced/s", "hit p99", "hz p99", "idle50", "idle99", "RSS MB")
	var samples []sample
	procs := s.cpuProcs()
	for r := range o.runs {
		var sm sample
		// The bound is measured just before and just after the fresh
		// posters and averaged: on a shared machine either alone may land
		// in a slow or a fast moment the fresh phase did not see.
		before := renderBound(ctx, renderer, renderIn, o.dur/2).rate()
		var fresh result
		last := r == o.runs-1 && o.profiles != ""
		var cpu []time.Duration
		sm.rss = s.peakRSS(func() {
			s.profile(profileFile(last, o.profiles, "worker.pprof"), false, int(o.dur/time.Second), func() {
				s.profile(profileFile(last, o.profiles, "producer-fresh.pprof"), true, int(o.dur/time.Second), func() {
					cpu = cpuUse(procs, func() {
						fresh = closedLoop(ctx, o.clients, 2*time.Second, o.dur, func(ctx context.Context, w, i int) error {
							_, err := s.make(ctx, body((w+i)%o.codes, fmt.Sprintf("用户%d-%d-%d", r, w, i)))
							return err
						})
					})
				})
			})
		})
		sm.fresh = fresh.rate()
		sm.cpu = perPoster(procs, cpu, fresh.all)
		sm.render = (before + renderBound(ctx, renderer, renderIn, o.dur/2).rate()) / 2
		// The bound's CPU per poster: every core, busy, for 1/render s.
		sm.ceiling = ceiling(procs, cpu, fresh.all, time.Duration(float64(runtime.GOMAXPROCS(0))/sm.render*float64(time.Second)))
		sm.health = closedLoop(ctx, o.conns, time.Second, o.dur, func(ctx context.Context, _, _ int) error {
			code, err := call(ctx, http.MethodGet, s.api+"/healthz", nil, nil)
			if err == nil && code != http.StatusOK {
				err = fmt.Errorf("healthz = %d", code)
			}
			return err
		}).rate()
		hit := func(ctx context.Context, w, i int) error {
			var j job
			code, err := call(ctx, http.MethodPost, s.api+"/v1/posters", made[(w+i)%o.codes], &j)
			if err == nil && (code != http.StatusOK || j.Status != "succeeded") {
				err = fmt.Errorf("cache hit = %d %s", code, j.Status)
			}
			return err
		}
		// Saturated: as many hits as 50 connections get through.
		var hits result
		s.profile(profileFile(last, o.profiles, "producer.pprof"), true, int(o.dur/time.Second), func() {
			hits = closedLoop(ctx, o.conns, time.Second, o.dur, hit)
		})
		sm.hits, sm.hitP99Sat = hits.rate(), hits.pct(0.99)
		// At the target rate (half the /healthz rate) over 50 connections.
		paced := openLoop(ctx, o.conns, sm.health/2, time.Second, o.dur, hit)
		sm.pacedRate, sm.hitP99 = paced.rate(), paced.pct(0.99)
		sm.healthP99 = openLoop(ctx, o.conns, sm.health/2, time.Second, o.dur, func(ctx context.Context, _, _ int) error {
			_, err := call(ctx, http.MethodGet, s.api+"/healthz", nil, nil)
			return err
		}).pct(0.99)
		idle := s.idleLatency(ctx, o.idle, func(i int) map[string]any {
			return body(i%o.codes, fmt.Sprintf("空闲%d-%d", r, i))
		})
		sm.idleP50, sm.idleP99 = idle.pct(0.50), idle.pct(0.99)
		if errs := fresh.errs + hits.errs + paced.errs + idle.errs; errs > 0 {
			fmt.Fprintf(os.Stderr, "bench-e2e: run %d had %d failed requests (logs: %s)\n", r+1, errs, s.dir)
		}
		samples = append(samples, sm)
		fmt.Printf("%-3d %8.1f %7.1f %5.2f %9.0f %7.0f %5.2f %7s %7.0f %8s %7s %7s %7s %6.1f\n", r+1,
			sm.render, sm.fresh, sm.fresh/sm.render, sm.health, sm.hits, sm.hits/sm.health, ms(sm.hitP99Sat),
			sm.pacedRate, ms(sm.hitP99), ms(sm.healthP99), ms(sm.idleP50), ms(sm.idleP99), float64(sm.rss)/1e6)
		fmt.Printf("    CPU per fresh poster (ms): %s; ceiling %.2f\n", sm.cpu, sm.ceiling)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	report(samples)
	return nil
}

// report prints the medians and the ratios against the targets.
func report(samples []sample) {
	med := func(f func(sample) float64) float64 {
		v := make([]float64, len(samples))
		for i, s := range samples {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	render, fresh := med(func(s sample) float64 { return s.render }), med(func(s sample) float64 { return s.fresh })
	hits, health := med(func(s sample) float64 { return s.hits }), med(func(s sample) float64 { return s.health })
	hitP99 := time.Duration(med(func(s sample) float64 { return float64(s.hitP99) }))
	hitP99Sat := time.Duration(med(func(s sample) float64 { return float64(s.hitP99Sat) }))
	paced := med(func(s sample) float64 { return s.pacedRate })
	p50 := time.Duration(med(func(s sample) float64 { return float64(s.idleP50) }))
	p99 := time.Duration(med(func(s sample) float64 { return float64(s.idleP99) }))
	rss := med(func(s sample) float64 { return float64(s.rss) })
	ok := func(b bool) string {
		if b {
			return "met"
		}
		return "NOT met"
	}
	fmt.Printf("\nmedians of %d runs (ratios: median of each run's ratio), against issue 11's targets:\n", len(samples))
	freshRatio := med(func(s sample) float64 { return s.fresh / s.render })
	hitRatio := med(func(s sample) float64 { return s.hits / s.health })
	healthP99 := time.Duration(med(func(s sample) float64 { return float64(s.healthP99) }))
	fmt.Printf("  fresh posters/s / render-only bound  %6.1f / %6.1f, ratio %.2f   (target >= 0.60: %s)\n",
		fresh, render, freshRatio, ok(freshRatio >= 0.6))
	fmt.Printf("    ceiling set by S3 server, Redis, simulator and load client: %.2f (the ratio if the worker cost only its render and the producer nothing)\n",
		med(func(s sample) float64 { return s.ceiling }))
	fmt.Printf("  cache-hit POST/s / healthz/s         %6.0f / %6.0f, ratio %.2f   (target >= 0.50: %s)\n",
		hits, health, hitRatio, ok(hitRatio >= 0.5))
	fmt.Printf("  cache-hit p99, 50 conns at %5.0f/s   %s ms  (target <= 5 ms: %s; /healthz at that rate: %s ms; saturated: %s ms)\n",
		paced, ms(hitP99), ok(hitP99 <= 5*time.Millisecond), ms(healthP99), ms(hitP99Sat))
	fmt.Printf("  idle enqueue -> succeeded p50 / p99  %s / %s ms     (targets <= 50 / 100 ms: %s / %s)\n",
		ms(p50), ms(p99), ok(p50 <= 50*time.Millisecond), ok(p99 <= 100*time.Millisecond))
	fmt.Printf("  worker peak RSS                      %.1f MB         (target <= 200 MB: %s)\n", rss/1e6, ok(rss <= 200e6))
}

func profileFile(take bool, dir, name string) string {
	if !take {
		return ""
	}
	return filepath.Join(dir, name)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/1e6) }

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil || len(b) < 14 {
		return ""
	}
	return "loadavg " + string(bytes.Fields(b)[0]) + " " + string(bytes.Fields(b)[1]) + " " + string(bytes.Fields(b)[2])
}

// putAvatar stores a 200×200 JPEG avatar in the bench bucket (the worker
// reads its own bucket's objects directly) and returns its URL and image.
func (s *system) putAvatar(ctx context.Context) (string, []byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, 200, 200))
	for y := range 200 {
		for x := range 200 {
			c := color.RGBA{uint8(40 + x/2), uint8(90 + y/3), 200, 255}
			if (x-100)*(x-100)+(y-90)*(y-90) < 55*55 {
				c = color.RGBA{250, 190, 150, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		return "", nil, err
	}
	key := "posters/bench-avatar.jpg"
	if err := s.store.Put(ctx, key, buf.Bytes(), storage.PutOptions{ContentType: "image/jpeg"}); err != nil {
		return "", nil, err
	}
	return s.store.URL(key), buf.Bytes(), nil
}

// renderInput is what the worker renders for code 0: the stored code and
// the avatar, decoded.
func (s *system) renderInput(ctx context.Context, avatar []byte) (poster.DefaultInput, error) {
	obj, err := s.store.Get(ctx, tasks.CodeKey(s.appID, wechat.UnlimitedCode{Page: page, Scene: "bench:0"}))
	if err != nil {
		return poster.DefaultInput{}, fmt.Errorf("stored code: %w", err)
	}
	code, _, err := imagesrc.Decode(obj.Data, 16_000_000)
	if err != nil {
		return poster.DefaultInput{}, err
	}
	av, _, err := imagesrc.DecodeRGBA(avatar, 16_000_000)
	if err != nil {
		return poster.DefaultInput{}, err
	}
	return poster.DefaultInput{Code: code, Avatar: av, Title: title}, nil
}

// renderBound renders and encodes the poster on every core, in this
// process: what the machine could do with nothing else in the way. Like the
// worker, it gives each canvas back and reuses its output buffer.
func renderBound(ctx context.Context, r *poster.Renderer, in poster.DefaultInput, d time.Duration) result {
	var n atomic.Int64
	procs := runtime.GOMAXPROCS(0)
	bufs := make([]bytes.Buffer, procs)
	return closedLoop(ctx, procs, time.Second, d, func(ctx context.Context, w, i int) error {
		in := in
		in.Nickname = fmt.Sprintf("用户%d-%d-%d", n.Add(1), w, i)
		img, err := r.RenderDefault(ctx, in)
		if err != nil {
			return err
		}
		buf := &bufs[w]
		buf.Reset()
		err = poster.EncodeJPEG(buf, img, 85)
		r.Recycle(img)
		return err
	})
}

// idleLatency asks for n fresh posters one at a time, each after a pause
// long enough for the worker to be idle, and times POST → succeeded.
func (s *system) idleLatency(ctx context.Context, n int, body func(i int) map[string]any) result {
	var res result
	for i := range n {
		time.Sleep(150*time.Millisecond + rand.N(100*time.Millisecond))
		t0 := time.Now()
		if _, err := s.make(ctx, body(i)); err != nil {
			res.errs++
			continue
		}
		res.lat = append(res.lat, time.Since(t0))
		res.n++
	}
	return res
}

// peakRSS runs f while sampling the worker's RSS every 50 ms.
func (s *system) peakRSS(f func()) int64 {
	var peak atomic.Int64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if v := s.workerRSS(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(done)
	return peak.Load()
}
