package finished

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/storage"
)

// countingObjects is the real store, counting existence checks; down makes
// them fail as a dead store's do.
type countingObjects struct {
	*storage.Store
	exists atomic.Int64
	down   atomic.Bool
}

func (c *countingObjects) Exists(ctx context.Context, key string) (bool, error) {
	c.exists.Add(1)
	if c.down.Load() {
		return false, errors.New("connection refused")
	}
	return c.Store.Exists(ctx, key)
}

func TestCheckerMade(t *testing.T) {
	ctx := context.Background()
	rec := newRecords(t)
	objs := &countingObjects{Store: testenv.Store(t)}
	chk := NewChecker(NewCache(rec, 0, 0), objs, nil)

	recorded, stored, missing := testenv.ID(16), testenv.ID(16), testenv.ID(16)
	key := func(id string) string { return "posters/" + id + ".jpg" }
	if err := rec.Add(ctx, recorded, objs.URL(key(recorded))); err != nil {
		t.Fatal(err)
	}
	if err := objs.Put(ctx, key(stored), []byte("jpeg"), storage.PutOptions{ContentType: "image/jpeg"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objs.Remove(context.Background(), key(stored)) })

	steps := []struct {
		name       string
		id         string
		down       bool
		want       bool
		wantExists int64
	}{
		{"recorded by a worker: no storage request", recorded, false, true, 0},
		{"recorded, storage down: still made", recorded, true, true, 0},
		{"missing: storage asked", missing, false, false, 1},
		{"missing, storage down: fails open", missing, true, false, 1},
		{"stored without a record: storage asked", stored, false, true, 1},
		{"then from memory", stored, true, true, 0},
	}
	for _, st := range steps {
		objs.exists.Store(0)
		objs.down.Store(st.down)
		if got := chk.Made(ctx, st.id, key(st.id)); got != st.want {
			t.Errorf("%s: Made = %v, want %v", st.name, got, st.want)
		}
		if n := objs.exists.Load(); n != st.wantExists {
			t.Errorf("%s: storage checks = %d, want %d", st.name, n, st.wantExists)
		}
	}
	// The store's "yes" was learned into Redis for other processes.
	if ok, err := has(ctx, rec, stored, objs.URL(key(stored))); err != nil || !ok {
		t.Errorf("record learned from storage = %v, %v; want true", ok, err)
	}
}
