package tasks

import (
	"hash/fnv"
	"strconv"
)

// ShardQueue is the queue of job id when poster jobs are spread over
// shards queues (WXPOSTER_QUEUE_SHARDS): base itself for one shard, else
// base-0 … base-<shards-1>, chosen by a hash of the id. A job id always maps
// to the same queue, so asynq's per-queue TaskID dedupe still holds and its
// status is read from the right queue. asynq keeps each queue under one
// Redis Cluster hash tag, so shards are how jobs spread over masters.
func ShardQueue(base string, shards int, id string) string {
	if shards <= 1 {
		return base
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return base + "-" + strconv.Itoa(int(h.Sum32()%uint32(shards)))
}

// ShardQueues are all the queues of base over shards, for workers to consume.
func ShardQueues(base string, shards int) []string {
	if shards <= 1 {
		return []string{base}
	}
	qs := make([]string, shards)
	for i := range qs {
		qs[i] = base + "-" + strconv.Itoa(i)
	}
	return qs
}
