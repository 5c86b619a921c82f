package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/wxposter/wxposter/storage"
)

// Store is a *storage.Store whose operations are timed. Methods it does not
// override pass through untimed.
type Store struct {
	*storage.Store
	m *Metrics
}

// Store wraps s so that its get, put, exists and ping calls are timed.
func (m *Metrics) Store(s *storage.Store) *Store { return &Store{Store: s, m: m} }

func (s *Store) observe(op string, start time.Time, err error) {
	r := result(err)
	if errors.Is(err, storage.ErrNotFound) {
		r = "not_found"
	}
	s.m.storageDuration.WithLabelValues(op, r).Observe(time.Since(start).Seconds())
}

// Get implements storage.Store.Get.
func (s *Store) Get(ctx context.Context, key string) (*storage.Object, error) {
	start := time.Now()
	o, err := s.Store.Get(ctx, key)
	s.observe("get", start, err)
	return o, err
}

// Put implements storage.Store.Put.
func (s *Store) Put(ctx context.Context, key string, data []byte, o storage.PutOptions) error {
	start := time.Now()
	err := s.Store.Put(ctx, key, data, o)
	s.observe("put", start, err)
	return err
}

// Exists implements storage.Store.Exists.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	start := time.Now()
	ok, err := s.Store.Exists(ctx, key)
	s.observe("exists", start, err)
	return ok, err
}

// Ping implements storage.Store.Ping.
func (s *Store) Ping(ctx context.Context) error {
	start := time.Now()
	err := s.Store.Ping(ctx)
	s.observe("ping", start, err)
	return err
}
