package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/wxsim"
)

// TestBatchCancel: cancelling stops the remaining items: they count as
// cancelled, their tasks leave the queue, and the simulator's call count
// stops growing; running items finish.
func TestBatchCancel(t *testing.T) {
	const secret = "batch-callback-secret-e2e"
	rcv := newReceiver(t, secret, "127.0.0.1:0")
	s := start(t, withWorkerConcurrency(2), withSim(wxsim.WithLatency(150*time.Millisecond)),
		withCallbacks(secret, rcv.addr))
	s.dumpLogsOnFailure()
	items := make([]map[string]any, 60)
	for i := range items {
		items[i] = map[string]any{"key": fmt.Sprint(i), "scene": fmt.Sprintf("c:%d", i)}
	}
	id := s.createBatch(map[string]any{"page": pageIndex, "items": items, "callback_url": rcv.url()})
	deadline := time.Now().Add(30 * time.Second)
	for s.batch(id, 0).Counts["succeeded"] < 4 {
		if time.Now().After(deadline) {
			t.Fatal("batch did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, b := s.call(http.MethodPost, "/v1/batches/"+id+"/cancel", nil)
	if code != http.StatusOK {
		t.Fatalf("cancel = %d %s", code, b)
	}
	v := s.awaitBatch(id, 30*time.Second)
	if v.Status != "cancelled" || v.Counts["cancelled"] == 0 ||
		v.Counts["succeeded"]+v.Counts["cancelled"] != len(items) {
		t.Fatalf("after cancel: %+v", v)
	}
	calls := s.sim.Total(codeAPI)
	if calls != v.Counts["succeeded"] {
		t.Errorf("code calls %d, succeeded %d", calls, v.Counts["succeeded"])
	}
	time.Sleep(3 * time.Second)
	if got := s.sim.Total(codeAPI); got != calls {
		t.Fatalf("code calls went on after cancel: %d → %d", calls, got)
	}
	info, err := asynq.NewInspectorFromRedisClient(s.rdb).GetQueueInfo(s.batchQueue)
	if err != nil {
		t.Fatal(err)
	}
	if info.Pending+info.Scheduled+info.Retry+info.Active != 0 {
		t.Errorf("batch queue still holds tasks: %+v", info)
	}
	if got := rcv.awaitAccepted(1, 10*time.Second); got[0].Event.Batch.Status != "cancelled" {
		t.Errorf("callback %+v", got[0])
	}
	if code, _ := s.call(http.MethodPost, "/v1/batches/"+id+"/cancel", nil); code != http.StatusConflict {
		t.Errorf("second cancel = %d, want 409", code)
	}
}
