package finished

import (
	"context"
	"log/slog"
	"time"
)

// Objects is what Checker asks of the object store.
type Objects interface {
	URL(key string) string
	Exists(ctx context.Context, key string) (bool, error)
}

// DefaultStorageTimeout bounds Checker's storage call: a dead store must
// not hold a request (or a batch's dispatch) for long.
const DefaultStorageTimeout = time.Second

// Checker is the one "is this poster already made?" check, for a single
// poster (the producer) and a batch's items (batch dispatch) alike.
type Checker struct {
	cache   *Cache
	objects Objects
	timeout time.Duration
	log     *slog.Logger
}

// NewChecker returns the check of c, then of objects.
func NewChecker(c *Cache, objects Objects, log *slog.Logger) *Checker {
	if log == nil {
		log = slog.Default()
	}
	return &Checker{cache: c, objects: objects, timeout: DefaultStorageTimeout, log: log}
}

// Made reports whether job id's poster (object key) is made: from memory,
// else from the record in Redis (or the index of made posters, whose "never
// made" needs no store round trip), else from storage, whose "yes" is
// learned into the record. It fails open: when neither Redis nor storage answers,
// the poster counts as not made and the caller enqueues its job, which is
// safe because the job id dedupes and the worker looks for the poster
// before rendering it.
func (c *Checker) Made(ctx context.Context, id, key string) bool {
	url := c.objects.URL(key)
	switch k, err := c.cache.Lookup(ctx, id, url); {
	case k == Made:
		return true
	case k == NeverMade:
		return false // the complete index of made posters has no trace of it
	case err != nil:
		c.log.DebugContext(ctx, "finished record unreadable, asking storage", "key", key, "err", err)
	}
	sctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	ok, err := c.objects.Exists(sctx, key)
	if err != nil {
		c.log.WarnContext(ctx, "storage unavailable: enqueueing without the already-made check", "key", key, "err", err)
		return false
	}
	if !ok {
		return false
	}
	if err := c.cache.Records().Learn(ctx, id, url); err != nil {
		c.log.DebugContext(ctx, "could not record a stored poster", "key", key, "err", err)
	}
	c.cache.Remember(url)
	return true
}
