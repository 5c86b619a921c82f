package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/budget"
	"github.com/wxposter/wxposter/poster/imagesrc"
	"github.com/wxposter/wxposter/poster/palette"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/templates"
	"github.com/wxposter/wxposter/wechat"
)

// pngCodes answers every code call with a small white PNG.
type pngCodes struct{ calls atomic.Int32 }

func (c *pngCodes) GetUnlimitedCode(context.Context, wechat.App, wechat.UnlimitedCode) (*wechat.Image, error) {
	c.calls.Add(1)
	img := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return &wechat.Image{Data: buf.Bytes(), ContentType: "image/png"}, nil
}

// fakeTemplates holds versions of one template, "card".
type fakeTemplates map[int]*templates.Template

func (f fakeTemplates) GetVersion(_ context.Context, name string, v int) (*templates.Template, error) {
	if t, ok := f[v]; ok && name == t.Name {
		return t, nil
	}
	return nil, fmt.Errorf("%w: %s v%d", templates.ErrNotFound, name, v)
}

// fakeRenderer draws palettes by loading each URL given, then failing
// with err if set.
type fakeRenderer struct {
	urls []string
	err  error
	got  *poster.PaletteInput
}

func (r *fakeRenderer) RenderDefault(context.Context, poster.DefaultInput) (*image.RGBA, error) {
	return nil, errors.New("not used")
}

func (r *fakeRenderer) RenderPalette(ctx context.Context, _ *palette.Palette, in poster.PaletteInput) (*image.RGBA, error) {
	r.got = &in
	for _, u := range r.urls {
		if _, err := in.Images.Load(ctx, u); err != nil {
			return nil, fmt.Errorf("palette: image %s: %w", u, err)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	img := image.NewRGBA(image.Rect(0, 0, 20, 20))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	return img, nil
}

// fakeImages fails every fetch with err, or returns a 1×1 image.
type fakeImages struct{ err error }

func (f fakeImages) Fetch(context.Context, string) (image.Image, error) {
	if f.err != nil {
		return nil, f.err
	}
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.Black)
	return img, nil
}

func cardTemplate(t *testing.T, version int) *templates.Template {
	t.Helper()
	p, err := palette.Parse([]byte(`{"width":"750rpx","height":"1000rpx","views":[
		{"type":"image","url":"{{avatar}}","css":{"top":"0rpx","left":"0rpx","width":"100rpx","height":"100rpx"}},
		{"type":"text","text":"{{title}}","css":{"top":"200rpx","left":"40rpx","fontSize":"30rpx"}},
		{"type":"wxacode","css":{"top":"600rpx","left":"300rpx","width":"200rpx","height":"200rpx"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return &templates.Template{Name: "card", Version: version, Palette: p, Variables: p.Variables()}
}

func TestTemplateJobs(t *testing.T) {
	rdb := testenv.Redis(t)
	app := wechat.App{AppID: testenv.AppID(), Secret: "s"}
	data := map[string]string{"title": "标题", "avatar": "https://thirdwx.qlogo.cn/a.png"}
	netErr := &net.OpError{Op: "dial", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name      string
		tmpls     fakeTemplates // nil: no WithTemplates
		version   int
		data      map[string]string
		images    error
		renderErr error
		code      string // "" for success
		permanent bool
		codeCalls int32
	}{
		{"renders the version queued", fakeTemplates{1: cardTemplate(t, 1), 2: cardTemplate(t, 2)}, 1, data, nil, nil, "", false, 1},
		{"no template store", nil, 1, data, nil, nil, "unknown_template", true, 0},
		{"version gone", fakeTemplates{2: cardTemplate(t, 2)}, 1, data, nil, nil, "unknown_template", true, 0},
		{"missing variable", fakeTemplates{1: cardTemplate(t, 1)}, 1, map[string]string{"title": "x"}, nil, nil, "render_failed", true, 0},
		{"image refused", fakeTemplates{1: cardTemplate(t, 1)}, 1, data,
			fmt.Errorf("poster: fetch: %w: host not allowed", imagesrc.ErrFetchRefused), nil, "render_failed", true, 1},
		{"image host down", fakeTemplates{1: cardTemplate(t, 1)}, 1, data, netErr, nil, "render_failed", false, 1},
		{"bad palette at render", fakeTemplates{1: cardTemplate(t, 1)}, 1, data, nil,
			&palette.Error{Path: "views[1].css.top", Rule: "refers to an unknown id"}, "render_failed", true, 1},
		{"render out of time", fakeTemplates{1: cardTemplate(t, 1)}, 1, data, nil, context.DeadlineExceeded, "timeout", false, 1},
		// issue 9: over the render's budget is permanent, never retried.
		{"render over its budget", fakeTemplates{1: cardTemplate(t, 1)}, 1, data, nil,
			&budget.Error{Where: "views[3]", Limit: "limit of 40000000 drawn pixels"}, "render_failed", true, 1},
		{"image too costly to decode", fakeTemplates{1: cardTemplate(t, 1)}, 1, data,
			fmt.Errorf("load: %w", imagesrc.ErrTooComplex), nil, "render_failed", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			codes, store := &pngCodes{}, &memStore{}
			render := &fakeRenderer{urls: []string{tc.data["avatar"]}, err: tc.renderErr}
			opts := []HandlerOption{WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), WithPacer(&fakePacer{})}
			if tc.tmpls != nil {
				opts = append(opts, WithTemplates(tc.tmpls))
			}
			h := NewHandler(rdb, []wechat.App{app}, codes, store, render, fakeImages{tc.images}, opts...)
			p := tasks.PosterPayload{AppID: app.AppID, Template: "card", TemplateVersion: tc.version, Data: tc.data,
				Code: wechat.UnlimitedCode{Page: "pages/index/index", Scene: "t"}}
			// Every case is the same job: forget the poster the first one made.
			t.Cleanup(func() { rdb.Del(context.Background(), tasks.FinishedKey(p.JobID())) })
			url, err := h.run(context.Background(), p.JobID(), p)
			if got := codes.calls.Load(); got != tc.codeCalls {
				t.Errorf("code calls = %d, want %d", got, tc.codeCalls)
			}
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if obj, _ := store.Get(context.Background(), tasks.PosterKey(p.JobID(), "jpg")); obj == nil || url == "" {
					t.Fatal("no poster stored")
				}
				if render.got == nil || render.got.Code == nil {
					t.Fatal("the code was not given to the renderer")
				}
				return
			}
			je := classify(err)
			if je.code != tc.code || je.permanent != tc.permanent {
				t.Fatalf("got %s permanent=%v (%v), want %s permanent=%v", je.code, je.permanent, err, tc.code, tc.permanent)
			}
		})
	}
}

// A refused image names its view and URL, without the query (it may hold a token).
func TestImageFailureNamesViewAndURL(t *testing.T) {
	err := &poster.ImageError{Path: "views[3].url", URL: "https://evil.example.com/a.png?token=SECRET",
		Err: fmt.Errorf("fetch: %w: host not allowed", imagesrc.ErrFetchRefused)}
	je := classify(paletteErr(err))
	if !je.permanent || !strings.Contains(je.msg, "views[3].url https://evil.example.com/a.png") || strings.Contains(je.msg, "SECRET") {
		t.Errorf("msg = %q permanent=%v", je.msg, je.permanent)
	}
}
