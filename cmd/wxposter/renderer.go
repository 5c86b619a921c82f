package main

import (
	"context"
	"image"
	"log/slog"
	"sync"

	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/palette"
)

// processRenderer is the one poster.Renderer of this process, shared by the
// worker and the producer's previews when both run here. Loading the fonts
// costs about a second and 50 MB, so a producer only pays it on its first
// preview or template dry run.
var processRenderer struct {
	once sync.Once
	r    *poster.Renderer
	err  error
}

func sharedRenderer(log *slog.Logger) (*poster.Renderer, error) {
	processRenderer.once.Do(func() {
		processRenderer.r, processRenderer.err = poster.New(poster.WithLogger(log)) // fonts: system paths or WXPOSTER_FONT_DIR
	})
	return processRenderer.r, processRenderer.err
}

// lazyRenderer loads the shared renderer on first use (producer.Renderer).
type lazyRenderer struct{ log *slog.Logger }

func (l lazyRenderer) RenderPalette(ctx context.Context, p *palette.Palette, in poster.PaletteInput) (*image.RGBA, error) {
	r, err := sharedRenderer(l.log)
	if err != nil {
		return nil, err
	}
	return r.RenderPalette(ctx, p, in)
}
