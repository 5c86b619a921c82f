package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/storage"
	"github.com/wxposter/wxposter/wechat"
)

// A code fetched from WeChat is paid for: when its upload fails it is kept
// (in Redis for keptCodeTTL, or in this process when Redis fails too) and
// the next attempt, on any worker, uses it and uploads it again instead of
// asking WeChat a second time.

const keptCodeTTL = 24 * time.Hour

// maxKeptInProcess bounds the process's own copies (codes are 10-100 KB).
const maxKeptInProcess = 256

func keptCodeKey(key string) string { return "wxposter:keptcode:" + key }

// keptCodes is the in-process fallback, for when Redis is down as well.
type keptCodes struct {
	mu sync.Mutex
	m  map[string]*wechat.Image
}

func (k *keptCodes) put(key string, img *wechat.Image) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]*wechat.Image{}
	}
	if len(k.m) >= maxKeptInProcess {
		for old := range k.m { // drop any one: a bound, not a cache policy
			delete(k.m, old)
			break
		}
	}
	k.m[key] = img
}

func (k *keptCodes) get(key string) *wechat.Image {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.m[key]
}

func (k *keptCodes) drop(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, key)
}

// keepCode stores img, whose upload to key failed, where the next attempt
// finds it.
func (h *Handler) keepCode(ctx context.Context, key string, img *wechat.Image) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	err := h.rdb.HSet(rctx, keptCodeKey(key), "data", img.Data, "type", img.ContentType).Err()
	if err == nil {
		err = h.rdb.Expire(rctx, keptCodeKey(key), keptCodeTTL).Err()
	}
	if err != nil {
		h.kept.put(key, img)
		h.log.WarnContext(ctx, "code upload failed and Redis too: keeping the code in this process", "key", key, "err", err)
		return
	}
	h.log.WarnContext(ctx, "code upload failed: keeping the code in Redis for the next attempt", "key", key)
}

// keptCode returns a code kept by keepCode, uploading it again on the way
// (and forgetting it once that worked); nil if there is none. When Redis
// cannot say, it is an error: not knowing must never lead to paying WeChat
// for a code we may already have.
func (h *Handler) keptCode(ctx context.Context, key string) (*wechat.Image, error) {
	img := h.kept.get(key)
	if img == nil {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		m, err := h.rdb.HGetAll(rctx, keptCodeKey(key)).Result()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("look for a kept code: %w", err)
		}
		if m["data"] == "" {
			return nil, nil
		}
		img = &wechat.Image{Data: []byte(m["data"]), ContentType: m["type"]}
	}
	pctx, cancel := h.opTimeout(ctx)
	defer cancel()
	if err := h.store.Put(pctx, key, img.Data, storage.PutOptions{ContentType: img.ContentType, CacheControl: storage.ImmutableCache}); err == nil {
		h.kept.drop(key)
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if err := h.rdb.Del(dctx, keptCodeKey(key)).Err(); err != nil && !errors.Is(err, redis.Nil) {
			h.log.WarnContext(ctx, "could not forget a kept code (it expires by itself)", "key", key, "err", err)
		}
	}
	return img, nil
}
