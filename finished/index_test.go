package finished

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/storage"
	"github.com/wxposter/wxposter/tasks"
)

// The index of made posters, on real Redis and a real bucket: its "never
// made" is given only once it was built from the bucket's listing, every
// poster started since is in it, and a lost index falls back to the store
// until a worker builds it again.
func TestIndexOfMadePosters(t *testing.T) {
	ctx := context.Background()
	store := testenv.Store(t)
	r := newRecords(t, WithIndex(1<<16, store.URL("")))
	made := []string{testenv.ID(16), testenv.ID(16), testenv.ID(16)}
	for _, id := range made {
		if err := store.Put(ctx, tasks.PosterKey(id, "jpg"), []byte("jpeg"), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	lookup := func(id string) Known {
		t.Helper()
		k, err := r.Lookup(ctx, id, store.URL(tasks.PosterKey(id, "jpg")))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	fresh := testenv.ID(16)
	if k := lookup(fresh); k != Unknown {
		t.Fatalf("before the index is built: %v, want Unknown", k)
	}
	n, err := r.BuildIndex(ctx, store)
	if err != nil || n != len(made) {
		t.Fatalf("BuildIndex = %d, %v; want %d", n, err, len(made))
	}
	if ok, _ := r.IndexComplete(ctx); !ok {
		t.Fatal("index not complete after the build")
	}
	for _, id := range made {
		if k := lookup(id); k != Unknown {
			t.Errorf("stored poster %s: %v, want Unknown (ask the store)", id, k)
		}
	}
	if k := lookup(fresh); k != NeverMade {
		t.Fatalf("new poster: %v, want NeverMade", k)
	}
	if never, err := r.NeverMade(ctx, fresh); !never || err != nil {
		t.Fatalf("NeverMade(new poster) = %v, %v", never, err)
	}
	if never, _ := r.NeverMade(ctx, made[1]); never {
		t.Fatal("NeverMade(a stored poster) = true")
	}
	// A worker's Start puts the poster in the index before its upload.
	if _, err := r.Start(ctx, fresh, store.URL(tasks.PosterKey(fresh, "jpg"))); err != nil {
		t.Fatal(err)
	}
	if k := lookup(fresh); k != Unknown {
		t.Fatalf("started poster: %v, want Unknown", k)
	}
	// A record is Made whatever the index says.
	if err := r.Add(ctx, made[0], store.URL(tasks.PosterKey(made[0], "jpg"))); err != nil {
		t.Fatal(err)
	}
	if k := lookup(made[0]); k != Made {
		t.Fatalf("recorded poster: %v, want Made", k)
	}
	// Lost with Redis: no "never made" until a worker builds it again.
	if err := r.rdb.Del(ctx, r.IndexKey()).Err(); err != nil {
		t.Fatal(err)
	}
	other := testenv.ID(16)
	if k := lookup(other); k != Unknown {
		t.Fatalf("index lost: %v, want Unknown", k)
	}
	kctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		r.KeepIndex(kctx, store, 20*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	for end := time.Now().Add(10 * time.Second); lookup(other) != NeverMade; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("KeepIndex did not rebuild the index")
		}
	}
	cancel()
	<-done
	for _, id := range made[1:] {
		if k := lookup(id); k != Unknown {
			t.Errorf("stored poster %s after the rebuild: %v, want Unknown", id, k)
		}
	}
	// Another store on the same Redis has its own index.
	if New(r.rdb, WithKeyPrefix(r.prefix), WithIndex(1<<16, "http://other/b/")).IndexKey() == r.IndexKey() {
		t.Error("two stores share an index")
	}
}
