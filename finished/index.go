package finished

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"
)

// The index of made posters is a Bloom filter in one Redis string: seven
// bits per poster, set by the worker before it uploads (Records.Start).
// Its "no" proves a poster was never stored, so a request for a new poster
// is enqueued without asking the object store whether it exists; its
// "maybe" (a made poster, a false positive, a deleted one) is settled by
// the store as before.
//
// A "no" is only a proof once the filter holds every stored poster: its
// first byte is a header that says so, written by Records.BuildIndex after
// listing the bucket's posters. Until then (a first start on a bucket that
// has posters, or the key lost with Redis) every miss asks the store, and
// a worker builds the index in the background (Records.KeepIndex). Being
// one key, the filter and its header are lost together.

// DefaultIndexBits is the filter's size: 2^27 bits, 16 MiB of Redis. With 7
// bits per poster, 10 million posters give a false "maybe" for about 0.2 %
// of new ones, 20 million for 5 % (each costs a store lookup, as without
// the index).
const DefaultIndexBits = 1 << 27

const (
	indexHashes     = 7
	indexHeaderBits = 8    // the header byte, before the filter's bits
	indexComplete   = 0xa5 // the header of a filter that holds every stored poster
)

// WithIndex keeps an index of made posters of bits bits (DefaultIndexBits
// is a good size) for the store whose URLs start with base: deployments
// sharing a Redis with their own buckets have their own indexes. Without
// it (or with 0 bits) every miss asks the store.
func WithIndex(bits uint64, base string) Option {
	return func(r *Records) {
		sum := sha256.Sum256([]byte(base))
		r.indexBits, r.indexScope = bits, hex.EncodeToString(sum[:8])
	}
}

// IndexKey is the Redis key that holds the index (one string; the hash tag
// keeps it in one Cluster slot), "" without one.
func (r *Records) IndexKey() string {
	if r.indexBits == 0 {
		return ""
	}
	return r.indexKey()
}

func (r *Records) indexKey() string { return r.prefix + "{index}:" + r.indexScope }

// positions are the filter bits of job id (double hashing of its SHA-256).
func (r *Records) positions(id string) [indexHashes]uint64 {
	sum := sha256.Sum256([]byte(id))
	h1, h2 := binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16])|1
	var p [indexHashes]uint64
	for i := range p {
		p[i] = indexHeaderBits + (h1+uint64(i)*h2)%r.indexBits
	}
	return p
}

// indexArgs are BITFIELD arguments that set (or read) id's bits.
func (r *Records) indexArgs(id string, set bool) []any {
	args := make([]any, 0, 4*indexHashes)
	for _, p := range r.positions(id) {
		if set {
			args = append(args, "SET", "u1", p, 1)
		} else {
			args = append(args, "GET", "u1", p)
		}
	}
	return args
}

// Lookup is what the record and the index say about job id's poster, to
// be stored at url, in one round trip.
func (r *Records) Lookup(ctx context.Context, id, url string) (Known, error) {
	var get *redis.StringCmd
	var bits *redis.IntSliceCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, r.key(id))
		if r.indexBits > 0 {
			bits = p.BitField(ctx, r.indexKey(), append([]any{"GET", "u8", 0}, r.indexArgs(id, false)...)...)
		}
		return nil
	})
	if v, gerr := get.Result(); gerr == nil && v == url {
		return Made, nil
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return Unknown, fmt.Errorf("finished: look up %s: %w", id, err)
	}
	if bits == nil {
		return Unknown, nil
	}
	if neverMade(bits.Val()) {
		return NeverMade, nil
	}
	return Unknown, nil
}

// NeverMade reports whether the complete index proves that job id's poster
// was never stored (in any format: the bits are the job's). false means
// "not known".
func (r *Records) NeverMade(ctx context.Context, id string) (bool, error) {
	if r.indexBits == 0 {
		return false, nil
	}
	v, err := r.rdb.BitField(ctx, r.indexKey(), append([]any{"GET", "u8", 0}, r.indexArgs(id, false)...)...).Result()
	if err != nil {
		return false, fmt.Errorf("finished: index of %s: %w", id, err)
	}
	return neverMade(v), nil
}

// neverMade reads a BITFIELD answer: the header, then the poster's bits.
func neverMade(v []int64) bool {
	if len(v) != 1+indexHashes || v[0] != indexComplete {
		return false
	}
	for _, b := range v[1:] {
		if b == 0 {
			return true
		}
	}
	return false
}

// IndexComplete reports whether the index holds every stored poster.
func (r *Records) IndexComplete(ctx context.Context) (bool, error) {
	if r.indexBits == 0 {
		return false, nil
	}
	v, err := r.rdb.BitField(ctx, r.indexKey(), "GET", "u8", 0).Result()
	if err != nil {
		return false, fmt.Errorf("finished: index header: %w", err)
	}
	return len(v) == 1 && v[0] == indexComplete, nil
}

// Lister lists the keys of the stored objects under a prefix.
type Lister interface {
	Keys(ctx context.Context, prefix string) iter.Seq2[string, error]
}

// BuildIndex adds every poster in the store to the index and then marks it
// complete; it returns the posters it listed. Posters uploaded meanwhile
// need no care: their workers set their bits before uploading.
func (r *Records) BuildIndex(ctx context.Context, store Lister) (int, error) {
	if r.indexBits == 0 {
		return 0, errors.New("finished: the index is off")
	}
	const batch = 500
	n := 0
	pipe := r.rdb.Pipeline()
	flush := func() error {
		if pipe.Len() == 0 {
			return nil
		}
		_, err := pipe.Exec(ctx)
		return err
	}
	for key, err := range store.Keys(ctx, "posters/") {
		if err != nil {
			return n, fmt.Errorf("finished: list posters: %w", err)
		}
		id, _, ok := strings.Cut(path.Base(key), ".")
		if !ok || id == "" {
			continue
		}
		pipe.BitField(ctx, r.indexKey(), r.indexArgs(id, true)...)
		if n++; n%batch == 0 {
			if err := flush(); err != nil {
				return n, fmt.Errorf("finished: index posters: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return n, fmt.Errorf("finished: index posters: %w", err)
	}
	if err := r.rdb.BitField(ctx, r.indexKey(), "SET", "u8", 0, indexComplete).Err(); err != nil {
		return n, fmt.Errorf("finished: mark the index complete: %w", err)
	}
	return n, nil
}

// KeepIndex builds the index whenever it is not complete (the first start
// on a bucket, or the key lost with Redis): now, then checking every
// interval, until ctx ends. A Redis lock keeps the other processes from
// doing the same listing at the same time (two builds would only add the
// same bits).
func (r *Records) KeepIndex(ctx context.Context, store Lister, every time.Duration, log *slog.Logger) {
	if r.indexBits == 0 {
		return
	}
	for {
		if done, err := r.IndexComplete(ctx); err == nil && !done {
			r.buildOnce(ctx, store, log)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func (r *Records) buildOnce(ctx context.Context, store Lister, log *slog.Logger) {
	lock, err := redislock.Obtain(ctx, r.rdb, r.indexKey()+":build", 10*time.Minute, nil)
	if err != nil {
		return // another process builds it (or Redis is away: next time)
	}
	defer lock.Release(context.WithoutCancel(ctx))
	start := time.Now()
	log.InfoContext(ctx, "building the index of made posters from the store's listing")
	n, err := r.BuildIndex(ctx, store)
	if err != nil {
		log.WarnContext(ctx, "could not build the index of made posters; new posters are looked up in the store meanwhile",
			"listed", n, "err", err)
		return
	}
	log.InfoContext(ctx, "index of made posters complete", "posters", n, "took", time.Since(start).Round(time.Millisecond))
}
