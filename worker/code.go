package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bsm/redislock"

	"github.com/wxposter/wxposter/storage"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

// code returns the mini-program code for req, fetching it from WeChat only
// if no worker has stored it yet. A held-back job on its last attempt
// waits here (waitOut) rather than fail.
func (h *Handler) code(ctx context.Context, app wechat.App, req wechat.UnlimitedCode) (*wechat.Image, error) {
	key := tasks.CodeKey(app.AppID, req)
	for {
		img, err := h.fetchCode(ctx, app, req, key)
		var rl *RateLimitError
		if errors.As(err, &rl) && h.waitOut(ctx, rl) {
			continue
		}
		return img, err
	}
}

// fetchCode gets the code from storage or, paced, from WeChat. A Redis lock
// per code makes concurrent jobs needing the same code (two templates, same
// scene) wait for one fetch instead of each spending WeChat quota; pacing
// comes after the last storage check, so only real calls count.
func (h *Handler) fetchCode(ctx context.Context, app wechat.App, req wechat.UnlimitedCode, key string) (*wechat.Image, error) {
	if img, err := h.storedCode(ctx, key); err != nil || img != nil {
		return img, err
	}
	lock, err := redislock.Obtain(ctx, h.rdb, "wxposter:lock:"+key, h.codeLock, &redislock.Options{
		RetryStrategy: redislock.LinearBackoff(50 * time.Millisecond),
	})
	if err != nil {
		return nil, fmt.Errorf("lock code %s: %w", key, err)
	}
	defer lock.Release(context.WithoutCancel(ctx))
	// The lock must outlive the call: pacing may hold us for half its TTL
	// and a slow WeChat (or a loaded machine) the call for up to the
	// client's code timeout; a lock that expired mid-call would let the
	// next job needing this code pay for it again.
	defer h.holdLock(ctx, lock)()

	// The previous holder may have stored it while we waited.
	if img, err := h.storedCode(ctx, key); err != nil || img != nil {
		return img, err
	}
	if err := h.admit(ctx, app.AppID); err != nil {
		return nil, err
	}
	img, err := h.codes.GetUnlimitedCode(ctx, app, req.Normalize())
	if err != nil {
		return nil, h.quotaHit(ctx, app.AppID, err)
	}
	pctx, cancel := h.opTimeout(ctx)
	defer cancel()
	if err := h.store.Put(pctx, key, img.Data, storage.PutOptions{ContentType: img.ContentType, CacheControl: storage.ImmutableCache}); err != nil {
		// Paid for: keep it for the next attempt rather than fetch it again,
		// and go on (the poster's own upload may still work).
		h.keepCode(ctx, key, img)
	}
	h.log.InfoContext(ctx, "fetched code from WeChat", "app", app.AppID, "key", key, "bytes", len(img.Data))
	return img, nil
}

func (h *Handler) storedCode(ctx context.Context, key string) (*wechat.Image, error) {
	if img, err := h.keptCode(ctx, key); err != nil || img != nil {
		return img, err
	}
	gctx, cancel := h.opTimeout(ctx)
	defer cancel()
	obj, err := h.store.Get(gctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &wechat.Image{Data: obj.Data, ContentType: obj.ContentType}, nil
}

// holdLock refreshes lock every third of its TTL until the returned stop
// is called.
func (h *Handler) holdLock(ctx context.Context, lock *redislock.Lock) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(h.codeLock / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := lock.Refresh(ctx, h.codeLock, nil); err != nil && ctx.Err() == nil {
					h.log.WarnContext(ctx, "could not extend the code lock", "key", lock.Key(), "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}
