package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/wxposter/wxposter/config"
	"github.com/wxposter/wxposter/wxsim"
)

func runProducer(ctx context.Context) error {
	d, err := setup(ctx)
	if err != nil {
		return err
	}
	defer d.rdb.Close()
	defer d.close()
	if err := d.loadTemplates(ctx); err != nil {
		return err
	}
	api, err := d.producer(ctx)
	if err != nil {
		return err
	}
	defer api.Close()
	return serveHTTP(ctx, d.log, "producer", d.cfg.Listen, api)
}

// defaultWorkerMemoryLimit is the worker's soft heap limit when GOMEMLIMIT is
// not set. Rendering makes megabytes of short-lived canvases per poster, and
// Go's default GC lets the heap grow to twice what is live; the limit makes it
// collect earlier instead, so that a worker at concurrency 8 stays under
// 200 MB resident (docs/benchmarks.md). Set GOMEMLIMIT to change it.
const defaultWorkerMemoryLimit = 160 << 20

func runWorker(ctx context.Context) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultWorkerMemoryLimit)
	}
	d, err := setup(ctx)
	if err != nil {
		return err
	}
	defer d.rdb.Close()
	stop, err := d.startWorker()
	if err != nil {
		return err
	}
	d.serveWorkerMetrics(ctx)
	<-ctx.Done()
	stop()
	return nil
}

func runSim(ctx context.Context) error {
	cfg, err := config.LoadSim(nil)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sim := newSim(cfg, log)
	return serveHTTP(ctx, log, "wechat simulator", cfg.Listen, sim)
}

func newSim(cfg *config.SimConfig, log *slog.Logger) *wxsim.Sim {
	opts := []wxsim.Option{
		wxsim.WithPublishedPages(cfg.Pages...),
		wxsim.WithQuotaPerMinute(cfg.QuotaPerMinute),
		wxsim.WithErrorRatio(cfg.ErrorRatio),
		wxsim.WithLatency(cfg.Latency),
		wxsim.WithLogger(log),
	}
	for _, a := range cfg.Apps {
		opts = append(opts, wxsim.WithApp(a.AppID, string(a.Secret)))
	}
	return wxsim.New(opts...)
}

// Development defaults: the credentials scripts/devenv.sh starts MinIO with
// and a demo app the simulator knows. Never used outside `wxposter dev`.
var devDefaults = map[string]string{
	"WXPOSTER_MINIO_ACCESS_KEY": "wxposter",
	"WXPOSTER_MINIO_SECRET_KEY": "wxposter-dev-secret",
	"WXPOSTER_APPS":             "wx0123456789abcdef:dev-app-secret-not-real",
	// The dashboard at /monitoring/ without a password on a developer's
	// machine (keys, when set, still win).
	"WXPOSTER_DASHBOARD_OPEN": "true",
}

func runDev(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "enqueue one demo poster, print its URL, keep serving")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for k, v := range devDefaults {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	// From the repository's root (make run), the example templates are there.
	if _, set := os.LookupEnv("WXPOSTER_TEMPLATE_DIR"); !set {
		if fi, err := os.Stat(exampleTemplates); err == nil && fi.IsDir() {
			os.Setenv("WXPOSTER_TEMPLATE_DIR", exampleTemplates)
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	// The simulator stands in for api.weixin.qq.com unless a real base is set.
	if os.Getenv("WXPOSTER_WECHAT_API_BASE") == "" {
		simCfg, err := config.LoadSim(nil)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", simCfg.Listen)
		if err != nil {
			return fmt.Errorf("simulator: %w", err)
		}
		go serveListener(ctx, log, "wechat simulator", ln, newSim(simCfg, log))
		os.Setenv("WXPOSTER_WECHAT_API_BASE", "http://"+ln.Addr().String())
	}

	d, err := setup(ctx)
	if err != nil {
		return err
	}
	defer d.rdb.Close()
	defer d.close()
	if err := d.loadTemplates(ctx); err != nil {
		return err
	}
	stop, err := d.startWorker()
	if err != nil {
		return err
	}
	defer stop()
	cfg := d.cfg
	api, err := d.producer(ctx)
	if err != nil {
		return err
	}
	defer api.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- serveListener(ctx, d.log, "producer", ln, api) }()

	if *demo {
		base := "http://" + ln.Addr().String()
		url, err := demoPoster(ctx, base, cfg, defaultDemo)
		if err != nil {
			return fmt.Errorf("demo poster: %w", err)
		}
		fmt.Fprintf(stdout, "\ndemo poster: %s\n", url)
		if _, err := d.templates.Get(ctx, templateDemo["template"].(string)); err == nil {
			url, err := demoPoster(ctx, base, cfg, templateDemo)
			if err != nil {
				return fmt.Errorf("template demo poster: %w", err)
			}
			fmt.Fprintf(stdout, "template poster: %s\n", url)
		}
		fmt.Fprintf(stdout, "API:         http://%s/v1/posters  (Ctrl-C to stop)\n", ln.Addr())
		fmt.Fprintf(stdout, "dashboard:   http://%s/monitoring/   metrics: /metrics   OpenAPI: /openapi.json\n\n", ln.Addr())
	}
	return <-errc
}

// The demo posters: the built-in template, and (when examples/templates is
// loaded) the activity example, which needs no image.
var (
	defaultDemo = map[string]any{
		"template": "default",
		"page":     "pages/index/index",
		"scene":    "id:42;from:demo",
		"data": map[string]string{
			"nickname": "微信用户",
			"title":    "【限时特惠】新疆阿克苏冰糖心苹果 5 斤装，当季现摘，脆甜多汁，扫码立即抢购",
		},
	}
	templateDemo = map[string]any{
		"template": "activity",
		"page":     "pages/activity/detail",
		"scene":    "act:2026-spring",
		"data": map[string]string{
			"title":     "春日植物园亲子徒步",
			"time":      "4月12日（周六）09:30 – 12:00",
			"place":     "上海辰山植物园 · 1号门集合",
			"organizer": "小红花亲子社",
		},
	}
)

// exampleTemplates is where `wxposter dev` finds templates when
// WXPOSTER_TEMPLATE_DIR is unset (relative: make run starts in the repository).
const exampleTemplates = "examples/templates"

// demoPoster asks the running producer for one poster and waits for its URL.
func demoPoster(ctx context.Context, base string, cfg *config.Config, req map[string]any) (string, error) {
	body, _ := json.Marshal(req)
	var job struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		URL    string `json:"url"`
		Error  *struct {
			Code, Message string
		} `json:"error"`
	}
	call := func(method, url string, body []byte) error {
		req, _ := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if len(cfg.APIKeys) > 0 {
			req.Header.Set("Authorization", "Bearer "+string(cfg.APIKeys[0]))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			b, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, b)
		}
		return json.NewDecoder(resp.Body).Decode(&job)
	}
	if err := call(http.MethodPost, base+"/v1/posters", body); err != nil {
		return "", err
	}
	for job.Status != "succeeded" && job.Status != "failed" {
		if err := call(http.MethodGet, base+"/v1/posters/"+job.ID+"?wait=30", nil); err != nil {
			return "", err
		}
	}
	if job.Status == "failed" {
		return "", fmt.Errorf("job %s failed: %+v", job.ID, job.Error)
	}
	return job.URL, nil
}

func serveHTTP(ctx context.Context, log *slog.Logger, name, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return serveListener(ctx, log, name, ln, h)
}

// serveListener serves h until ctx ends, then shuts down gracefully: stop
// accepting, let h answer what it holds (Drain), finish, return nil.
func serveListener(ctx context.Context, log *slog.Logger, name string, ln net.Listener, h http.Handler) error {
	srv := newHTTPServer(h)
	log.Info(name+" listening", "addr", "http://"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
