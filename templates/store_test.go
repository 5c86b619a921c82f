package templates

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/poster/palette"
)

// newTestStore is a Store on the test Redis under a prefix of its own,
// whose keys are deleted after the test.
func newTestStore(tb testing.TB, opts ...Option) (*Store, *redis.Client, string) {
	tb.Helper()
	rdb := testenv.Redis(tb)
	prefix := "wxtest:template:{" + testenv.ID(4) + "}:" // one slot, as Cluster needs
	tb.Cleanup(func() { purge(tb, rdb, prefix) })
	return NewStore(rdb, append([]Option{WithKeyPrefix(prefix)}, opts...)...), rdb, prefix
}

func purge(tb testing.TB, rdb *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err == nil && len(keys) > 0 {
		err = rdb.Del(ctx, keys...).Err()
	}
	if err != nil {
		tb.Logf("purge %s: %v", prefix, err)
	}
}

// testPalette is a small valid palette whose title reads title.
func testPalette(title string) []byte {
	return []byte(`{
  "width": "750rpx", "height": "1000rpx", "background": "#ffffff",
  "views": [
    {"type": "image", "url": "{{avatar}}", "css": {"top": "40rpx", "left": "40rpx", "width": "96rpx", "height": "96rpx", "borderRadius": "50%"}},
    {"type": "text", "text": "` + title + `", "css": {"top": "160rpx", "left": "40rpx", "fontSize": "32rpx", "color": "#333333"}},
    {"type": "text", "text": "{{nickname}} 邀请你", "css": {"top": "220rpx", "left": "40rpx", "fontSize": "28rpx"}},
    {"type": "wxacode", "css": {"bottom": "40rpx", "right": "40rpx", "width": "200rpx", "height": "200rpx"}}
  ]
}`)
}

func TestPutVersions(t *testing.T) {
	s, rdb, prefix := newTestStore(t)
	ctx := context.Background()

	v1, change, err := s.Put(ctx, "invite", testPalette("{{title}}"))
	if err != nil || change != Created || v1.Version != 1 {
		t.Fatalf("first put = %+v %v %v, want version 1 created", v1, change, err)
	}
	if want := []string{"avatar", "nickname", "title"}; !slices.Equal(v1.Variables, want) {
		t.Errorf("variables = %v, want %v", v1.Variables, want)
	}
	if want := []string{"avatar"}; !slices.Equal(v1.ImageVariables, want) {
		t.Errorf("image variables = %v, want %v", v1.ImageVariables, want)
	}

	// Whitespace is not content: no new version.
	reformatted := strings.ReplaceAll(string(testPalette("{{title}}")), "\n  ", "\n\t\t")
	same, change, err := s.Put(ctx, "invite", []byte(reformatted))
	if err != nil || change != Unchanged || same.Version != 1 || same.SHA256 != v1.SHA256 {
		t.Fatalf("same put = %+v %v %v, want version 1 unchanged", same, change, err)
	}

	v2, change, err := s.Put(ctx, "invite", testPalette("固定标题"))
	if err != nil || change != Updated || v2.Version != 2 {
		t.Fatalf("edit = %+v %v %v, want version 2 updated", v2, change, err)
	}
	if slices.Contains(v2.Variables, "title") {
		t.Errorf("version 2 variables = %v, want no title", v2.Variables)
	}

	// Another process (no shared cache) sees the same.
	other := NewStore(rdb, WithKeyPrefix(prefix))
	cur, err := other.Get(ctx, "invite")
	if err != nil || cur.Version != 2 || string(cur.JSON) != string(v2.JSON) {
		t.Fatalf("get = %+v %v, want version 2", cur, err)
	}
	// A job queued with version 1 still renders version 1.
	old, err := other.GetVersion(ctx, "invite", 1)
	if err != nil || old.SHA256 != v1.SHA256 || !slices.Contains(old.Variables, "title") {
		t.Fatalf("version 1 = %+v %v", old, err)
	}
	if _, err := other.GetVersion(ctx, "invite", 3); !errors.Is(err, ErrNotFound) {
		t.Errorf("version 3: err = %v, want ErrNotFound", err)
	}
	// Superseded versions expire, the current one never does.
	if ttl := rdb.TTL(ctx, prefix+"invite:v1").Val(); ttl <= 0 || ttl > 7*24*time.Hour {
		t.Errorf("ttl of version 1 = %v, want the version TTL", ttl)
	}
	if ttl := rdb.TTL(ctx, prefix+"invite:v2").Val(); ttl != -1 {
		t.Errorf("ttl of version 2 = %v, want none", ttl)
	}
}

func TestDelete(t *testing.T) {
	s, rdb, prefix := newTestStore(t, WithVersionTTL(time.Hour))
	ctx := context.Background()
	if _, _, err := s.Put(ctx, "a", testPalette("A")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Put(ctx, "b", testPalette("B")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "never"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete unknown: %v, want ErrNotFound", err)
	}
	// In-flight jobs of the deleted template still render, for a while.
	if _, err := NewStore(rdb, WithKeyPrefix(prefix)).GetVersion(ctx, "a", 1); err != nil {
		t.Fatalf("deleted version: %v", err)
	}
	if ttl := rdb.TTL(ctx, prefix+"a:v1").Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("ttl of the deleted version = %v, want ≤ 1h", ttl)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "b" {
		t.Fatalf("list = %v %v, want only b", names(list), err)
	}
	// Putting it again is a new template whose versions continue: a job id
	// made with version 1 never means other content.
	again, change, err := s.Put(ctx, "a", testPalette("A"))
	if err != nil || change != Created || again.Version != 2 {
		t.Fatalf("put after delete = %+v %v %v, want version 2 created", again, change, err)
	}
}

func TestList(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	if l, err := s.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("empty list = %v %v", l, err)
	}
	for _, n := range []string{"product", "activity", "invite"} {
		if _, _, err := s.Put(ctx, n, testPalette(n)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Put(ctx, "invite", testPalette("v2")); err != nil {
		t.Fatal(err)
	}
	l, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(l); !slices.Equal(got, []string{"activity:1", "invite:2", "product:1"}) {
		t.Fatalf("list = %v", got)
	}
}

func TestPutRejects(t *testing.T) {
	s, rdb, prefix := newTestStore(t)
	ctx := context.Background()
	big := []byte(`{"width":"750rpx","height":"750rpx","views":[],"x":"` + strings.Repeat("a", MaxPaletteBytes) + `"}`)
	for _, tc := range []struct {
		name, tmpl string
		palette    []byte
		nameErr    bool
		path       string // of the *palette.Error
		err        error
	}{
		{"upper case", "Invite", testPalette("x"), true, "", nil},
		{"space", "my invite", testPalette("x"), true, "", nil},
		{"colon", "a:b", testPalette("x"), true, "", nil},
		{"leading dash", "-a", testPalette("x"), true, "", nil},
		{"empty", "", testPalette("x"), true, "", nil},
		{"65 chars", strings.Repeat("a", 65), testPalette("x"), true, "", nil},
		{"reserved", "default", testPalette("x"), true, "", nil},
		{"too large", "big", big, false, "", ErrTooLarge},
		{"not JSON", "bad", []byte(`{"width":`), false, "", nil},
		{"bad view colour", "bad", []byte(`{"width":"750rpx","height":"750rpx","views":[{"type":"text","text":"a"},{"type":"text","css":{"color":"#ggg"}}]}`), false, "views[1]", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.Put(ctx, tc.tmpl, tc.palette)
			var ne *NameError
			var pe *palette.Error
			switch {
			case err == nil:
				t.Fatal("want an error")
			case tc.nameErr && !errors.As(err, &ne):
				t.Fatalf("err = %v, want a NameError", err)
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Fatalf("err = %v, want %v", err, tc.err)
			case !tc.nameErr && tc.err == nil && !errors.As(err, &pe):
				t.Fatalf("err = %v, want a PaletteError", err)
			case tc.path != "" && !strings.HasPrefix(pe.Path, tc.path):
				t.Fatalf("path = %q, want it to start with %q", pe.Path, tc.path)
			}
		})
	}
	if keys := rdb.Keys(ctx, prefix+"*").Val(); len(keys) != 0 {
		t.Errorf("rejected puts stored %v", keys)
	}
}

// Concurrent edits each get their own version: none is lost or reused.
func TestConcurrentPuts(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	const n = 12
	versions := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tmpl, _, err := s.Put(ctx, "busy", testPalette(fmt.Sprint("title ", i)))
			if err != nil {
				t.Error(err)
				return
			}
			versions[i] = tmpl.Version
		})
	}
	wg.Wait()
	slices.Sort(versions)
	for i, v := range versions {
		if v != i+1 {
			t.Fatalf("versions = %v, want 1..%d", versions, n)
		}
	}
}

func TestImageVariables(t *testing.T) {
	for _, tc := range []struct {
		name, views string
		vars, want  []string
	}{
		{"whole url", `[{"type":"image","url":"{{avatar}}"}]`, []string{"avatar"}, []string{"avatar"}},
		{"spaces", `[{"type":"image","url":" {{ cover }} "}]`, []string{"cover"}, []string{"cover"}},
		{"composed url", `[{"type":"image","url":"https://cdn.example.com/{{sku}}.jpg"}]`, []string{"sku"}, nil},
		{"text", `[{"type":"text","text":"{{avatar}}"}]`, []string{"avatar"}, nil},
		{"twice", `[{"type":"image","url":"{{a}}"},{"type":"image","url":"{{a}}"},{"type":"image","url":"{{b}}"}]`,
			[]string{"a", "b"}, []string{"a", "b"}},
		{"not a variable of the palette", `[{"type":"image","url":"{{x}}"}]`, nil, nil},
		{"url not a string", `[{"type":"image","url":7}]`, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := imageVariables([]byte(`{"views":`+tc.views+`}`), tc.vars)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func names(l []*Template) []string {
	var out []string
	for _, t := range l {
		out = append(out, fmt.Sprintf("%s:%d", t.Name, t.Version))
	}
	return out
}
