package scene

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/internal/testenv"
)

// newTestStore is a Store on the test Redis under a prefix of its own,
// whose keys are deleted after the test.
func newTestStore(tb testing.TB) (*Store, *redis.Client, string) {
	tb.Helper()
	rdb := testenv.Redis(tb)
	prefix := "wxtest:scene:" + testenv.ID(4) + ":"
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		for len(keys) > 0 {
			n := min(len(keys), 1000)
			rdb.Del(ctx, keys[:n]...)
			keys = keys[n:]
		}
	})
	return NewStore(rdb, WithKeyPrefix(prefix)), rdb, prefix
}

func TestStoreRoundTrip(t *testing.T) {
	s, rdb, prefix := newTestStore(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		params map[string]string
		inline bool
	}{
		{"inline", map[string]string{"id": "42", "from": "u7"}, true},
		{"exactly 32 inline", map[string]string{"a": strings.Repeat("x", 30)}, true},
		{"33 stored", map[string]string{"a": strings.Repeat("x", 31)}, false},
		{"unicode stored", map[string]string{"name": "小明", "id": "7"}, false},
		{"empty value stored", map[string]string{"id": ""}, false},
		{"colon stored", map[string]string{"t": "12:30"}, false},
		{"semicolon stored", map[string]string{"t": "a;b"}, false},
		{"tilde stored", map[string]string{"t": "~x"}, false},
		{"tilde key stored", map[string]string{"~t": "x"}, false},
		{"html stored", map[string]string{"q": "<a href='x'>&amp;</a>"}, false},
		{"limits", limitParams(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := s.Scene(ctx, tt.params)
			if err != nil {
				t.Fatalf("Scene: %v", err)
			}
			if !Valid(sc) || IsRef(sc) == tt.inline {
				t.Fatalf("scene %q: valid %v, ref %v; want inline %v", sc, Valid(sc), IsRef(sc), tt.inline)
			}
			if tt.inline {
				if n, _ := rdb.Exists(ctx, prefix+sc).Result(); n != 0 {
					t.Error("inline scene was stored")
				}
			} else if ttl := rdb.TTL(ctx, prefix+sc[1:]).Val(); ttl != -1 {
				t.Errorf("stored params have TTL %v, want none", ttl)
			}
			got, err := s.Resolve(ctx, sc)
			if err != nil || !maps.Equal(got, tt.params) {
				t.Fatalf("Resolve(%q) = %v, %v; want %v", sc, got, err, tt.params)
			}
			again, err := s.Scene(ctx, maps.Clone(tt.params))
			if err != nil || again != sc {
				t.Fatalf("second Scene = %q, %v; want %q", again, err, sc)
			}
		})
	}
}

// limitParams is as large as the limits allow: 32 keys, one 64-character
// key, one 512-character value, 4096 bytes in all.
func limitParams() map[string]string {
	p := map[string]string{strings.Repeat("k", MaxKeyLen): strings.Repeat("v", MaxValueLen)}
	for i := range MaxParams - 1 {
		p[fmt.Sprintf("k%02d", i)] = strings.Repeat("x", 100)
	}
	total := 0
	for k, v := range p {
		total += len(k) + len(v)
	}
	p["k00"] += strings.Repeat("y", MaxParamsBytes-total)
	return p
}

func TestStoreDeterministic(t *testing.T) {
	s1, _, prefix := newTestStore(t)
	s2 := NewStore(testenv.Redis(t), WithKeyPrefix(prefix))
	ctx := context.Background()
	p := map[string]string{"poster": "summer-2025", "from": "u1234567", "ch": "moments"}
	a, err := s1.Scene(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s2.Scene(ctx, map[string]string{"ch": "moments", "from": "u1234567", "poster": "summer-2025"})
	if err != nil || a != b {
		t.Fatalf("same params, scenes %q and %q (%v)", a, b, err)
	}
	if len(a) != len(RefPrefix)+idLen {
		t.Errorf("reference %q is not %d characters", a, len(RefPrefix)+idLen)
	}
	c, err := s1.Scene(ctx, map[string]string{"poster": "summer-2025", "from": "u1234568", "ch": "moments"})
	if err != nil || c == a {
		t.Fatalf("different params share scene %q (%v)", c, err)
	}
	// Another prefix (another deployment) derives the same reference.
	other, _, _ := newTestStore(t)
	if d, err := other.Scene(ctx, p); err != nil || d != a {
		t.Errorf("other store: %q, %v; want %q", d, err, a)
	}
}

func TestStoreConcurrent(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	p := map[string]string{"title": "周末一起去爬山", "id": "42"}
	var wg sync.WaitGroup
	scenes := make([]string, 16)
	errs := make([]error, len(scenes))
	for i := range scenes {
		wg.Go(func() { scenes[i], errs[i] = s.Scene(ctx, p) })
	}
	wg.Wait()
	for i := range scenes {
		if errs[i] != nil || scenes[i] != scenes[0] {
			t.Fatalf("call %d: %q, %v; want %q", i, scenes[i], errs[i], scenes[0])
		}
	}
	if got, err := s.Resolve(ctx, scenes[0]); err != nil || !maps.Equal(got, p) {
		t.Fatalf("Resolve = %v, %v", got, err)
	}
}

func TestStoreLimits(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	tooMany := map[string]string{}
	for i := range MaxParams + 1 {
		tooMany[fmt.Sprint("k", i)] = "v"
	}
	over := limitParams()
	over["k01"] += "z"
	tests := []struct {
		name   string
		params map[string]string
		limit  string
	}{
		{"nil", nil, "at least one key"},
		{"empty", map[string]string{}, "at least one key"},
		{"33 keys", tooMany, "at most 32 keys"},
		{"empty key", map[string]string{"": "x"}, "1-64 characters"},
		{"65-character key", map[string]string{strings.Repeat("k", 65): "x"}, "1-64 characters"},
		{"513-character value", map[string]string{"k": strings.Repeat("v", 513)}, "512 characters"},
		{"4097 bytes", over, "4096 bytes"},
		{"invalid UTF-8 value", map[string]string{"k": "a\xffb"}, "UTF-8"},
		{"invalid UTF-8 key", map[string]string{"k\xfe": "v"}, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := s.Scene(ctx, tt.params)
			if !errors.Is(err, ErrInvalidParams) || sc != "" || !strings.Contains(err.Error(), tt.limit) {
				t.Fatalf("Scene = %q, %v; want ErrInvalidParams naming %q", sc, err, tt.limit)
			}
		})
	}
	// Characters, not bytes, count towards the key and value limits.
	wide := map[string]string{strings.Repeat("键", MaxKeyLen): strings.Repeat("值", 400)}
	if _, err := s.Scene(ctx, wide); err != nil {
		t.Errorf("64-character key and 400-character value: %v", err)
	}
}

func TestResolve(t *testing.T) {
	s, rdb, prefix := newTestStore(t)
	ctx := context.Background()
	stored, err := s.Scene(ctx, map[string]string{"name": "小明"})
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, prefix+"corruptcorrupt00", "not json", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, prefix+"nullnullnullnull", "null", 0).Err(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		scene string
		want  map[string]string
		err   error
	}{
		{"id:42;from:u7", map[string]string{"id": "42", "from": "u7"}, nil},
		{stored, map[string]string{"name": "小明"}, nil},
		{"~0000000000000000", nil, ErrNotFound},
		{"~short", nil, ErrNotFound},
		{"~" + strings.Repeat("a", 17), nil, ErrNotFound},
		{"~abc!def(ghi)jkl", nil, ErrNotFound},
		{"~", nil, ErrNotFound},
		{"42", nil, ErrNotParams},
		{"id=42&from=u7", nil, ErrNotParams},
		{"", nil, ErrNotParams},
		{"~abc%def", nil, ErrNotParams},
		{strings.Repeat("a", 33), nil, ErrNotParams},
		{"name:小明", nil, ErrNotParams},
	}
	for _, tt := range tests {
		got, err := s.Resolve(ctx, tt.scene)
		if tt.err != nil {
			if !errors.Is(err, tt.err) || got != nil {
				t.Errorf("Resolve(%q) = %v, %v; want %v", tt.scene, got, err, tt.err)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tt.want) {
			t.Errorf("Resolve(%q) = %v, %v; want %v", tt.scene, got, err, tt.want)
		}
	}
	for _, sc := range []string{"~corruptcorrupt00", "~nullnullnullnull"} {
		if got, err := s.Resolve(ctx, sc); err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotParams) {
			t.Errorf("Resolve(%q) = %v, %v; want a corruption error", sc, got, err)
		}
	}
}

func TestStoreCollisionDetected(t *testing.T) {
	s, rdb, prefix := newTestStore(t)
	ctx := context.Background()
	p := map[string]string{"name": "小红"}
	sc, err := s.Scene(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	// Pretend other params got there first under the same id.
	if err := rdb.Set(ctx, prefix+sc[1:], `{"name":"someone else"}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Scene(ctx, p); err == nil {
		t.Fatalf("Scene = %q over other params, want an error", got)
	}
}

func TestStoreRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	s := NewStore(rdb)
	ctx := context.Background()
	if sc, err := s.Scene(ctx, map[string]string{"id": "1"}); err != nil || sc != "id:1" {
		t.Errorf("inline Scene needs no Redis: %q, %v", sc, err)
	}
	if _, err := s.Scene(ctx, map[string]string{"name": "小明"}); err == nil || errors.Is(err, ErrInvalidParams) {
		t.Errorf("stored Scene with Redis down: %v", err)
	}
	if _, err := s.Resolve(ctx, "~0000000000000000"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Resolve with Redis down: %v, want a Redis error, not ErrNotFound", err)
	}
}

func TestRefID(t *testing.T) {
	a, b := refID([]byte(`{"a":"1"}`)), refID([]byte(`{"a":"2"}`))
	if !isRefID(a) || !isRefID(b) || a == b || a != refID([]byte(`{"a":"1"}`)) {
		t.Errorf("refID: %q, %q", a, b)
	}
}
