package poster

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/wxposter/wxposter/poster/budget"
	"github.com/wxposter/wxposter/poster/imagesrc"
	"github.com/wxposter/wxposter/poster/palette"
)

var _ ImageLoader = (*imagesrc.Loader)(nil)

// ImageError is an image of a palette that could not be loaded: Path names
// the field (views[3].url, background) and URL the image.
type ImageError struct {
	Path, URL string
	Err       error
}

func (e *ImageError) Error() string { return "poster: load image of " + e.Path + ": " + e.Err.Error() }
func (e *ImageError) Unwrap() error { return e.Err }

// ShortURL is URL without its query, fragment and credentials (which may hold
// tokens), and a data: URI as its type only: fit for logs and job errors.
func (e *ImageError) ShortURL() string {
	if strings.HasPrefix(strings.ToLower(e.URL), "data:") {
		if i := strings.IndexAny(e.URL, ";,"); i > 0 {
			return e.URL[:i] + ",…"
		}
		return "data:…"
	}
	u, err := url.Parse(e.URL)
	if err != nil || u.Host == "" {
		return "(not a URL)"
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// maxConcurrentLoads bounds the image loads of one render.
const maxConcurrentLoads = 4

// loadPaletteImages loads every distinct image URL of p (background and
// image views) concurrently. Errors name the field the URL came from.
func loadPaletteImages(ctx context.Context, p *palette.Palette, l ImageLoader) (map[string]image.Image, error) {
	paths := map[string]string{} // url → first field naming it
	var urls []string
	addURL := func(u, path string) {
		if u == "" {
			return
		}
		if _, ok := paths[u]; !ok {
			paths[u] = path
			urls = append(urls, u)
		}
	}
	addURL(p.Background().URL, "background")
	for _, v := range p.Views() {
		if v.Type == palette.TypeImage {
			addURL(v.URL, v.Path+".url")
		}
	}
	if len(urls) == 0 {
		return nil, nil
	}
	if l == nil {
		return nil, fmt.Errorf("poster: %s names an image but PaletteInput.Images is nil", paths[urls[0]])
	}
	var mu sync.Mutex
	out := make(map[string]image.Image, len(urls))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxConcurrentLoads)
	for _, u := range urls {
		g.Go(func() error {
			img, err := l.Load(gctx, u)
			if err == nil && img == nil {
				err = errors.New("loader returned no image")
			}
			var be *budget.Error
			switch {
			case err == nil:
			case errors.As(err, &be):
				named := *be
				named.Where = paths[u] // the view, not "image"
				return &named
			case ctx.Err() != nil:
				return budget.Check(ctx, paths[u])
			default:
				return &ImageError{Path: paths[u], URL: u, Err: err}
			}
			mu.Lock()
			out[u] = img
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
