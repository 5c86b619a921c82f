package main

import (
	"context"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/batch"
	"github.com/wxposter/wxposter/finished"
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
	mux.Handle(batch.TypeDispatch, batch.NewDispatcher(store, d.madeCheck(), enq))
	mux.Handle(batch.TypeCallback, batch.NewDeliverer(string(d.cfg.CallbackSecret), d.cfg.CallbackAllowList(), d.log))
}

// madeCheck is the "already made?" check batch dispatch shares with the
// single-poster path (finished.Checker): memory and the Redis record of
// finished posters before storage. Its cache forgets deleted posters until
// the process closes.
func (d *deps) madeCheck() *finished.Checker {
	c := finished.NewCache(d.finishedRecords(), 0, 0)
	ctx, cancel := context.WithCancel(context.Background())
	c.Listen(ctx, d.rdb)
	d.closers = append(d.closers, func() error { cancel(); return nil })
	return finished.NewChecker(c, d.objects, d.log)
}
