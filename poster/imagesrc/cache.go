package imagesrc

import (
	"image"
	"math"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// imageCache is an LRU of decoded images bounded by the bytes of their
// pixels rather than by their number: one background weighs as much as a
// hundred avatars. A nil *imageCache caches nothing.
type imageCache struct {
	mu   sync.Mutex
	lru  *simplelru.LRU[string, *image.RGBA]
	size int64 // sum of len(Pix) of the cached images
	max  int64
}

// newImageCache returns a cache of at most maxBytes of pixels, or nil
// (no caching) if maxBytes <= 0.
func newImageCache(maxBytes int64) *imageCache {
	if maxBytes <= 0 {
		return nil
	}
	c := &imageCache{max: maxBytes}
	// The count limit is never the binding one: size is.
	c.lru, _ = simplelru.NewLRU(math.MaxInt32, func(_ string, img *image.RGBA) {
		c.size -= int64(len(img.Pix))
	})
	return c
}

func (c *imageCache) get(key string) (*image.RGBA, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

// add caches img under key, evicting the least recently used images until
// the cache is within its size. An image larger than the whole cache is not
// cached.
func (c *imageCache) add(key string, img *image.RGBA) {
	n := int64(len(img.Pix))
	if c == nil || n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key) // Add would replace silently, without the eviction callback
	c.lru.Add(key, img)
	c.size += n
	for c.size > c.max {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
}

// stats returns the number of images and bytes cached.
func (c *imageCache) stats() (images int, bytes int64) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.size
}
