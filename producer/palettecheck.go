package producer

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/budget"
	"github.com/wxposter/wxposter/poster/palette"
)

// Renderer draws palettes: the dry run of PUT /v1/templates and the images
// of POST /v1/preview (*poster.Renderer is one).
type Renderer interface {
	RenderPalette(ctx context.Context, p *palette.Palette, in poster.PaletteInput) (*image.RGBA, error)
}

// WithRenderer sets the renderer of template dry runs and previews; without
// one, PUT skips the dry run and /v1/preview answers 503.
func WithRenderer(r Renderer) Option { return func(s *Server) { s.render = r } }

// dryRunTimeout bounds the dry run of a PUT and a preview's render.
const dryRunTimeout = 10 * time.Second

// paletteReport is every problem of a palette (errors) and what will not
// work as its author may think (warnings), as the API shows them.
type paletteReport struct {
	Errors   []*palette.Error `json:"errors"`
	Warnings []*palette.Error `json:"warnings"`
}

// checkPalette parses src and reports all its problems at once. What
// parses is then drawn once with placeholders (every image a grey block,
// the code a placeholder, each variable its own {{name}}), so that a
// palette that can never render is refused at the door rather than at every
// poster. It returns the parsed palette when there are no errors.
func (s *Server) checkPalette(ctx context.Context, src []byte) (*palette.Palette, paletteReport) {
	rep := paletteReport{Errors: []*palette.Error{}, Warnings: []*palette.Error{}}
	p, err := palette.Parse(src)
	if err != nil {
		var es palette.Errors
		var pe *palette.Error
		switch {
		case errors.As(err, &es):
			rep.Errors = es
		case errors.As(err, &pe):
			rep.Errors = []*palette.Error{pe}
		default:
			rep.Errors = []*palette.Error{{Path: "palette", Rule: err.Error()}}
		}
		return nil, rep
	}
	rep.Warnings = append(rep.Warnings, p.Warnings()...)
	rep.Warnings = append(rep.Warnings, s.imageHostWarnings(p)...)
	if s.render != nil {
		if err := s.dryRun(ctx, p, placeholders(p), 0); err != nil {
			rep.Errors = append(rep.Errors, renderProblem(err))
			return nil, rep
		}
	}
	return p, rep
}

// placeholders is data that fills every variable of p with its own name.
func placeholders(p *palette.Palette) map[string]string {
	data := map[string]string{}
	for _, v := range p.Variables() {
		data[v] = "{{" + v + "}}"
	}
	return data
}

// dryRun fills p with data and draws it without touching the network: images
// are placeholders, the code too.
func (s *Server) dryRun(ctx context.Context, p *palette.Palette, data map[string]string, width int) error {
	_, err := s.renderPreview(ctx, p, data, width)
	return err
}

// renderPreview fills p with data and draws it with placeholder images and
// code: no image is fetched, WeChat is never called.
func (s *Server) renderPreview(ctx context.Context, p *palette.Palette, data map[string]string, width int) (*image.RGBA, error) {
	// The workers' budget (pixels decoded and drawn, time): a hostile
	// palette costs the producer no more than a worker.
	ctx, cancel := budget.With(ctx, budget.New(budget.Limits{Time: dryRunTimeout}))
	defer cancel()
	filled, err := p.Fill(data)
	if err != nil {
		return nil, err
	}
	return s.render.RenderPalette(ctx, filled, poster.PaletteInput{Code: placeholderCode, Images: placeholderImages{}, WidthPixels: width})
}

// renderProblem turns a render failure into a problem naming its field.
func renderProblem(err error) *palette.Error {
	var pe *palette.Error
	var me *palette.MissingVariableError
	var be *budget.Error
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.As(err, &be):
		return &palette.Error{Path: be.Where, Rule: "is over the render's " + be.Limit}
	case errors.As(err, &me):
		return &palette.Error{Path: "data." + me.Name, Rule: "is required by the palette"}
	case errors.Is(err, context.DeadlineExceeded):
		return &palette.Error{Path: "palette", Rule: fmt.Sprintf("takes more than %s to draw", dryRunTimeout)}
	}
	return &palette.Error{Path: "palette", Rule: "cannot be drawn: " + err.Error()}
}

// imageHostWarnings names the image URLs written into p whose host the
// workers will refuse (WXPOSTER_IMAGE_HOSTS).
func (s *Server) imageHostWarnings(p *palette.Palette) []*palette.Error {
	var out []*palette.Error
	check := func(path, raw string) {
		if raw == "" || strings.Contains(raw, "{{") {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return
		}
		if !s.imageHosts[strings.ToLower(u.Host)] && !s.imageHosts[strings.ToLower(u.Hostname())] {
			out = append(out, &palette.Error{Path: path, Rule: "host " + u.Host + " is not an allowed image host (WXPOSTER_IMAGE_HOSTS): the poster will fail"})
		}
	}
	check("background", p.Background().URL)
	for _, v := range p.Views() {
		if v.Type == palette.TypeImage {
			check(v.Path+".url", v.URL)
		}
	}
	return out
}

// placeholderImages loads every URL as a grey block, without the network.
type placeholderImages struct{}

var placeholderImage = func() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 400, 400))
	for y := range 400 {
		for x := range 400 {
			c := uint8(0xd9)
			if (x/40+y/40)%2 == 0 {
				c = 0xcc
			}
			img.SetRGBA(x, y, color.RGBA{c, c, c, 0xff})
		}
	}
	return img
}()

func (placeholderImages) Load(context.Context, string) (image.Image, error) {
	return placeholderImage, nil
}

// placeholderCode stands where the mini-program code goes: a grey disc with
// rings, round like a real code, that no phone will try to scan.
var placeholderCode = func() image.Image {
	const n = 430
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	c := float64(n) / 2
	for y := range n {
		for x := range n {
			d := math.Hypot(float64(x)+0.5-c, float64(y)+0.5-c)
			switch {
			case d > c:
				img.SetRGBA(x, y, color.RGBA{0xff, 0xff, 0xff, 0xff})
			case d < c*0.3:
				img.SetRGBA(x, y, color.RGBA{0x07, 0xc1, 0x60, 0xff})
			case int(d/18)%2 == 0:
				img.SetRGBA(x, y, color.RGBA{0x99, 0x99, 0x99, 0xff})
			default:
				img.SetRGBA(x, y, color.RGBA{0xdd, 0xdd, 0xdd, 0xff})
			}
		}
	}
	return img
}()
