package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBatchBadInput: every bad item is listed by index, key and field, and
// nothing is enqueued; callback hosts, a missing secret, the item limit and
// malformed bodies are 400s naming the field.
func TestBatchBadInput(t *testing.T) {
	s := start(t, withCallbacks("batch-callback-secret-e2e", "hooks.example.com", "127.0.0.1:7401"))

	type errBody struct {
		Error struct {
			Code, Message, Field string
			Items                []struct {
				Index          int
				Key            string
				Field, Message string
			}
		}
	}
	post := func(body any) (int, errBody) {
		t.Helper()
		code, b := s.call(http.MethodPost, "/v1/batches", body)
		var e errBody
		_ = json.Unmarshal(b, &e)
		if code != http.StatusBadRequest {
			t.Fatalf("POST = %d %s, want 400", code, b)
		}
		return code, e
	}

	_, e := post(map[string]any{"template": "default", "page": pageIndex, "items": []map[string]any{
		{"key": "ok", "scene": "a"},
		{"key": "long", "scene": strings.Repeat("x", 33)},
		{"key": "both", "scene": "a", "params": map[string]string{"a": "1"}},
		{"key": "ok", "scene": "b"},
		{"key": "a/b", "scene": "c"},
		{"scene": "d", "data": map[string]string{"avatar": "http://evil.example/x.png"}},
		{"scene": "e", "page": "/pages/x"},
	}})
	if e.Error.Code != "invalid_items" || e.Error.Field != "items" || len(e.Error.Items) != 6 {
		t.Fatalf("bad items answer %+v", e)
	}
	want := []struct {
		index int
		field string
	}{{1, "scene"}, {2, "params"}, {3, "key"}, {4, "key"}, {5, "data.avatar"}, {6, "page"}}
	for i, w := range want {
		got := e.Error.Items[i]
		if got.Index != w.index || got.Field != w.field || !strings.HasPrefix(got.Message, w.field+" ") {
			t.Errorf("item %d: %+v, want index %d field %s", i, got, w.index, w.field)
		}
	}
	if s.sim.Total(codeAPI) != 0 {
		t.Fatal("a rejected batch reached WeChat")
	}
	if n, _ := s.rdb.Keys(ctxT(t), s.batchPrefix+"*").Result(); len(n) != 0 {
		t.Fatalf("a rejected batch left keys %v", n)
	}

	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"no items", map[string]any{"items": []any{}}, "items"},
		{"unknown field", map[string]any{"items": []any{map[string]any{"scene": "a", "sceen": "b"}}}, "sceen"},
		{"bad type", map[string]any{"items": "a"}, "items"},
		{"callback host", map[string]any{"callback_url": "https://other.example.com/x", "items": []any{map[string]any{"scene": "a"}}}, "callback_url"},
		{"callback port", map[string]any{"callback_url": "http://127.0.0.1:7402/x", "items": []any{map[string]any{"scene": "a"}}}, "callback_url"},
		{"callback scheme", map[string]any{"callback_url": "ftp://hooks.example.com/x", "items": []any{map[string]any{"scene": "a"}}}, "callback_url"},
		{"unknown app", map[string]any{"app": "nope", "items": []any{map[string]any{"scene": "a"}}}, "app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, e := post(tc.body)
			if e.Error.Field != tc.field {
				t.Errorf("field = %q (%s), want %q", e.Error.Field, e.Error.Message, tc.field)
			}
		})
	}

	t.Run("over the item limit", func(t *testing.T) {
		var buf bytes.Buffer
		buf.WriteString(`{"page":"` + pageIndex + `","items":[`)
		for i := range 100_001 {
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"scene":"%d"}`, i)
		}
		buf.WriteString(`]}`)
		_, e := post(buf.Bytes())
		if e.Error.Field != "items" || !strings.Contains(e.Error.Message, "at most 100000") {
			t.Fatalf("answer %+v", e)
		}
	})

	t.Run("callback without a secret", func(t *testing.T) {
		s2 := start(t, withCallbacks("", "hooks.example.com"))
		code, b := s2.call(http.MethodPost, "/v1/batches", map[string]any{
			"callback_url": "https://hooks.example.com/x", "items": []any{map[string]any{"scene": "a"}}})
		if code != http.StatusBadRequest || !strings.Contains(string(b), "WXPOSTER_CALLBACK_SECRET") {
			t.Fatalf("= %d %s", code, b)
		}
	})

	t.Run("unknown batch", func(t *testing.T) {
		for _, p := range []string{"/v1/batches/b000000000000000000000000", "/v1/batches/nope/items", "/v1/batches/nope/manifest"} {
			if code, b := s.call(http.MethodGet, p, nil); code != http.StatusNotFound {
				t.Errorf("GET %s = %d %s", p, code, b)
			}
		}
	})
}

// TestBatchIdempotencyKey: the same key returns the existing batch (200),
// and equal items across batches share their jobs.
func TestBatchIdempotencyKey(t *testing.T) {
	s := start(t)
	body := map[string]any{"page": pageIndex, "idempotency_key": "campaign-42",
		"items": []any{map[string]any{"scene": "i:1"}, map[string]any{"scene": "i:2"}}}
	id := s.createBatch(body)
	code, b := s.call(http.MethodPost, "/v1/batches", body)
	if code != http.StatusOK || !strings.Contains(string(b), `"id":"`+id+`"`) {
		t.Fatalf("second POST = %d %s, want 200 with %s", code, b, id)
	}
	v := s.awaitBatch(id, 30*time.Second)
	if v.Counts["succeeded"] != 2 {
		t.Fatalf("batch %+v", v)
	}
	// Another batch with the same posters: succeeded at once, no new calls.
	calls := s.sim.Total(codeAPI)
	other := s.createBatch(map[string]any{"page": pageIndex, "items": []any{map[string]any{"scene": "i:2"}}})
	if v := s.awaitBatch(other, 30*time.Second); v.Counts["succeeded"] != 1 {
		t.Fatalf("other batch %+v", v)
	}
	if s.sim.Total(codeAPI) != calls {
		t.Fatal("an existing poster was made again")
	}
	code, b = s.call(http.MethodGet, "/v1/batches?limit=1", nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"id":"`+other+`"`) || !strings.Contains(string(b), "next_cursor") {
		t.Fatalf("list = %d %s", code, b)
	}
}
