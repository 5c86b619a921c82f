package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/scene"
)

// TestBatchRejectedKeepsNoParams: a batch rejected with 400 for a bad item
// stores no scene params for its valid items (as a rejected single poster
// stores none); the same items in a valid batch are stored.
func TestBatchRejectedKeepsNoParams(t *testing.T) {
	s := start(t)
	scenes := scene.NewStore(s.rdb) // the producer's store (default prefix)
	params := []map[string]string{
		{"campaign": "rejected-" + testenv.ID(16), "from": "batch-params-test", "u": "1"},
		{"campaign": "rejected-" + testenv.ID(16), "from": "batch-params-test", "u": "2"},
	}
	refs := make([]string, len(params))
	for i, p := range params {
		ref, err := scenes.Peek(p)
		if err != nil || !scene.IsRef(ref) {
			t.Fatalf("params %d must be stored by reference: %q %v", i, ref, err)
		}
		refs[i] = ref
	}
	t.Cleanup(func() {
		for _, ref := range refs {
			s.rdb.Del(context.Background(), "wxposter:scene:"+strings.TrimPrefix(ref, scene.RefPrefix))
		}
	})
	stored := func(ref string) bool {
		t.Helper()
		_, err := scenes.Resolve(ctxT(t), ref)
		switch {
		case err == nil:
			return true
		case errors.Is(err, scene.ErrNotFound):
			return false
		}
		t.Fatalf("resolve %s: %v", ref, err)
		return false
	}

	items := []map[string]any{
		{"key": "a", "params": params[0]},
		{"key": "b", "params": params[1]},
		{"key": "bad", "scene": strings.Repeat("x", 33)}, // too long: the batch is rejected
	}
	if code, b := s.call(http.MethodPost, "/v1/batches", map[string]any{"page": pageIndex, "items": items}); code != http.StatusBadRequest {
		t.Fatalf("batch with a bad item = %d %s, want 400", code, b)
	}
	for i, ref := range refs {
		if stored(ref) {
			t.Errorf("params of valid item %d stored for a rejected batch (%s)", i, ref)
		}
	}

	s.createBatch(map[string]any{"page": pageIndex, "items": items[:2]})
	for i, ref := range refs {
		if !stored(ref) {
			t.Errorf("params of item %d not stored for an accepted batch (%s)", i, ref)
		}
	}
}
