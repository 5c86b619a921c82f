package producer

import (
	"context"
	"net/http"
	"testing"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/tasks"
)

// TestNewJobWakesItsShard: a new job leaves a wake token on the wake list
// of the queue (shard) it went to, which that shard's workers wait on.
func TestNewJobWakesItsShard(t *testing.T) {
	rdb := testenv.Redis(t)
	s := testServer(t, rdb, testenv.Store(t), WithQueueShards(3))
	ctx := context.Background()
	code, j := postPoster(s, `{"template":"default","page":"pages/index/index","scene":"w:1"}`)
	if code != http.StatusAccepted {
		t.Fatalf("POST = %d %+v", code, j)
	}
	shard := tasks.ShardQueue(s.queue, 3, j.ID)
	if n := rdb.LLen(ctx, tasks.WakeKey(shard)).Val(); n != 1 {
		t.Errorf("wake tokens on the job's shard %s = %d, want 1", shard, n)
	}
}
