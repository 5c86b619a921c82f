// Package finished reads and keeps the record of finished posters, so that
// a request for a poster already made is answered without asking the
// object store.
//
// The record is tasks.FinishedKey(job id) holding the poster's URL, which
// workers set after each upload (worker.markFinished). Only the URL of this
// store's poster counts, so another deployment or a replaced bucket on the
// same Redis is never taken for this one. The producer reads the record
// through a small in-process Cache before enqueueing; every operation
// touches one key (Redis Cluster safe). The record may be missing (expired,
// lost with Redis): then the store is asked and its "yes" learned again. It
// must never outlive the object: deletions go through Records.Delete, which
// leaves a tombstone and tells every producer's cache. Until the poster is
// made the key may hold a "started" mark (Records.Start), so that a worker
// looks in the store only when a job runs a second time.
package finished

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// valueDeleted is a tombstone: the poster was deleted a moment ago, so a
// request that saw the object just before cannot record it again.
const valueDeleted = "deleted"

// valueStarted marks a job that a worker began and has not recorded as
// made: a later run of it must look in the store, since the earlier one
// may have uploaded the poster and died before recording it.
const valueStarted = "started"

// DefaultTTL is how long a learned record lives (the workers' records live
// WXPOSTER_JOB_RETENTION, 24 h by default, like the job's own status).
const DefaultTTL = 24 * time.Hour

// tombstoneTTL outlives any request that may have seen the object before
// it was deleted.
const tombstoneTTL = 2 * time.Minute

// Records is the Redis record of finished posters.
type Records struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration

	indexScope string // the store the index of made posters is of (index.go)
	indexBits  uint64 // its size; 0: no index
}

// Option configures Records.
type Option func(*Records)

// WithTTL sets how long a record learned from the store lives (default
// DefaultTTL).
func WithTTL(d time.Duration) Option { return func(r *Records) { r.ttl = d } }

// WithKeyPrefix sets the Redis key prefix (default "wxposter:finished:",
// which makes tasks.FinishedKey; tests use their own).
func WithKeyPrefix(p string) Option { return func(r *Records) { r.prefix = p } }

// New returns the records kept in rdb.
func New(rdb redis.UniversalClient, opts ...Option) *Records {
	r := &Records{rdb: rdb, prefix: "wxposter:finished:", ttl: DefaultTTL}
	for _, o := range opts {
		o(r)
	}
	return r
}

func (r *Records) key(id string) string { return r.prefix + id }

// Indexed reports whether the records keep an index of made posters.
func (r *Records) Indexed() bool { return r.indexBits > 0 }

// InvalidationChannel is where Delete announces deleted URLs, so that every
// producer drops them from its in-process cache at once.
func (r *Records) InvalidationChannel() string { return r.prefix + "invalidated" }

// Add records that job id's poster is stored at url (what workers do
// after the upload); it replaces a tombstone (the poster was made again).
func (r *Records) Add(ctx context.Context, id, url string) error {
	if err := r.rdb.Set(ctx, r.key(id), url, r.ttl).Err(); err != nil {
		return fmt.Errorf("finished: add %s: %w", id, err)
	}
	return nil
}

// learnScript sets KEYS[1] to ARGV[1] for ARGV[2] ms unless it holds a
// record or a tombstone (a "started" mark gives way: the poster is there).
var learnScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 0`)

// Learn records what the store said about job id's poster (the producer's
// fallback), unless there is a record already, a tombstone included.
func (r *Records) Learn(ctx context.Context, id, url string) error {
	err := learnScript.Run(ctx, r.rdb, []string{r.key(id)}, url, r.ttl.Milliseconds(), valueStarted).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("finished: learn %s: %w", id, err)
	}
	return nil
}

// Run is what Start found about a job a worker is about to run.
type Run int

const (
	// RunAgain: the job was started before, or its record could not be
	// read: the poster may be stored without a record, so look.
	RunAgain Run = iota
	// RunFirst: no run of the job started before (within the record TTL)
	// and it is not recorded as made: there is nothing to look for.
	RunFirst
	// RunMade: the poster is recorded as made at the URL given to Start.
	RunMade
)

// Start is called by a worker before it makes job id's poster, to be
// stored at url. In one round trip it reads the record, marks the job
// started, so that only a run that follows another (asynq delivered the
// job again, or it is retried) pays for a look in the store (a first run
// of a job the producer found missing goes straight to rendering), and
// adds the poster to the index of made posters, before it is uploaded.
// With an index, an error means the poster must not be uploaded yet: the
// index would miss it.
func (r *Records) Start(ctx context.Context, id, url string) (Run, error) {
	var get *redis.StringCmd
	var mark *redis.BoolCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, r.key(id))
		mark = p.SetNX(ctx, r.key(id), valueStarted, r.ttl)
		if r.indexBits > 0 {
			p.BitField(ctx, r.indexKey(), r.indexArgs(id, true)...)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return RunAgain, fmt.Errorf("finished: start %s: %w", id, err)
	}
	v, gerr := get.Result()
	switch {
	case gerr == nil && v == url:
		return RunMade, nil
	case errors.Is(gerr, redis.Nil) && mark.Val():
		return RunFirst, nil
	}
	return RunAgain, nil
}

// Known is what Lookup found out about a poster.
type Known int

const (
	// Unknown: no record, and the index (if any) cannot tell: ask the store.
	Unknown Known = iota
	// Made: recorded as stored at the URL asked about.
	Made
	// NeverMade: the complete index has no trace of it: it is not stored.
	NeverMade
)

// Delete replaces the record of job id by a tombstone and tells every
// producer to forget url. Call it after the object is removed.
func (r *Records) Delete(ctx context.Context, id, url string) error {
	if err := r.rdb.Set(ctx, r.key(id), valueDeleted, tombstoneTTL).Err(); err != nil {
		return fmt.Errorf("finished: delete %s: %w", id, err)
	}
	if err := r.rdb.Publish(ctx, r.InvalidationChannel(), url).Err(); err != nil {
		return fmt.Errorf("finished: announce deletion of %s: %w", id, err)
	}
	return nil
}
