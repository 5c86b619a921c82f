package templates

import (
	"context"
	"testing"
	"time"

	"github.com/wxposter/wxposter/internal/testenv"
)

func TestKeyPrefixGetsAHashTag(t *testing.T) {
	for p, want := range map[string]string{
		"a:":             "a:{tpl}:",
		"a:{x}:":         "a:{x}:",
		"a:{}:":          "a:{}:{tpl}:", // an empty tag hashes the whole key
		DefaultKeyPrefix: DefaultKeyPrefix,
	} {
		if got := NewStore(nil, WithKeyPrefix(p)).prefix; got != want {
			t.Errorf("WithKeyPrefix(%q) = %q, want %q", p, got, want)
		}
	}
}

// Templates stored under the old untagged keys survive the upgrade, TTLs
// included; a second run moves nothing. It uses the real default prefix, so
// runs on prefixes of its own (the shared Redis may hold real legacy keys).
func TestMigrateLegacyKeys(t *testing.T) {
	rdb := testenv.Redis(t)
	ctx := context.Background()
	name := "mig" + testenv.ID(4)
	id := testenv.ID(4)
	legacy := &Store{rdb: rdb, prefix: "wxtest:legacy:" + id + ":", versionTTL: time.Hour, cache: newCache(0), now: time.Now}
	if _, _, err := legacy.Put(ctx, name, testPalette("old")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := legacy.Put(ctx, name, testPalette("older")); err != nil { // v1 now expires
		t.Fatal(err)
	}
	s := NewStore(rdb, WithCacheSize(0), WithKeyPrefix("wxtest:{template-"+id+"}:"))
	s.legacyPrefix = legacy.prefix
	t.Cleanup(func() {
		rdb.Del(context.Background(), s.headKey(name), s.versionKey(name, 1), s.versionKey(name, 2),
			legacy.headKey(name), legacy.versionKey(name, 1), legacy.versionKey(name, 2))
		rdb.SRem(context.Background(), s.indexKey(), name)
		rdb.SRem(context.Background(), legacy.indexKey(), name)
	})
	n, err := s.MigrateLegacyKeys(ctx)
	if err != nil || n < 3 {
		t.Fatalf("migrate = %d, %v; want at least head, index and two versions moved", n, err)
	}
	got, err := s.Get(ctx, name)
	if err != nil || got.Version != 2 {
		t.Fatalf("after migration: %+v, %v", got, err)
	}
	if _, err := s.GetVersion(ctx, name, 1); err != nil {
		t.Fatalf("superseded version lost: %v", err)
	}
	if ttl := rdb.TTL(ctx, s.versionKey(name, 1)).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("ttl of the moved old version = %v", ttl)
	}
	if n, err := s.MigrateLegacyKeys(ctx); n != 0 || err != nil {
		t.Errorf("second migration = %d, %v; want nothing", n, err)
	}
}
