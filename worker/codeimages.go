package worker

import (
	"context"
	"image"
	"math"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/wxposter/wxposter/poster/imagesrc"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

// DefaultCodeCacheBytes bounds the decoded codes a worker keeps: 8 MiB is
// eleven 430 px codes.
const DefaultCodeCacheBytes = 8 << 20

// WithCodeCacheBytes bounds the decoded codes kept in memory (default
// DefaultCodeCacheBytes; 0 keeps none).
func WithCodeCacheBytes(n int64) HandlerOption {
	return func(h *Handler) { h.codeImages = newCodeImages(n) }
}

// codeImages keeps decoded codes by object key, as *image.RGBA. A code's
// key hashes everything WeChat draws it from, so its pixels never change:
// a campaign whose posters share a code fetches and decodes it once per
// worker, and the renderer, seeing the same image each time, scales it once
// (poster's prepared-image cache).
type codeImages struct {
	mu   sync.Mutex
	lru  *simplelru.LRU[string, *image.RGBA]
	size int64
	max  int64
}

func newCodeImages(maxBytes int64) *codeImages {
	c := &codeImages{max: maxBytes}
	c.lru, _ = simplelru.NewLRU(math.MaxInt32, func(_ string, img *image.RGBA) { c.size -= int64(len(img.Pix)) })
	return c
}

func (c *codeImages) get(key string) *image.RGBA {
	c.mu.Lock()
	defer c.mu.Unlock()
	img, _ := c.lru.Get(key)
	return img
}

func (c *codeImages) add(key string, img *image.RGBA) {
	n := int64(len(img.Pix))
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > c.max/2 {
		return
	}
	c.lru.Remove(key)
	c.lru.Add(key, img)
	c.size += n
	for c.size > c.max {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
}

// codeImage returns the decoded code of p: from memory, or fetched (from
// storage, else WeChat) and decoded.
func (h *Handler) codeImage(ctx context.Context, app wechat.App, p tasks.PosterPayload) (*image.RGBA, error) {
	key := tasks.CodeKey(app.AppID, p.Code)
	if img := h.codeImages.get(key); img != nil {
		return img, nil
	}
	code, err := h.code(ctx, app, p.Code)
	if err != nil {
		return nil, err
	}
	img, _, err := imagesrc.DecodeRGBA(code.Data, h.maxPixels)
	if err != nil {
		return nil, &jobErr{code: "bad_code_image", msg: "the code image could not be decoded", err: err}
	}
	h.codeImages.add(key, img)
	return img, nil
}
