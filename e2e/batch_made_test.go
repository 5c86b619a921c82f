package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/wxposter/wxposter/finished"
	"github.com/wxposter/wxposter/storage"
)

// TestBatchDispatchAlreadyMade: batch dispatch asks "already made?" the way
// a single poster does (finished.Checker): a second campaign of posters
// the first one made counts every item as succeeded from the Redis record
// of finished posters, without a storage request or a code call.
func TestBatchDispatchAlreadyMade(t *testing.T) {
	var counted *countingStore
	s := start(t, func(set *settings) {
		set.dispatchStore = func(st *storage.Store) finished.Objects {
			counted = &countingStore{Store: st}
			return counted
		}
	})
	s.dumpLogsOnFailure()
	items := make([]map[string]any, 12)
	for i := range items {
		items[i] = map[string]any{"key": fmt.Sprint(i), "scene": fmt.Sprintf("made:%d", i)}
	}
	first := s.awaitBatch(s.createBatch(map[string]any{"page": pageIndex, "items": items}), 60*time.Second)
	if first.Counts["succeeded"] != len(items) {
		t.Fatalf("first batch: %+v", first)
	}
	if n := counted.exists.Load(); n != int64(len(items)) {
		t.Errorf("storage checks dispatching new posters = %d, want one per item (%d)", n, len(items))
	}
	calls := s.sim.Total(codeAPI)

	counted.exists.Store(0)
	second := s.awaitBatch(s.createBatch(map[string]any{"page": pageIndex, "items": items, "name": "again"}), 30*time.Second)
	if second.Status != "completed" || second.Counts["succeeded"] != len(items) {
		t.Fatalf("second batch: %+v", second)
	}
	if n := counted.exists.Load(); n != 0 {
		t.Errorf("storage checks dispatching posters already made = %d, want 0 (the finished record answers)", n)
	}
	if got := s.sim.Total(codeAPI); got != calls {
		t.Errorf("code calls %d → %d for posters already made", calls, got)
	}
}
