package producer

import (
	"context"
	"net/http"
	"testing"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/templates"
)

// TestRequestMemo: a poster request body seen before names its job without
// being validated again, and only while that is still right: a stored
// template's edit or deletion makes the body be validated anew; bodies
// that were rejected or carry params are not kept; a poster not (or no
// longer) made is not answered as made.
func TestRequestMemo(t *testing.T) {
	rdb := testenv.Redis(t)
	store := testenv.Store(t)
	ctx := context.Background()
	prefix := "test-" + testenv.ID(6) + ":template:"
	tmpl := templates.NewStore(rdb, templates.WithKeyPrefix(prefix))
	s := testServer(t, rdb, store, WithTemplates(tmpl))
	t.Cleanup(func() {
		for _, k := range rdb.Keys(ctx, prefix+"*").Val() {
			rdb.Del(ctx, k)
		}
	})
	memoized := func(body string) string {
		id, _, ok := s.memo.job(ctx, []byte(body), s.template)
		if !ok {
			return ""
		}
		return id
	}

	// The built-in template: kept once valid, answered as made only once made.
	def := `{"template":"default","page":"pages/index/index","scene":"m:1","data":{"nickname":"小明"}}`
	code, first := postPoster(s, def)
	if code != http.StatusAccepted || memoized(def) != first.ID {
		t.Fatalf("first POST = %d %+v; memo has %q", code, first, memoized(def))
	}
	if code, again := postPoster(s, def); code != http.StatusAccepted || again.ID != first.ID || again.Status != statusQueued {
		t.Fatalf("the same body before its poster is made = %d %+v, want 202 queued %s", code, again, first.ID)
	}
	url := store.URL(tasks.PosterKey(first.ID, "jpg"))
	s.finishedCache.Remember(url)
	if code, hit := postPoster(s, def); code != http.StatusOK || hit.ID != first.ID || hit.Status != statusSucceeded || hit.URL != url {
		t.Fatalf("the same body once made = %d %+v, want 200 succeeded %s", code, hit, url)
	}
	s.finishedCache.Forget(url) // deleted, say: no longer answered as made
	if code, j := postPoster(s, def); code != http.StatusAccepted || j.Status == statusSucceeded {
		t.Fatalf("the same body once forgotten = %d %+v, want 202", code, j)
	}

	// Not kept: rejected bodies, bodies with params.
	kept := s.memo.len()
	bad := `{"template":"default","page":"pages/index/index","scene":"m:2","data":{"avatar":"http://169.254.169.254/"}}`
	withParams := `{"template":"default","page":"pages/index/index","params":{"id":"42"}}`
	for _, tc := range []struct {
		body string
		code int
	}{{bad, http.StatusBadRequest}, {bad, http.StatusBadRequest}, {withParams, http.StatusAccepted}} {
		if code, _ := postPoster(s, tc.body); code != tc.code {
			t.Fatalf("POST %s = %d, want %d", tc.body, code, tc.code)
		}
	}
	if s.memo.len() != kept || memoized(bad) != "" || memoized(withParams) != "" {
		t.Fatalf("memo kept a rejected body or one with params: %d bodies, want %d", s.memo.len(), kept)
	}

	// A stored template: its version is checked on every use.
	palette := func(color string) []byte {
		return []byte(`{"width":"300rpx","height":"300rpx","background":"` + color + `","views":[{"type":"text","text":"{{name}}"}]}`)
	}
	if _, _, err := tmpl.Put(ctx, "card", palette("#ffffff")); err != nil {
		t.Fatal(err)
	}
	card := `{"template":"card","data":{"name":"小红"}}`
	_, v1 := postPoster(s, card)
	if v1.ID == "" || memoized(card) != v1.ID {
		t.Fatalf("card v1 = %+v; memo has %q", v1, memoized(card))
	}
	if _, _, err := tmpl.Put(ctx, "card", palette("#000000")); err != nil {
		t.Fatal(err)
	}
	if id := memoized(card); id != "" {
		t.Fatalf("after the template's edit the memo still names %s", id)
	}
	_, v2 := postPoster(s, card)
	if v2.ID == "" || v2.ID == v1.ID || memoized(card) != v2.ID {
		t.Fatalf("card v2 = %+v (v1 %s); memo has %q", v2, v1.ID, memoized(card))
	}
	if err := tmpl.Delete(ctx, "card"); err != nil {
		t.Fatal(err)
	}
	if id := memoized(card); id != "" {
		t.Fatalf("after the template's deletion the memo still names %s", id)
	}
	if code, _ := postPoster(s, card); code != http.StatusBadRequest {
		t.Fatalf("POST for a deleted template = %d, want 400", code)
	}
}
