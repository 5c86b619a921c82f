package storage_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/storage"
)

func TestStoreRoundTripAndPublicRead(t *testing.T) {
	s := testenv.Store(t)
	ctx := context.Background()
	for _, key := range []string{"posters/a.jpg", "codes/wx1/abc", "private/x"} {
		if err := s.Put(ctx, key, []byte("data:"+key), storage.PutOptions{ContentType: "image/jpeg", CacheControl: storage.ImmutableCache}); err != nil {
			t.Fatal(err)
		}
	}
	obj, err := s.Get(ctx, "posters/a.jpg")
	if err != nil || string(obj.Data) != "data:posters/a.jpg" || obj.ContentType != "image/jpeg" {
		t.Fatalf("Get = %+v, %v", obj, err)
	}
	if _, err := s.Get(ctx, "posters/missing.jpg"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing object: %v, want ErrNotFound", err)
	}
	if ok, err := s.Exists(ctx, "posters/a.jpg"); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	if ok, err := s.Exists(ctx, "posters/missing.jpg"); ok || err != nil {
		t.Fatalf("Exists(missing) = %v, %v", ok, err)
	}
	// Anonymous reads: public prefixes only, and no listing.
	for url, want := range map[string]int{
		s.URL("posters/a.jpg"): http.StatusOK,
		s.URL("codes/wx1/abc"): http.StatusOK,
		s.URL("private/x"):     http.StatusForbidden,
		s.URL("?list-type=2"):  http.StatusForbidden,
	} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("anonymous GET %s = %d, want %d", url, resp.StatusCode, want)
		}
		if want == http.StatusOK && resp.Header.Get("Cache-Control") != storage.ImmutableCache {
			t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
		}
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPublicBaseURL(t *testing.T) {
	s := testenv.Store(t, storage.WithPublicBaseURL("https://cdn.example.com/p/"))
	if got := s.URL("posters/x.jpg"); got != "https://cdn.example.com/p/posters/x.jpg" {
		t.Fatal(got)
	}
}
