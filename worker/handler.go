// Package worker runs poster jobs: it gets the mini-program code (from
// storage, or once from WeChat), composites the poster, uploads it and
// records its URL on the task.
package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/batch"
	"github.com/wxposter/wxposter/finished"
	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/budget"
	"github.com/wxposter/wxposter/poster/imagesrc"
	"github.com/wxposter/wxposter/poster/palette"
	"github.com/wxposter/wxposter/storage"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/templates"
	"github.com/wxposter/wxposter/wechat"
)

// Codes fetches mini-program codes from WeChat.
type Codes interface {
	GetUnlimitedCode(ctx context.Context, app wechat.App, req wechat.UnlimitedCode) (*wechat.Image, error)
}

// Objects is the part of storage the worker needs.
type Objects interface {
	Get(ctx context.Context, key string) (*storage.Object, error)
	Put(ctx context.Context, key string, data []byte, o storage.PutOptions) error
	URL(key string) string
}

// Renderer draws templates: the built-in default and palettes.
type Renderer interface {
	RenderDefault(ctx context.Context, in poster.DefaultInput) (*image.RGBA, error)
	RenderPalette(ctx context.Context, p *palette.Palette, in poster.PaletteInput) (*image.RGBA, error)
}

// Templates gives the exact template version a job was queued with
// (templates.Store), even after the template was edited or deleted.
type Templates interface {
	GetVersion(ctx context.Context, name string, version int) (*templates.Template, error)
}

// Images fetches remote images (avatars) under the image-host policy.
type Images interface {
	Fetch(ctx context.Context, rawURL string) (image.Image, error)
}

// Handler processes tasks.TypeGeneratePoster.
type Handler struct {
	rdb       redis.UniversalClient
	codes     Codes
	store     Objects
	render    Renderer
	images    Images
	templates Templates
	loader    poster.ImageLoader
	log       *slog.Logger
	apps      map[string]wechat.App
	quality   int
	maxPixels int
	codeLock  time.Duration

	pacer      Pacer
	pacingOpts []pacing.Option
	paceWait   time.Duration

	tracker    Tracker
	batchQueue string
	batchSlots chan struct{}

	outageTolerance time.Duration
	storageTimeout  time.Duration
	finishedTTL     time.Duration
	finished        *finished.Records // built from finishedTTL and indexBits
	indexBits       uint64
	recordReserve   time.Duration
	renderLimits    budget.Limits
	kept            keptCodes

	codeImages *codeImages
	// renderSlots bound the renders and encodes running at once (slots.go).
	renderSlots    slots
	renderSlotsSet bool
}

// HandlerOption configures a Handler.
type HandlerOption func(*Handler)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) HandlerOption { return func(h *Handler) { h.log = l } }

// WithJPEGQuality sets the poster JPEG quality (default 85).
func WithJPEGQuality(q int) HandlerOption { return func(h *Handler) { h.quality = q } }

// WithTemplates sets where the palettes of templates other than the
// built-in default come from; without it, jobs for them fail with
// unknown_template.
func WithTemplates(t Templates) HandlerOption { return func(h *Handler) { h.templates = t } }

// WithImageLoader sets the loader of the images palettes draw (default: the
// handler's Images, under the same host policy as avatars).
func WithImageLoader(l poster.ImageLoader) HandlerOption { return func(h *Handler) { h.loader = l } }

// NewHandler returns the poster handler. rdb is used for cross-worker code
// locks, to pace code calls (see WithCodeRate) and to announce finished
// jobs to waiting pollers.
func NewHandler(rdb redis.UniversalClient, apps []wechat.App, codes Codes, store Objects, render Renderer, images Images, opts ...HandlerOption) *Handler {
	h := &Handler{
		rdb: rdb, codes: codes, store: store, render: render, images: images,
		log: slog.Default(), apps: map[string]wechat.App{},
		quality: 85, maxPixels: 16_000_000, codeLock: 30 * time.Second,
		paceWait: 2 * time.Second,

		outageTolerance: DefaultOutageTolerance, storageTimeout: 5 * time.Second,
		finishedTTL: 24 * time.Hour, recordReserve: 2 * time.Second,
	}
	for _, a := range apps {
		h.apps[a.AppID] = a
	}
	for _, o := range opts {
		o(h)
	}
	if h.loader == nil && images != nil {
		h.loader = fetchLoader{images}
	}
	if h.codeImages == nil {
		h.codeImages = newCodeImages(DefaultCodeCacheBytes)
	}
	if !h.renderSlotsSet {
		h.renderSlots = newSlots(runtime.GOMAXPROCS(0))
	}
	fopts := []finished.Option{finished.WithTTL(h.finishedTTL)}
	if h.indexBits > 0 {
		fopts = append(fopts, finished.WithIndex(h.indexBits, store.URL("")))
	}
	h.finished = finished.New(rdb, fopts...)
	if h.pacer == nil {
		h.pacer = pacing.New(rdb, append([]pacing.Option{pacing.WithLogger(h.log)}, h.pacingOpts...)...)
	}
	return h
}

// ProcessTask implements asynq.Handler.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	id, _ := asynq.GetTaskID(ctx)
	start := time.Now()
	var p tasks.PosterPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return h.fail(ctx, t, id, &jobErr{code: "bad_payload", msg: "the job payload is not valid", err: err, permanent: true})
	}
	log := h.log.With("job", id, "app", p.AppID, "template", p.Template)

	release, ok := h.takeBatchSlot(ctx)
	if !ok {
		// Every batch slot of this process is busy: the rest are kept for
		// single posters. Back on the queue, without spending a retry.
		return &RateLimitError{AppID: p.AppID, RetryIn: time.Second,
			Hold: pacing.Hold{Reason: pacing.ReasonRate, RetryIn: time.Second}}
	}
	defer release()
	ctx, run, err := h.started(ctx, id)
	if err != nil {
		return fmt.Errorf("batch bookkeeping: %w", err)
	}
	if !run {
		// Only cancelled (or already finished) batch items wanted it: drop
		// the task without a trace, so the job id stays free.
		log.InfoContext(ctx, "batch job dropped: no item waits on it")
		return fmt.Errorf("no batch item waits on job %s: %w", id, asynq.RevokeTask)
	}
	// The work stops a little before asynq's deadline, so that a job out of
	// time can still record why (the result writer dies with ctx).
	wctx, cancel := h.workContext(ctx)
	defer cancel()
	for {
		url, err := h.run(wctx, id, p)
		var rl *RateLimitError
		if errors.As(err, &rl) {
			return h.hold(ctx, t, id, rl)
		}
		if err != nil && isOutage(wctx, err) {
			if oe := h.outage(ctx, id, err); oe != nil {
				if h.waitOutage(wctx, oe) {
					continue
				}
				if !lastAttempt(ctx) {
					return h.holdOutage(ctx, t, id, oe)
				}
			}
		}
		if err != nil {
			if wctx.Err() != nil && ctx.Err() == nil {
				err = &jobErr{code: "timeout", msg: "the job ran out of time (WXPOSTER_JOB_TIMEOUT)", err: err}
			}
			return h.fail(ctx, t, id, classify(err))
		}
		h.outageOver(ctx, id)
		if err := h.record(ctx, t, id, tasks.Result{URL: url, Key: tasks.PosterKey(id, p.PosterExt())}, true); err != nil {
			// Completed without its URL would be a lost poster: run again
			// (the poster is stored, so the rerun costs no quota).
			return fmt.Errorf("record the result: %w", err)
		}
		if err := h.ended(ctx, id, batch.Succeeded, nil); err != nil {
			// Run again: the poster is stored, so the rerun costs neither a
			// render nor a WeChat call (alreadyMade), and records the items then.
			return fmt.Errorf("batch bookkeeping: %w", err)
		}
		log.InfoContext(ctx, "poster done", "url", url, "took", time.Since(start))
		return nil
	}
}

// workContext is ctx ending recordReserve before ctx's deadline (when the
// deadline leaves room for that).
func (h *Handler) workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok || time.Until(dl) < 4*h.recordReserve {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, dl.Add(-h.recordReserve))
}

// holdOutage reschedules a job that met a backend outage, without spending
// a retry, and shows why on its status.
func (h *Handler) holdOutage(ctx context.Context, t *asynq.Task, id string, oe *OutageError) error {
	h.record(ctx, t, id, tasks.Result{Error: oe.public()}, false)
	_ = h.ended(ctx, id, batch.Held, nil)
	h.log.WarnContext(ctx, "poster waits out a backend outage", "job", id, "since", oe.Since.Round(time.Second),
		"retry_in", oe.RetryIn.Round(time.Millisecond), "err", oe.Err)
	return oe
}

func (h *Handler) run(ctx context.Context, id string, p tasks.PosterPayload) (string, error) {
	app, ok := h.apps[p.AppID]
	if !ok {
		return "", &jobErr{code: "unknown_app", msg: "the worker has no credentials for app " + p.AppID, permanent: true}
	}
	key := tasks.PosterKey(id, p.PosterExt())
	if url, ok, err := h.alreadyMade(ctx, id, key); err != nil {
		return "", err
	} else if ok {
		h.log.InfoContext(ctx, "poster was already made: not rendering it again", "job", id)
		return url, nil
	}
	// A template that cannot be rendered fails before WeChat quota is spent.
	var palette *palette.Palette
	if p.Template != "" && p.Template != poster.DefaultTemplate {
		var err error
		if palette, err = h.palette(ctx, p); err != nil {
			return "", err
		}
	}
	var (
		data        []byte
		contentType string
	)
	if p.Template == "" {
		code, err := h.code(ctx, app, p.Code)
		if err != nil {
			return "", err
		}
		if data, contentType, err = h.plainCode(code, p.PosterExt(), h.jpegQuality(p)); err != nil {
			return "", err
		}
	} else {
		// A palette that draws no code never asks WeChat for one: no
		// quota, and no page check (an unpublished page is fine).
		var codeImg image.Image
		if palette == nil || palette.DrawsCode() {
			var err error
			if codeImg, err = h.codeImage(ctx, app, p); err != nil { // decoded once per worker (codeimages.go)
				return "", err
			}
		}
		buf := getBuffer()
		defer putBuffer(buf)
		var err error
		if contentType, err = h.renderTemplate(ctx, buf, p, palette, codeImg); err != nil {
			return "", err
		}
		data = buf.Bytes()
	}
	pctx, cancel := h.opTimeout(ctx)
	defer cancel()
	if err := h.store.Put(pctx, key, data, storage.PutOptions{ContentType: contentType, CacheControl: storage.ImmutableCache}); err != nil {
		return "", err
	}
	url := h.store.URL(key)
	h.markFinished(ctx, id, url)
	return url, nil
}

// plainCode is the "share to Moments" poster: the code itself, in the
// format its key promises (WeChat's own bytes when they already are).
func (h *Handler) plainCode(code *wechat.Image, ext string, quality int) ([]byte, string, error) {
	want := map[string]string{"jpg": "image/jpeg", "png": "image/png"}[ext]
	if code.ContentType == want {
		return code.Data, want, nil
	}
	img, _, err := imagesrc.Decode(code.Data, h.maxPixels)
	if err != nil {
		return nil, "", &jobErr{code: "bad_code_image", msg: "the code image from WeChat could not be decoded", err: err}
	}
	var buf bytes.Buffer
	if ext == "png" {
		err = poster.EncodePNG(&buf, img)
	} else {
		err = poster.EncodeJPEG(&buf, img, quality) // flattens transparency over white
	}
	if err != nil {
		return nil, "", fmt.Errorf("transcode code: %w", err)
	}
	return buf.Bytes(), want, nil
}

// renderTemplate draws the default template, or palette (the job's
// template filled with its data) when it is not nil.
func (h *Handler) renderTemplate(ctx context.Context, buf *bytes.Buffer, p tasks.PosterPayload, palette *palette.Palette, codeImg image.Image) (string, error) {
	var err error
	// One budget for the whole render: images, layers, time.
	rctx, cancel := budget.With(ctx, budget.New(h.renderLimits))
	defer cancel()
	var img *image.RGBA
	if palette == nil {
		// The default template is all CPU (its avatar comes from the
		// loader's cache): render and encode in a render slot (slots.go).
		if err := h.renderSlots.acquire(ctx); err != nil {
			return "", err
		}
		defer h.renderSlots.release()
		img, err = h.renderDefault(rctx, p, codeImg)
	} else {
		// A palette render loads its images itself: only the encode waits
		// for a slot.
		if img, err = h.renderPalette(rctx, palette, codeImg); err == nil {
			if err := h.renderSlots.acquire(ctx); err != nil {
				return "", err
			}
			defer h.renderSlots.release()
		}
	}
	if err != nil {
		if ctx.Err() == nil {
			if be := budget.Cause(rctx, ""); be != nil && !errors.As(err, new(*budget.Error)) {
				err = be // the render's time limit, not the job's
			}
		}
		return "", budgetErr(err)
	}
	contentType := "image/jpeg"
	if p.PosterExt() == "png" {
		contentType, err = "image/png", poster.EncodePNG(buf, img)
	} else {
		err = poster.EncodeJPEG(buf, img, h.jpegQuality(p))
	}
	if rc, ok := h.render.(interface{ Recycle(*image.RGBA) }); ok {
		rc.Recycle(img) // encoded: the canvas can serve the next poster
	}
	if err != nil {
		return "", &jobErr{code: "render_failed", msg: "the poster could not be encoded", err: err}
	}
	return contentType, nil
}

// Encoded posters are written into pooled buffers, returned once uploaded:
// a 200 KB JPEG would otherwise grow a new buffer through a dozen copies.
var buffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 512<<10)) }}

func getBuffer() *bytes.Buffer { return buffers.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 4<<20 { // an outsized PNG: let it go
		return
	}
	b.Reset()
	buffers.Put(b)
}

// jpegQuality is the job's JPEG quality, or the worker's default.
func (h *Handler) jpegQuality(p tasks.PosterPayload) int {
	if p.Quality > 0 {
		return p.Quality
	}
	return h.quality
}

func (h *Handler) renderDefault(ctx context.Context, p tasks.PosterPayload, codeImg image.Image) (*image.RGBA, error) {
	var err error
	in := poster.DefaultInput{Code: codeImg, Nickname: p.Data["nickname"], Title: p.Data["title"]}
	if u := p.Data["avatar"]; u != "" {
		in.Avatar, err = h.images.Fetch(ctx, u)
		if err != nil {
			// A refusal by policy (host, size, pixels) will not change on retry.
			if be := new(budget.Error); errors.As(err, &be) {
				be.Where = "data.avatar"
				return nil, be
			}
			return nil, &jobErr{code: "avatar_unavailable", msg: "the avatar image could not be fetched",
				err: err, permanent: errors.Is(err, imagesrc.ErrFetchRefused) || errors.Is(err, imagesrc.ErrTooComplex)}
		}
	}
	img, err := h.render.RenderDefault(ctx, in)
	if err != nil {
		return nil, &jobErr{code: "render_failed", msg: "the poster could not be rendered", err: err}
	}
	return img, nil
}

// fail records the error on the task and tells asynq what to do next:
// permanent errors end the job at once, transient ones are retried.
func (h *Handler) fail(ctx context.Context, t *asynq.Task, id string, je *jobErr) error {
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	final := je.permanent || retried >= maxRetry
	h.record(ctx, t, id, tasks.Result{Error: je.public(), Final: final}, final)
	if final {
		_ = h.ended(ctx, id, batch.Failed, je.public())
	} else {
		_ = h.ended(ctx, id, batch.Retrying, nil)
	}
	h.log.WarnContext(ctx, "poster failed", "job", id, "code", je.code, "err", je.Error(),
		"permanent", je.permanent, "attempt", retried+1, "final", final)
	if je.permanent {
		return fmt.Errorf("%w: %w", je, asynq.SkipRetry)
	}
	return je
}

// hold reschedules a job held back by pacing, without spending a retry, and
// shows why on its status. On its last attempt (see waitOut) the job fails.
func (h *Handler) hold(ctx context.Context, t *asynq.Task, id string, rl *RateLimitError) error {
	if lastAttempt(ctx) {
		pub := rl.public()
		return h.fail(ctx, t, id, &jobErr{code: pub.Code, errcode: pub.Errcode, msg: pub.Message, err: rl})
	}
	h.record(ctx, t, id, tasks.Result{Error: rl.public()}, false)
	_ = h.ended(ctx, id, batch.Held, nil)
	// Waiting for a turn is routine under load (at most one line per slot
	// per PaceWait); a quota answer from WeChat is worth seeing.
	level := slog.LevelInfo
	if rl.Hold.Reason == pacing.ReasonRate {
		level = slog.LevelDebug
	}
	h.log.Log(ctx, level, "poster held back to stay within WeChat's quota", "job", id, "app", rl.AppID,
		"reason", rl.Hold.Reason, "retry_in", rl.RetryIn.Round(time.Millisecond))
	return rl
}

// record writes the result on the task and, when the job has ended, wakes
// pollers waiting on it. The write is retried while Redis fails over; its
// error is returned.
func (h *Handler) record(ctx context.Context, t *asynq.Task, id string, r tasks.Result, done bool) error {
	b, _ := json.Marshal(r)
	var werr error
	if w := t.ResultWriter(); w != nil {
		if werr = writeResult(ctx, w, b, 20*time.Second); werr != nil {
			h.log.WarnContext(ctx, "could not record result", "job", id, "err", werr)
		}
	}
	if done && id != "" {
		var msg []byte
		if r.URL != "" {
			retried, _ := asynq.GetRetryCount(ctx)
			msg, _ = json.Marshal(tasks.Done{URL: r.URL, Attempts: retried + 1})
		}
		if err := h.rdb.Publish(context.WithoutCancel(ctx), tasks.DoneChannel(id), msg).Err(); err != nil {
			h.log.WarnContext(ctx, "could not announce job end", "job", id, "err", err)
		} else if werr == nil {
			redisAnswered(ctx)
		}
	}
	return werr
}
