package tasks

import (
	"slices"
	"strconv"
	"testing"
)

func TestShardQueue(t *testing.T) {
	if q := ShardQueue("posters", 1, "abc"); q != "posters" {
		t.Fatalf("one shard: %s", q)
	}
	if qs := ShardQueues("posters", 1); !slices.Equal(qs, []string{"posters"}) {
		t.Fatalf("one shard: %v", qs)
	}
	const shards, jobs = 4, 4000
	all := ShardQueues("posters", shards)
	count := map[string]int{}
	for i := range jobs {
		id := "job" + strconv.Itoa(i)
		q := ShardQueue("posters", shards, id)
		if !slices.Contains(all, q) {
			t.Fatalf("%s went to %s, not one of %v", id, q, all)
		}
		if again := ShardQueue("posters", shards, id); again != q {
			t.Fatalf("%s: %s then %s", id, q, again)
		}
		count[q]++
	}
	for _, q := range all { // a fair spread: each within 20 % of jobs/shards
		if n := count[q]; n < jobs/shards*8/10 || n > jobs/shards*12/10 {
			t.Errorf("%s got %d of %d jobs", q, n, jobs)
		}
	}
}
