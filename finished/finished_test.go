package finished

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/tasks"
)

func newRecords(t *testing.T, opts ...Option) *Records {
	rdb := testenv.Redis(t)
	prefix := "test-" + testenv.ID(6) + ":finished:"
	t.Cleanup(func() {
		ctx := context.Background()
		if keys, err := rdb.Keys(ctx, prefix+"*").Result(); err == nil {
			for _, k := range keys {
				rdb.Del(ctx, k)
			}
		}
	})
	return New(rdb, append([]Option{WithKeyPrefix(prefix)}, opts...)...)
}

// has reports whether l knows job id's poster to be stored at url.
func has(ctx context.Context, l interface {
	Lookup(context.Context, string, string) (Known, error)
}, id, url string) (bool, error) {
	k, err := l.Lookup(ctx, id, url)
	return k == Made, err
}

func TestRecords(t *testing.T) {
	ctx := context.Background()
	r := newRecords(t)
	id := testenv.ID(16)
	url := "http://127.0.0.1:9000/b/posters/" + id + ".jpg"
	steps := []struct {
		name string
		do   func() error
		want bool
	}{
		{"unknown", nil, false},
		{"added by a worker", func() error { return r.Add(ctx, id, url) }, true},
		{"deleted", func() error { return r.Delete(ctx, id, url) }, false},
		{"learned from the store after a delete: the tombstone wins", func() error { return r.Learn(ctx, id, url) }, false},
		{"made again by a worker", func() error { return r.Add(ctx, id, url) }, true},
	}
	for _, s := range steps {
		if s.do != nil {
			if err := s.do(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		if got, err := has(ctx, r, id, url); err != nil || got != s.want {
			t.Fatalf("%s: Has = %v, %v; want %v", s.name, got, err, s.want)
		}
	}
	// Only this store's URL counts.
	if ok, _ := has(ctx, r, id, "http://other:9000/b/posters/"+id+".jpg"); ok {
		t.Error("a record naming another store's URL counted")
	}
	// Learn records an unknown poster.
	other := testenv.ID(16)
	if err := r.Learn(ctx, other, url); err != nil {
		t.Fatal(err)
	}
	if ok, _ := has(ctx, r, other, url); !ok {
		t.Error("learned poster is not recorded")
	}
	if ttl := r.rdb.TTL(ctx, r.key(other)).Val(); ttl <= 0 || ttl > DefaultTTL {
		t.Errorf("learned record TTL = %v, want (0, %v]", ttl, DefaultTTL)
	}
}

// Start tells a worker whether to look in the store: only a run after
// another run began (or after a delete) must.
func TestStart(t *testing.T) {
	ctx := context.Background()
	r := newRecords(t)
	id := testenv.ID(16)
	url := "http://127.0.0.1:9000/b/posters/" + id + ".jpg"
	steps := []struct {
		name string
		do   func() error
		want Run
	}{
		{"first run", nil, RunFirst},
		{"delivered again", nil, RunAgain},
		{"made", func() error { return r.Add(ctx, id, url) }, RunMade},
		{"deleted", func() error { return r.Delete(ctx, id, url) }, RunAgain},
		{"made again", func() error { return r.Add(ctx, id, url) }, RunMade},
	}
	for _, s := range steps {
		if s.do != nil {
			if err := s.do(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		if got, err := r.Start(ctx, id, url); err != nil || got != s.want {
			t.Fatalf("%s: Start = %v, %v; want %v", s.name, got, err, s.want)
		}
	}
	// A started job is not made: the producer keeps asking the store, and
	// what the store says replaces the mark.
	other := testenv.ID(16)
	if _, err := r.Start(ctx, other, url); err != nil {
		t.Fatal(err)
	}
	if ok, _ := has(ctx, r, other, url); ok {
		t.Fatal("a started job counts as made")
	}
	if err := r.Learn(ctx, other, url); err != nil {
		t.Fatal(err)
	}
	if ok, _ := has(ctx, r, other, url); !ok {
		t.Error("what the store said did not replace the started mark")
	}
	// Redis down: look in the store.
	dead := New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}))
	if got, err := dead.Start(ctx, other, url); got != RunAgain || err == nil {
		t.Errorf("Start with Redis down = %v, %v; want RunAgain and an error", got, err)
	}
}

// The default key is the one workers write (tasks.FinishedKey).
func TestRecordKeyIsTheWorkersKey(t *testing.T) {
	if got, want := New(nil).key("abc"), tasks.FinishedKey("abc"); got != want {
		t.Errorf("key = %q, want %q", got, want)
	}
}

func TestCacheForgetsDeletedPostersEverywhere(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newRecords(t)
	a, b := NewCache(r, 4, time.Minute), NewCache(New(r.rdb, WithKeyPrefix(r.prefix)), 4, time.Minute)
	b.Listen(ctx, testenv.Redis(t))
	id := testenv.ID(16)
	url := "http://127.0.0.1:9000/b/posters/" + id + ".jpg"
	if ok, _ := has(ctx, b, id, url); ok {
		t.Fatal("unknown poster is known")
	}
	if err := r.Add(ctx, id, url); err != nil {
		t.Fatal(err)
	}
	if ok, err := has(ctx, b, id, url); !ok || err != nil {
		t.Fatalf("Has after Add = %v, %v", ok, err)
	}
	if !b.Known(url) {
		t.Fatal("a hit from Redis is not remembered")
	}
	if err := a.Records().Delete(ctx, id, url); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.Known(url) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if b.Known(url) {
		t.Fatal("the other process's cache still knows a deleted poster")
	}
	if ok, _ := has(ctx, b, id, url); ok {
		t.Error("deleted poster answered from Redis")
	}
}

func TestCacheIsBoundedAndExpires(t *testing.T) {
	c := NewCache(newRecords(t), 3, 50*time.Millisecond)
	for _, u := range []string{"u1", "u2", "u3", "u4"} {
		c.Remember(u)
	}
	if c.Len() != 3 || c.Known("u1") {
		t.Errorf("len %d, u1 known %v: want 3 entries, the oldest evicted", c.Len(), c.Known("u1"))
	}
	time.Sleep(60 * time.Millisecond)
	if c.Known("u4") {
		t.Error("entry outlived its TTL")
	}
}
