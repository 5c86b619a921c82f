package worker

import (
	"context"
	"time"

	"github.com/wxposter/wxposter/finished"
)

// A job can run again after its poster was made: asynq v0.26.0 retries
// "mark complete" with the task's (already cancelled) context after a Redis
// blip, the lease expires and the recoverer hands the job out again. The
// worker therefore records every finished poster in Redis
// (finished.Records, the record the producer answers repeats from) and,
// before rendering, looks for that record and, when an earlier run of the
// job started (finished.RunAgain), for the poster object itself: a job
// already made ends at once, rendered and uploaded once. A first run skips
// the store: the producer (or the batch dispatch) looked there before
// enqueueing. The producer reads the same record, so such a job shows as
// succeeded, not running.

// WithFinishedTTL sets how long the record of a finished poster is kept
// (default 24 h; the job retention, WXPOSTER_JOB_RETENTION, is right).
func WithFinishedTTL(d time.Duration) HandlerOption { return func(h *Handler) { h.finishedTTL = d } }

// WithMadeIndex adds every poster to an index of made posters of bits bits
// before uploading it (finished.WithIndex), which lets the producer enqueue
// a new poster without asking the store whether it exists. The producer
// must be given the same size. 0 (the default) keeps no index.
func WithMadeIndex(bits uint64) HandlerOption { return func(h *Handler) { h.indexBits = bits } }

// existser is the optional part of Objects that tells whether a poster exists.
type existser interface {
	Exists(ctx context.Context, key string) (bool, error)
}

// alreadyMade returns the URL of job id's poster if it was made before.
// An error from the store means "not known to be made": rendering again is
// safe. An error from Redis is returned when the index of made posters is
// kept: uploading a poster it does not hold would make the producer's
// "never made" wrong, so the job waits for Redis like for any outage.
func (h *Handler) alreadyMade(ctx context.Context, id, key string) (string, bool, error) {
	if id == "" {
		return "", false, nil
	}
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	url := h.store.URL(key)
	// Only a record of this store counts (another deployment, or a bucket
	// since replaced, may share the Redis).
	run, err := h.finished.Start(rctx, id, url)
	cancel()
	switch {
	case err != nil && h.finished.Indexed():
		return "", false, err
	case run == finished.RunMade:
		return url, true, nil
	case run == finished.RunFirst && err == nil:
		return "", false, nil
	}
	ex, ok := h.store.(existser)
	if !ok {
		return "", false, nil
	}
	sctx, cancel := h.opTimeout(ctx)
	defer cancel()
	if found, err := ex.Exists(sctx, key); err == nil && found {
		return url, true, nil
	}
	return "", false, nil
}

// markFinished records that job id's poster is at url. If Redis is down it
// keeps trying in the background for a while (the blip this is for).
func (h *Handler) markFinished(ctx context.Context, id, url string) {
	if id == "" {
		return
	}
	set := func() error {
		rctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return h.finished.Add(rctx, id, url)
	}
	if set() == nil {
		return
	}
	go func() {
		for i := 0; i < 120; i++ {
			time.Sleep(time.Second)
			if set() == nil {
				return
			}
		}
		h.log.WarnContext(ctx, "could not record a finished poster in Redis", "job", id)
	}()
}
