package worker

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/tasks"
)

// TestWakeGateSeesAsynqDequeues runs a real asynq server with the gate: an
// idle worker waits on the wake list, a token ends the wait, and a job
// enqueued without a token still runs (at the poll). If a new asynq names
// its keys or scripts differently, the gate never sees a dequeue and this
// fails.
func TestWakeGateSeesAsynqDequeues(t *testing.T) {
	rdb := testenv.Redis(t)
	queue := "wake-" + testenv.ID(6)
	t.Cleanup(func() {
		asynq.NewInspectorFromRedisClient(rdb).DeleteQueue(queue, true)
		rdb.Del(context.Background(), tasks.WakeKey(queue))
	})
	srv, gate := newServer(rdb, ServerConfig{Queue: queue, Concurrency: 2, PollInterval: 300 * time.Millisecond})
	ran := make(chan string, 4)
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypeGeneratePoster, func(ctx context.Context, t *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		ran <- id
		return nil
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	client := asynq.NewClientFromRedisClient(rdb)
	t.Cleanup(func() { client.Close() })

	// Idle: the processor arms the gate and blocks on the wake list.
	deadline := time.Now().Add(10 * time.Second)
	for gate.waits.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if gate.waits.Load() == 0 {
		t.Fatal("the gate never saw asynq's dequeue script")
	}
	ctx := context.Background()
	for i, wake := range []bool{true, false} {
		id := testenv.ID(8)
		if _, err := client.Enqueue(asynq.NewTask(tasks.TypeGeneratePoster, nil), asynq.Queue(queue), asynq.TaskID(id)); err != nil {
			t.Fatal(err)
		}
		if wake {
			if err := tasks.Wake(ctx, rdb, queue, 1); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case got := <-ran:
			if got != id {
				t.Fatalf("job %d: ran %s, want %s", i, got, id)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("job %d (wake %v) never ran", i, wake)
		}
		if wake && gate.woken.Load() == 0 {
			t.Fatal("a wake token did not end the gate's wait")
		}
	}
}

func TestWakeTokensAreBounded(t *testing.T) {
	rdb := testenv.Redis(t)
	queue := "wake-" + testenv.ID(6)
	ctx := context.Background()
	t.Cleanup(func() { rdb.Del(ctx, tasks.WakeKey(queue)) })
	for range 10 {
		if err := tasks.Wake(ctx, rdb, queue, 20); err != nil {
			t.Fatal(err)
		}
	}
	if n := rdb.LLen(ctx, tasks.WakeKey(queue)).Val(); n != 64 {
		t.Errorf("wake list length = %d, want 64 (capped)", n)
	}
}
