package main

import (
	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/batch"
	"github.com/wxposter/wxposter/producer"
	"github.com/wxposter/wxposter/tasks"
)

// batchStore is the batch state both producer and worker use.
func (d *deps) batchStore() *batch.Store {
	return batch.NewStore(d.rdb, batch.WithRetention(d.cfg.BatchRetention),
		// Control tasks go to a queue every worker serves: with
		// WXPOSTER_QUEUE_SHARDS, the first shard of the poster queue.
		batch.WithQueues(tasks.ShardQueues(d.cfg.Queue, d.cfg.QueueShards)[0], d.cfg.BatchQueue), batch.WithLogger(d.log), batch.WithItemObserver(d.metrics))
}

// producerBatches is the API's batch configuration.
func (d *deps) producerBatches() producer.Batches {
	return producer.Batches{Store: d.batchStore(), Hosts: d.cfg.CallbackAllowList(), Signing: d.cfg.CallbackSecret != ""}
}

// batchHandlers adds the batch control tasks (dispatch, callbacks) to mux.
func (d *deps) batchHandlers(mux *asynq.ServeMux, store *batch.Store) {
	enq := &tasks.Enqueuer{
		Client: asynq.NewClientFromRedisClient(d.rdb), Inspector: asynq.NewInspectorFromRedisClient(d.rdb),
		Retention: d.cfg.JobRetention, Timeout: d.cfg.JobTimeout, MaxRetry: d.cfg.MaxRetry,
	}
	mux.Handle(batch.TypeDispatch, batch.NewDispatcher(store, d.objects, enq))
	mux.Handle(batch.TypeCallback, batch.NewDeliverer(string(d.cfg.CallbackSecret), d.cfg.CallbackAllowList(), d.log))
}
