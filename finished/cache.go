package finished

import (
	"context"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/redis/go-redis/v9"
)

// Cache is a bounded in-process cache of posters known to be stored, in
// front of Records: a hot poster (a campaign's share button) is answered
// from memory. It keeps only positive answers, each for a short TTL, and
// forgets a URL as soon as any process deletes it (Listen); the TTL bounds
// how long a lost invalidation message can matter.
type Cache struct {
	rec *Records
	lru *lru.Cache[string, time.Time] // URL → when the entry expires
	ttl time.Duration
}

// Default bounds of a Cache: 10,000 URLs take about 2 MB.
const (
	DefaultCacheSize = 10_000
	DefaultCacheTTL  = 10 * time.Second
)

// NewCache returns a cache of at most size URLs, each trusted for ttl.
func NewCache(rec *Records, size int, ttl time.Duration) *Cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	l, _ := lru.New[string, time.Time](size) // only fails for size <= 0
	return &Cache{rec: rec, lru: l, ttl: ttl}
}

// Records are the Redis records behind the cache.
func (c *Cache) Records() *Records { return c.rec }

// Known reports whether url is in memory as stored.
func (c *Cache) Known(url string) bool {
	exp, ok := c.lru.Get(url)
	if ok && time.Now().After(exp) {
		c.lru.Remove(url)
		return false
	}
	return ok
}

// Lookup is what is known of job id's poster, to be stored at url: from
// memory, else from the Redis record and the index of made posters in one
// round trip (a record found is remembered).
func (c *Cache) Lookup(ctx context.Context, id, url string) (Known, error) {
	if c.Known(url) {
		return Made, nil
	}
	k, err := c.rec.Lookup(ctx, id, url)
	if k == Made {
		c.Remember(url)
	}
	return k, err
}

// Remember keeps url in memory as stored.
func (c *Cache) Remember(url string) { c.lru.Add(url, time.Now().Add(c.ttl)) }

// Forget drops url from memory.
func (c *Cache) Forget(url string) { c.lru.Remove(url) }

// Len is the number of URLs in memory.
func (c *Cache) Len() int { return c.lru.Len() }

// Listen subscribes to deletions announced by Records.Delete (in any
// process) and forgets each deleted URL, until ctx ends. The subscription
// is made before Listen returns; go-redis re-subscribes after a dropped
// connection (messages sent in between are lost, hence the TTL).
func (c *Cache) Listen(ctx context.Context, rdb redis.UniversalClient) {
	sub := rdb.Subscribe(ctx, c.rec.InvalidationChannel())
	go func() {
		defer sub.Close()
		ch := sub.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				c.Forget(m.Payload)
			}
		}
	}()
}
