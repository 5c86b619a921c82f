package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"image"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/pacing"
	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/palette"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/worker"
)

// Job outcomes of wxposter_job_duration_seconds; the first two also label
// wxposter_posters_finished_total.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed" // for good: no attempt follows
	StatusRetry     = "retry"  // a transient error; asynq runs it again
	StatusHeld      = "held"   // held back by pacing, rescheduled
)

// Jobs is asynq middleware (mux.Use) that times every job attempt, measures
// the queue wait of first attempts from tasks.HeaderEnqueuedAt, and counts
// poster jobs that ended by app, template and status.
func (m *Metrics) Jobs(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		queue, _ := asynq.GetQueueName(ctx)
		retried, _ := asynq.GetRetryCount(ctx)
		if at, ok := tasks.EnqueuedAt(t.Headers()); ok && retried == 0 {
			m.jobWait.WithLabelValues(queue).Observe(max(start.Sub(at), 0).Seconds())
		}
		var p tasks.PosterPayload
		isPoster := t.Type() == tasks.TypeGeneratePoster
		if isPoster {
			_ = json.Unmarshal(t.Payload(), &p) // a bad payload counts under app ""
			if p.Template == "" {
				p.Template = "(code)" // the plain code image
			}
			ctx = context.WithValue(ctx, templateKey{}, p.Template)
		}
		err := next.ProcessTask(ctx, t)
		maxRetry, ok := asynq.GetMaxRetry(ctx)
		status := outcome(err, retried, maxRetry, ok)
		m.jobDuration.WithLabelValues(queue, status).Observe(time.Since(start).Seconds())
		if isPoster && (status == StatusSucceeded || status == StatusFailed) {
			m.postersFinished.WithLabelValues(p.AppID, p.Template, status).Inc()
		}
		return err
	})
}

// templateKey carries the job's template name to the renderer.
type templateKey struct{}

func templateName(ctx context.Context) string {
	name, _ := ctx.Value(templateKey{}).(string)
	return name
}

// outcome tells what asynq does with a job after its handler returned err
// on attempt retried+1 of maxRetry+1 (known: whether asynq said).
func outcome(err error, retried, maxRetry int, known bool) string {
	var rl *worker.RateLimitError
	switch {
	case err == nil:
		return StatusSucceeded
	case errors.As(err, &rl):
		return StatusHeld // worker.IsFailure: no retry spent
	case !worker.IsFailure(err):
		return StatusRetry // an outage waited out: it runs again, no retry spent
	case errors.Is(err, asynq.SkipRetry):
		return StatusFailed
	case known && retried >= maxRetry:
		return StatusFailed // asynq archives it
	}
	return StatusRetry
}

// Pacer wraps p, counting code calls admitted and jobs held back by app and
// reason.
func (m *Metrics) Pacer(p worker.Pacer) worker.Pacer { return &pacer{p: p, m: m} }

type pacer struct {
	p worker.Pacer
	m *Metrics
}

func (p *pacer) count(appID string, h pacing.Hold, err error) {
	switch {
	case err != nil:
	case h.Held():
		p.m.holds.WithLabelValues(appID, string(h.Reason)).Inc()
	}
}

func (p *pacer) Admit(ctx context.Context, appID string, maxWait time.Duration) (pacing.Hold, error) {
	h, err := p.p.Admit(ctx, appID, maxWait)
	if err == nil && !h.Held() {
		p.m.admissions.WithLabelValues(appID).Inc()
	}
	p.count(appID, h, err)
	return h, err
}

func (p *pacer) MinuteQuotaHit(ctx context.Context, appID string) (pacing.Hold, error) {
	h, err := p.p.MinuteQuotaHit(ctx, appID)
	p.count(appID, h, nil) // the hold applies even when sharing it failed
	return h, err
}

func (p *pacer) DailyQuotaHit(ctx context.Context, appID string) (pacing.Hold, error) {
	h, err := p.p.DailyQuotaHit(ctx, appID)
	p.count(appID, h, nil)
	return h, err
}

// Renderer wraps r, timing every render by template.
func (m *Metrics) Renderer(r worker.Renderer) worker.Renderer { return &renderer{r: r, m: m} }

type renderer struct {
	r worker.Renderer
	m *Metrics
}

func (r *renderer) RenderDefault(ctx context.Context, in poster.DefaultInput) (*image.RGBA, error) {
	start := time.Now()
	img, err := r.r.RenderDefault(ctx, in)
	if err == nil {
		r.m.renderDuration.WithLabelValues(poster.DefaultTemplate).Observe(time.Since(start).Seconds())
	}
	return img, err
}

// Recycle passes a finished canvas back to the wrapped renderer (the
// worker gives canvases back through whatever renderer it holds; without
// this the wrapper swallowed them and every poster allocated 4 MB).
func (r *renderer) Recycle(img *image.RGBA) {
	if rc, ok := r.r.(interface{ Recycle(*image.RGBA) }); ok {
		rc.Recycle(img)
	}
}

func (r *renderer) RenderPalette(ctx context.Context, p *palette.Palette, in poster.PaletteInput) (*image.RGBA, error) {
	start := time.Now()
	img, err := r.r.RenderPalette(ctx, p, in)
	if err == nil {
		r.m.renderDuration.WithLabelValues(templateName(ctx)).Observe(time.Since(start).Seconds())
	}
	return img, err
}
