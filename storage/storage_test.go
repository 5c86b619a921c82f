package storage_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/storage"
)

// Every storage path runs on MinIO and on versitygw, in every checksum mode.
func TestStoreRoundTripAndPublicRead(t *testing.T) {
	for _, b := range testenv.Backends() {
		for _, mode := range []string{storage.ChecksumAuto, storage.ChecksumMD5, storage.ChecksumCRC32C} {
			t.Run(b.Name+"/"+mode, func(t *testing.T) {
				s := testenv.StoreOn(t, b, func(c *storage.Config) { c.Checksum = mode })
				roundTrip(t, s)
			})
		}
	}
}

func roundTrip(t *testing.T, s *storage.Store) {
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

// With ExternalBucket, New only checks the bucket: a missing one is an
// error, and an existing one keeps its policy untouched.
func TestExternalBucket(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			cfg := storage.Config{Endpoint: b.Endpoint, AccessKey: b.AccessKey, SecretKey: b.SecretKey,
				Bucket: "wxtest-" + testenv.ID(8), ExternalBucket: true}
			if _, err := storage.New(ctx, cfg); err == nil || !strings.Contains(err.Error(), "does not exist") {
				t.Fatalf("missing external bucket: err = %v", err)
			}
			managed := testenv.StoreOn(t, b, nil)
			cfg.Bucket = managed.Bucket()
			s, err := storage.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, "posters/e.jpg", []byte("x"), storage.PutOptions{ContentType: "image/jpeg"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBucketLookup(t *testing.T) {
	for _, v := range []string{"", "auto", "path", "dns"} {
		if _, err := storage.BucketLookup(v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	if _, err := storage.BucketLookup("virtual"); err == nil {
		t.Error("virtual: no error")
	}
	ctx := context.Background()
	_, err := storage.New(ctx, storage.Config{Endpoint: "127.0.0.1:1", Bucket: "b-x", Checksum: "sha1"})
	if err == nil || !strings.Contains(err.Error(), "must be auto, md5 or crc32c") {
		t.Errorf("checksum sha1: %v", err)
	}
}

// Path-style buckets on a path-style server keep working when addressed
// explicitly with path lookup and a region.
func TestPathLookupWithRegion(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := testenv.StoreOn(t, b, func(c *storage.Config) { c.BucketLookup, c.Region = "path", "us-east-1" })
			ctx := context.Background()
			if err := s.Put(ctx, "posters/r.jpg", []byte("r"), storage.PutOptions{ContentType: "image/jpeg"}); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.Exists(ctx, "posters/r.jpg"); !ok || err != nil {
				t.Fatalf("Exists = %v, %v", ok, err)
			}
		})
	}
}
