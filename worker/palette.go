package worker

import (
	"context"
	"errors"
	"image"

	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/budget"
	"github.com/wxposter/wxposter/poster/imagesrc"
	"github.com/wxposter/wxposter/poster/palette"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/templates"
)

// palette returns the job's template, at the version it was queued with,
// filled with its data. The producer checked the data against that very
// version, so a failure here is permanent.
func (h *Handler) palette(ctx context.Context, p tasks.PosterPayload) (*palette.Palette, error) {
	if h.templates == nil {
		return nil, &jobErr{code: "unknown_template", msg: "this worker does not know template " + p.Template, permanent: true}
	}
	t, err := h.templates.GetVersion(ctx, p.Template, p.TemplateVersion)
	if errors.Is(err, templates.ErrNotFound) {
		return nil, &jobErr{code: "unknown_template", err: err, permanent: true,
			msg: "template " + p.Template + " (the version this job was queued with) no longer exists"}
	}
	if err != nil {
		return nil, err // Redis: transient
	}
	filled, err := t.Palette.Fill(p.Data)
	if err != nil {
		return nil, paletteErr(err)
	}
	return filled, nil
}

func (h *Handler) renderPalette(ctx context.Context, palette *palette.Palette, code image.Image) (*image.RGBA, error) {
	img, err := h.render.RenderPalette(ctx, palette, poster.PaletteInput{Code: code, Images: h.loader})
	if err != nil {
		return nil, paletteErr(err)
	}
	return img, nil
}

// paletteErr classifies a palette's fill or render failure. What the
// template or the data got wrong, and images refused by policy, fail for
// good; anything else (an image host's network, say) is retried.
func paletteErr(err error) error {
	var (
		me *palette.MissingVariableError
		pe *palette.Error
	)
	switch {
	case errors.As(err, &me):
		return &jobErr{code: "render_failed", msg: "data." + me.Name + " is required by the template", err: err, permanent: true}
	case errors.As(err, &pe):
		return &jobErr{code: "render_failed", msg: "the template cannot be drawn: " + pe.Path + " " + pe.Rule, err: err, permanent: true}
	case errors.As(err, new(*budget.Error)):
		return budgetErr(err)
	case errors.Is(err, imagesrc.ErrTooComplex):
		return &jobErr{code: "render_failed", msg: "an image of the template is too costly to decode: " + err.Error(), err: err, permanent: true}
	case errors.Is(err, imagesrc.ErrFetchRefused), errors.Is(err, imagesrc.ErrUnknownFormat), errors.Is(err, imagesrc.ErrTooManyPixels):
		return &jobErr{code: "render_failed", msg: "an image of the template was refused (host not allowed, too large, or not an image)" + imageAt(err), err: err, permanent: true}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err // classify: timeout
	}
	return &jobErr{code: "render_failed", msg: "the poster could not be rendered" + imageAt(err), err: err}
}

// imageAt names the view and the image at fault, if an image is: ": views[3].url
// https://host/a.png" (no query string: it may hold a token).
func imageAt(err error) string {
	var ie *poster.ImageError
	if !errors.As(err, &ie) {
		return ""
	}
	return ": " + ie.Path + " " + ie.ShortURL()
}

// fetchLoader loads a palette's images with the handler's Images, the
// avatar fetcher, when no other loader is set.
type fetchLoader struct{ Images }

func (f fetchLoader) Load(ctx context.Context, url string) (image.Image, error) {
	return f.Fetch(ctx, url)
}
