package main

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/config"
	"github.com/wxposter/wxposter/finished"
	"github.com/wxposter/wxposter/metrics"
	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/poster/imagesrc"
	"github.com/wxposter/wxposter/producer"
	"github.com/wxposter/wxposter/redisconn"
	"github.com/wxposter/wxposter/storage"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/templates"
	"github.com/wxposter/wxposter/wechat"
	"github.com/wxposter/wxposter/worker"
)

// deps are the connections both producer and worker need.
type deps struct {
	cfg *config.Config
	log *slog.Logger
	rdb redis.UniversalClient
	// redis is WXPOSTER_REDIS_URL parsed: rdb is built from it, and so must
	// be any other Redis connection (asynqmon takes redis.AsynqOpt()).
	redis *redisconn.Conn
	store *storage.Store
	apps  []wechat.App
	// templates are the stored templates, shared by producer and workers.
	templates *templates.Store
	// Operations (ops.go): the process's metrics, objects timed by them,
	// and what to close at the end.
	metrics *metrics.Metrics
	objects *metrics.Store
	closers []func() error
}

func newLogger(cfg *config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// setup loads the configuration and connects to Redis and MinIO.
func setup(ctx context.Context) (*deps, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	return connect(ctx, cfg)
}

func connect(ctx context.Context, cfg *config.Config) (*deps, error) {
	log := newLogger(cfg)
	slog.SetDefault(log)
	tasks.SetIDSecret(string(cfg.IDSecret))
	if cfg.IDSecret == "" {
		log.Warn("WXPOSTER_ID_SECRET is not set: job ids and poster URLs use the public development secret")
	}
	rconn := cfg.Redis()
	rdb := rconn.NewClient()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis (%s) is not reachable (start it, or run scripts/devenv.sh): %w", rconn, err)
	}
	store, err := storage.New(pctx, storage.Config{
		Endpoint: cfg.MinIOEndpoint, AccessKey: cfg.MinIOAccessKey, SecretKey: string(cfg.MinIOSecretKey),
		Secure: cfg.MinIOSecure, Bucket: cfg.Bucket, Region: cfg.S3Region, BucketLookup: cfg.S3BucketLookup,
		Checksum: cfg.S3Checksum, ExternalBucket: !cfg.S3ManageBucket,
	}, storage.WithPublicBaseURL(cfg.PublicBaseURL))
	if err != nil {
		rdb.Close()
		return nil, fmt.Errorf("s3 storage at %s: %w", cfg.MinIOEndpoint, err)
	}
	startPprof(ctx, log, cfg.PprofListen)
	apps := make([]wechat.App, len(cfg.Apps))
	for i, a := range cfg.Apps {
		apps[i] = wechat.App{Name: a.Name, AppID: a.AppID, Secret: string(a.Secret), JSDomains: a.JSDomains}
	}
	m := metrics.New()
	return &deps{cfg: cfg, log: log, rdb: rdb, redis: rconn, store: store, apps: apps, templates: templates.NewStore(rdb),
		metrics: m, objects: m.Store(store)}, nil
}

// loadTemplates stores the palettes of WXPOSTER_TEMPLATE_DIR. Unchanged
// files keep their versions, so restarts (and several producers starting
// at once) cost nothing and invalidate no poster.
func (d *deps) loadTemplates(ctx context.Context) error {
	if n, err := d.templates.MigrateLegacyKeys(ctx); err != nil {
		return err
	} else if n > 0 {
		d.log.Info("templates moved to their Redis Cluster-ready keys", "keys", n)
	}
	if d.cfg.TemplateDir == "" {
		return nil
	}
	loaded, err := d.templates.LoadDir(ctx, d.cfg.TemplateDir)
	if err != nil {
		return fmt.Errorf("WXPOSTER_TEMPLATE_DIR: %w", err)
	}
	for _, l := range loaded {
		d.log.Info("template loaded", "template", l.Template.Name, "version", l.Template.Version,
			"change", l.Change, "file", l.File)
	}
	return nil
}

// imageHosts are the hosts avatars may come from: the configured ones plus
// our own public base (so posters can reuse images we serve).
func (d *deps) imageHosts() []string {
	hosts := append([]string(nil), d.cfg.ImageHosts...)
	if u, err := url.Parse(d.cfg.PublicBaseURL); err == nil && u.Host != "" {
		hosts = append(hosts, u.Host)
	}
	return hosts
}

func (d *deps) producer(ctx context.Context) (*producer.Server, error) {
	keys := make([]string, len(d.cfg.APIKeys))
	for i, k := range d.cfg.APIKeys {
		keys[i] = string(k)
	}
	ops, err := d.opsRoutes(ctx)
	if err != nil {
		return nil, err
	}
	return producer.New(d.rdb, d.objects, append(ops,
		producer.WithApps(d.apps...),
		producer.WithAPIKeys(keys...),
		producer.WithImageHosts(d.imageHosts()...),
		producer.WithQueue(d.cfg.Queue),
		producer.WithQueueShards(d.cfg.QueueShards),
		producer.WithRetention(d.cfg.JobRetention),
		producer.WithTimeout(d.cfg.JobTimeout),
		producer.WithMaxRetry(d.cfg.MaxRetry),
		producer.WithLogger(d.log),
		producer.WithWeChat(d.wechat()),
		producer.WithSessionTTL(d.cfg.SessionTTL),
		producer.WithShareMaxAge(d.cfg.ShareMaxAge),
		producer.WithTemplates(d.templates),
		producer.WithRenderer(lazyRenderer{d.log}),
		producer.WithPacing(pacing.New(d.rdb, pacing.WithRates(d.cfg.CodeRatePerMinute, d.perAppRates()))),
		producer.WithBatches(d.producerBatches()),
		producer.WithFinished(finished.NewCache(d.finishedRecords(), 0, 0)),
	)...), nil
}

// wechat is the WeChat client: tokens from stable_token (default),
// /cgi-bin/token, or the company's own central control server.
func (d *deps) wechat() *wechat.Client {
	topts := []wechat.TokenOption{wechat.WithTokenEndpoint(d.cfg.TokenEndpoint)}
	if d.cfg.TokenSourceURL != "" {
		topts = append(topts, wechat.WithTokenSourceURL(string(d.cfg.TokenSourceURL)))
	}
	return wechat.New(d.rdb, wechat.WithBaseURL(d.cfg.WeChatAPIBase), wechat.WithLogger(d.log),
		wechat.WithTokenOptions(topts...), wechat.WithObserver(d.metrics))
}

func (d *deps) worker() (*asynq.Server, *asynq.ServeMux, error) {
	renderer, err := sharedRenderer(d.log)
	if err != nil {
		return nil, nil, err
	}
	wx := d.wechat()
	fetcher := imagesrc.NewFetcher(imagesrc.WithAllowedHosts(d.imageHosts()...))
	// Every image (template images and the default template's avatar): data:
	// URIs, our own objects read from storage, the rest fetched under the
	// image-host and SSRF policy; decoded images are kept in an in-process
	// LRU and fetched bytes in MinIO (images/, private), so a restart does
	// not fetch every avatar again.
	loader, err := imagesrc.NewLoader(imagesrc.WithFetcher(fetcher), imagesrc.WithLoaderLogger(d.log),
		imagesrc.WithOwnObjects(d.cfg.PublicBaseURL, d.objectBytes),
		imagesrc.WithObjectCache(d.objectBytes, func(ctx context.Context, key string, b []byte) error {
			return d.objects.Put(ctx, key, b, storage.PutOptions{ContentType: "application/octet-stream"})
		}))
	if err != nil {
		return nil, nil, err
	}
	batches := d.batchStore()
	pacer := pacing.New(d.rdb, pacing.WithRates(d.cfg.CodeRatePerMinute, d.perAppRates()),
		pacing.WithBatchShare(d.cfg.BatchRateShare), pacing.WithLogger(d.log))
	h := worker.NewHandler(d.rdb, d.apps, wx, d.objects, d.metrics.Renderer(renderer), loaderImages{loader}, worker.WithLogger(d.log),
		worker.WithPacer(d.metrics.Pacer(pacer)),
		worker.WithBatches(batches, d.cfg.BatchQueue, worker.BatchSlots(d.cfg.WorkerConcurrency, d.cfg.BatchRateShare)),
		worker.WithTemplates(d.templates), worker.WithImageLoader(loader),
		worker.WithOutageTolerance(d.cfg.OutageTolerance), worker.WithFinishedTTL(d.cfg.JobRetention),
		worker.WithMadeIndex(d.cfg.MadeIndexBits()), worker.WithRenderConcurrency(d.cfg.RenderConcurrency))
	srv := worker.NewServer(d.rdb, worker.ServerConfig{
		Queue:        d.cfg.Queue,
		BatchQueue:   d.cfg.BatchQueue,
		Shards:       d.cfg.QueueShards,
		Concurrency:  d.cfg.WorkerConcurrency,
		PollInterval: d.cfg.WorkerPollInterval,
		Logger:       d.log,
	})
	mux := worker.NewMux(h)
	mux.Use(d.metrics.Jobs)
	d.batchHandlers(mux, batches)
	return srv, mux, nil
}

// objectBytes reads an object of our bucket (imagesrc.GetObjectFunc).
func (d *deps) objectBytes(ctx context.Context, key string) ([]byte, error) {
	obj, err := d.objects.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return obj.Data, nil
}

// startWorker starts the poster worker. stop waits for running jobs up to
// the shutdown timeout.
func (d *deps) startWorker() (stop func(), err error) {
	srv, mux, err := d.worker()
	if err != nil {
		return nil, err
	}
	if err := srv.Start(mux); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	d.log.Info("worker started", "queue", d.cfg.Queue, "shards", d.cfg.QueueShards, "concurrency", d.cfg.WorkerConcurrency)
	// Workers (re)build the index of made posters when it is missing.
	ctx, cancel := context.WithCancel(context.Background())
	go d.finishedRecords().KeepIndex(ctx, d.objects, time.Minute, d.log)
	return func() { cancel(); srv.Shutdown() }, nil
}

// finishedRecords are the records of finished posters, with the index of
// made posters the producer and the workers share (WXPOSTER_MADE_INDEX_MB).
func (d *deps) finishedRecords() *finished.Records {
	opts := []finished.Option{finished.WithTTL(d.cfg.JobRetention)}
	if bits := d.cfg.MadeIndexBits(); bits > 0 {
		opts = append(opts, finished.WithIndex(bits, d.objects.URL("")))
	}
	return finished.New(d.rdb, opts...)
}

// perAppRates are the apps file's code_rate_per_minute overrides.
func (d *deps) perAppRates() map[string]int {
	m := map[string]int{}
	for _, a := range d.cfg.Apps {
		if a.CodeRatePerMinute > 0 {
			m[a.AppID] = a.CodeRatePerMinute
		}
	}
	return m
}

// loaderImages serves the default template's avatar through the cached
// loader (worker.Images).
type loaderImages struct{ *imagesrc.Loader }

func (l loaderImages) Fetch(ctx context.Context, u string) (image.Image, error) {
	return l.Load(ctx, u)
}
