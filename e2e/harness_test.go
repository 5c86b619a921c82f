package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/redis/go-redis/v9"

	wxbatch "github.com/wxposter/wxposter/batch"
	"github.com/wxposter/wxposter/finished"
	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/imagesrc"
	"github.com/wxposter/wxposter/producer"
	"github.com/wxposter/wxposter/storage"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/templates"
	"github.com/wxposter/wxposter/wechat"
	"github.com/wxposter/wxposter/worker"
	"github.com/wxposter/wxposter/wxsim"
)

// Pages the simulated mini-program has published.
const (
	jsDomain   = "h5.example.com" // the app's JS-safe domain
	pageIndex  = "pages/index/index"
	pageDetail = "pages/activity/detail"
)

// system is the whole of wxposter on real Redis and MinIO, with the WeChat
// simulator standing in for api.weixin.qq.com.
type system struct {
	tb     testing.TB
	sim    *wxsim.Sim
	simURL string
	app    wechat.App
	rdb    redis.UniversalClient
	store  *storage.Store
	api    *httptest.Server
	avatar *httptest.Server
	queue  string
	shards int
	logs   *testenv.LogBuffer
	// batchQueue and batchPrefix isolate the test's batches; batches is
	// the producer's batch store.
	batchQueue  string
	batchPrefix string
	batches     *wxbatch.Store
	tmplPrefix  string
	// templates is the producer's template store (workers have their own
	// on the same keys, as separate processes would).
	templates *templates.Store
	// records are the producer's finished records (with the index of made
	// posters when the test asks for one).
	records *finished.Records
}

type settings struct {
	processes   int
	handlerOpts []worker.HandlerOption
	poll        time.Duration
	maxRetry    int
	workers     int
	simOpts     []wxsim.Option
	simWrap     func(http.Handler) http.Handler
	apiKeys     []string
	// callbackSecret and callbackHosts configure batch callbacks.
	callbackSecret string
	callbackHosts  []string
	batchShare     float64
	// producerStore wraps the store the producer is given.
	producerStore func(*storage.Store) producer.Objects
	// dispatchStore wraps the store batch dispatch's "already made?"
	// check falls back to.
	dispatchStore func(*storage.Store) finished.Objects
	// redisURL is the Redis everything runs on (default testenv.RedisURL),
	// in any form WXPOSTER_REDIS_URL takes; s3 the storage backend.
	redisURL string
	s3       *testenv.Backend
	shards   int
	// madeIndex is the size in bits of the index of made posters shared by
	// the producer and the workers (0: none).
	madeIndex uint64
}

type setting func(*settings)

func withMaxRetry(n int) setting { return func(s *settings) { s.maxRetry = n } }
func withSim(o ...wxsim.Option) setting {
	return func(s *settings) { s.simOpts = append(s.simOpts, o...) }
}
func withWorkerConcurrency(n int) setting { return func(s *settings) { s.workers = n } }

func start(tb testing.TB, opts ...setting) *system {
	tb.Helper()
	set := settings{maxRetry: 3, workers: 4, processes: 1, poll: 20 * time.Millisecond}
	for _, o := range opts {
		o(&set)
	}
	s := &system{
		tb: tb,
		app: wechat.App{AppID: testenv.AppID(), Secret: "e2e-secret-" + testenv.ID(12),
			Name: "shop", JSDomains: []string{jsDomain}},
		rdb:    newRedis(tb, set.redisURL),
		queue:  "e2e-" + testenv.ID(6),
		shards: set.shards,
		logs:   &testenv.LogBuffer{},
	}
	s.batchQueue = s.queue + "-batch"
	s.batchPrefix = "e2e-" + testenv.ID(6) + ":"
	tb.Cleanup(func() { purgeKeys(s.rdb, s.batchPrefix) })
	log := s.logs.Logger()

	s.sim = wxsim.New(append([]wxsim.Option{
		wxsim.WithApp(s.app.AppID, s.app.Secret),
		wxsim.WithPublishedPages(pageIndex, pageDetail),
	}, set.simOpts...)...)
	simSrv := httptest.NewServer(wrapSim(set, s.sim))
	s.simURL = simSrv.URL
	tb.Cleanup(simSrv.Close)

	s.avatar = httptest.NewServer(http.HandlerFunc(serveAvatar))
	tb.Cleanup(s.avatar.Close)
	avatarHost := mustURL(tb, s.avatar.URL).Host

	if set.s3 != nil {
		s.store = testenv.StoreOn(tb, *set.s3, nil)
	} else {
		s.store = testenv.Store(tb)
	}
	s.records = finished.New(s.rdb)
	if set.madeIndex > 0 {
		s.records = finished.New(s.rdb, finished.WithIndex(set.madeIndex, s.store.URL("")))
		set.handlerOpts = append(set.handlerOpts, worker.WithMadeIndex(set.madeIndex))
		tb.Cleanup(func() { s.rdb.Del(context.Background(), s.records.IndexKey()) })
	}
	tmplPrefix := "e2e-" + testenv.ID(6) + ":template:"
	s.tmplPrefix = tmplPrefix
	s.templates = templates.NewStore(s.rdb, templates.WithKeyPrefix(tmplPrefix))
	tb.Cleanup(func() { purgeKeys(s.rdb, tmplPrefix) })

	renderer, err := poster.New(poster.WithLogger(log))
	if err != nil {
		tb.Fatal(err)
	}
	// Each worker "process" has its own Redis pool, WeChat client (so its own
	// single-flight and in-process caches) and asynq server, as separate
	// processes would; they share Redis, MinIO and the simulator.
	for range set.processes {
		rdb := newRedis(tb, set.redisURL)
		wx := wechat.New(rdb, wechat.WithBaseURL(simSrv.URL), wechat.WithLogger(log))
		// The avatar server listens on loopback, which the Fetcher refuses
		// unless told otherwise.
		fetcher := imagesrc.NewFetcher(imagesrc.WithAllowedHosts(avatarHost),
			imagesrc.WithAllowPrivate(netip.MustParsePrefix("127.0.0.0/8")))
		loader, err := imagesrc.NewLoader(imagesrc.WithFetcher(fetcher))
		if err != nil {
			tb.Fatal(err)
		}
		s.startWorker(rdb, wx, renderer, fetcher, set,
			append([]worker.HandlerOption{worker.WithImageLoader(loader)}, set.handlerOpts...)...)
	}

	var pstore producer.Objects = s.store
	if set.producerStore != nil {
		pstore = set.producerStore(s.store)
	}
	api := producer.New(s.rdb, pstore,
		producer.WithApps(s.app),
		producer.WithQueue(s.queue),
		producer.WithQueueShards(set.shards),
		producer.WithMaxRetry(set.maxRetry),
		producer.WithImageHosts(avatarHost),
		producer.WithLogger(log),
		producer.WithWeChat(wechat.New(s.rdb, wechat.WithBaseURL(simSrv.URL), wechat.WithLogger(log))),
		producer.WithAPIKeys(set.apiKeys...),
		producer.WithTemplates(s.templates),
		producer.WithBatches(producer.Batches{Store: s.batchStore(s.rdb), Hosts: mustHosts(tb, set.callbackHosts),
			Signing: set.callbackSecret != ""}),
		producer.WithRenderer(renderer),
		producer.WithFinished(finished.NewCache(s.records, 0, 0)),
	)
	s.batches = s.batchStore(s.rdb)
	tb.Cleanup(func() { api.Close() })
	s.api = httptest.NewServer(conformToAPIDoc(tb, api))
	tb.Cleanup(s.api.Close)
	tb.Cleanup(func() { s.cleanupQueue() })
	return s
}

// cleanupQueue removes the test's queues from Redis.
func (s *system) cleanupQueue() {
	insp := asynq.NewInspectorFromRedisClient(s.rdb)
	_ = insp.DeleteQueue(s.batchQueue, true)
	for _, q := range tasks.ShardQueues(s.queue, s.shards) {
		_ = insp.DeleteQueue(q, true)
	}
}

// newRedis is a client of url, or of the default test Redis.
func newRedis(tb testing.TB, url string) redis.UniversalClient {
	if url == "" {
		return testenv.Redis(tb)
	}
	return testenv.RedisAt(tb, url)
}

// job is a poster job as the API shows it.
type job struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	URL       string `json:"url"`
	StatusURL string `json:"status_url"`
	Attempts  int    `json:"attempts"`
	Error     *struct {
		Code    string `json:"code"`
		Errcode *int   `json:"errcode"`
		Message string `json:"message"`
	} `json:"error"`
}

type apiErr struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// post sends body (a value or raw []byte) to POST /v1/posters.
func (s *system) post(body any) (int, []byte) {
	s.tb.Helper()
	return s.call(http.MethodPost, "/v1/posters", body)
}

// call sends body (a value, raw []byte, or nil) to path and returns the answer.
func (s *system) call(method, path string, body any) (int, []byte) {
	s.tb.Helper()
	return s.callAs("", method, path, body)
}

// callAs is call with an API key ("" for none).
func (s *system) callAs(key, method, path string, body any) (int, []byte) {
	s.tb.Helper()
	return s.callAsTo(s.api.URL, key, method, path, body)
}

// callAsTo is callAs against the API server at base.
func (s *system) callAsTo(base, key, method, path string, body any) (int, []byte) {
	s.tb.Helper()
	b, ok := body.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(body); err != nil {
			s.tb.Fatal(err)
		}
	}
	if body == nil {
		b = nil
	}
	req, err := http.NewRequest(method, base+path, bytes.NewReader(b))
	if err != nil {
		s.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.tb.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (s *system) submit(body any) job {
	s.tb.Helper()
	code, b := s.post(body)
	if code != http.StatusAccepted && code != http.StatusOK {
		s.tb.Fatalf("POST /v1/posters = %d %s", code, b)
	}
	var j job
	if err := json.Unmarshal(b, &j); err != nil {
		s.tb.Fatal(err)
	}
	return j
}

// get polls the job once, holding up to wait seconds.
func (s *system) get(id string, wait int) (int, job) {
	s.tb.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/v1/posters/%s?wait=%d", s.api.URL, id, wait))
	if err != nil {
		s.tb.Fatal(err)
	}
	defer resp.Body.Close()
	var j job
	_ = json.NewDecoder(resp.Body).Decode(&j)
	return resp.StatusCode, j
}

// await polls until the job ends (at most 30 s).
func (s *system) await(id string) job {
	s.tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		code, j := s.get(id, 10)
		if code != http.StatusOK {
			s.tb.Fatalf("GET job %s = %d", id, code)
		}
		if j.Status == "succeeded" || j.Status == "failed" {
			return j
		}
	}
	s.tb.Fatalf("job %s did not end in 30 s", id)
	return job{}
}

// download fetches a URL anonymously, as a phone would.
func download(tb testing.TB, u string) (*http.Response, []byte) {
	tb.Helper()
	resp, err := http.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s = %d %s", u, resp.StatusCode, b)
	}
	return resp, b
}

// scanQR finds and decodes the QR code anywhere in img.
func scanQR(tb testing.TB, img image.Image) string {
	tb.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		tb.Fatalf("no QR code found: %v", err)
	}
	return res.GetText()
}

// serveAvatar is a 160×160 PNG avatar: a warm disc on a blue square.
func serveAvatar(w http.ResponseWriter, _ *http.Request) {
	img := image.NewRGBA(image.Rect(0, 0, 160, 160))
	for y := range 160 {
		for x := range 160 {
			c := color.RGBA{40, 90, 200, 255}
			if (x-80)*(x-80)+(y-80)*(y-80) < 50*50 {
				c = color.RGBA{250, 170, 60, 255}
			}
			img.Set(x, y, c)
		}
	}
	w.Header().Set("Content-Type", "image/png")
	_ = png.Encode(w, img)
}

func mustURL(tb testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func ctxT(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// withPollInterval sets the worker's idle poll (tests use 20 ms; the
// shipped default, WXPOSTER_WORKER_POLL_INTERVAL, is 100 ms).
func withPollInterval(d time.Duration) setting { return func(s *settings) { s.poll = d } }

// withWorkerProcesses runs n independent workers (see start).
func withWorkerProcesses(n int) setting { return func(s *settings) { s.processes = n } }

// withHandlerOptions configures every worker's poster handler.
func withHandlerOptions(o ...worker.HandlerOption) setting {
	return func(s *settings) { s.handlerOpts = append(s.handlerOpts, o...) }
}

// withSimMiddleware puts mw in front of the simulator, to answer what the
// simulator cannot (such as 45009).
func withSimMiddleware(mw func(http.Handler) http.Handler) setting {
	return func(s *settings) { s.simWrap = mw }
}

func wrapSim(set settings, h http.Handler) http.Handler {
	if set.simWrap == nil {
		return h
	}
	return set.simWrap(h)
}

// withAPIKeys closes the API: requests need one of keys.
func withAPIKeys(keys ...string) setting { return func(s *settings) { s.apiKeys = keys } }

// purgeKeys deletes the Redis keys under prefix (a test's templates), on
// every master of a Cluster.
func purgeKeys(rdb redis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	purge := func(ctx context.Context, node redis.UniversalClient) error {
		keys, err := node.Keys(ctx, prefix+"*").Result()
		for _, k := range keys {
			rdb.Del(ctx, k) // one by one: on a Cluster the keys may sit in several slots
		}
		return err
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return purge(ctx, c) })
		return
	}
	_ = purge(ctx, rdb)
}

// withRedis runs the system on the Redis url names (Sentinel, Cluster, ...).
func withRedis(url string) setting { return func(s *settings) { s.redisURL = url } }

// withS3 stores on backend b instead of testenv's default.
func withS3(b testenv.Backend) setting { return func(s *settings) { s.s3 = &b } }

// withQueueShards spreads jobs over n queues (WXPOSTER_QUEUE_SHARDS).
func withQueueShards(n int) setting { return func(s *settings) { s.shards = n } }
