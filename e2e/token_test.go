package e2e

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// submitBatch posts n plain-code posters from 8 clients and returns their ids.
func (s *system) submitBatch(prefix string, n int) []string {
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				ids[i] = s.submit(map[string]any{"page": pageIndex, "scene": fmt.Sprintf("%s:%d", prefix, i)}).ID
			}
		})
	}
	wg.Wait()
	return ids
}

func (s *system) awaitAll(ids []string) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(ids); i = int(next.Add(1)) - 1 {
				if j := s.await(ids[i]); j.Status != "succeeded" {
					s.tb.Errorf("job %s: %+v", ids[i], j)
				}
			}
		})
	}
	wg.Wait()
}

// 3 worker processes × concurrency 10, cold cache, 300 distinct posters:
// the whole cluster makes exactly one stable_token call.
func TestOneTokenForTheCluster(t *testing.T) {
	s := start(t, withWorkerProcesses(3), withWorkerConcurrency(10))
	s.awaitAll(s.submitBatch("cold", 300))
	if got := s.sim.Count("/wxa/getwxacodeunlimit", 0); got != 300 {
		t.Fatalf("codes made = %d, want 300", got)
	}
	if got := s.sim.Total("/cgi-bin/stable_token"); got != 1 {
		t.Fatalf("stable_token calls = %d, want exactly 1", got)
	}
	if got := s.sim.Total("/cgi-bin/token"); got != 0 {
		t.Fatalf("/cgi-bin/token calls = %d, want 0", got)
	}
}

// WeChat invalidates every token mid-batch: every job still succeeds, and
// the cluster refetches exactly once.
func TestTokensInvalidatedMidBatch(t *testing.T) {
	s := start(t, withWorkerProcesses(3), withWorkerConcurrency(10))
	first := s.submitBatch("before", 100)
	s.awaitAll(first[:50]) // tokens are in every process's hands by now
	s.sim.InvalidateTokens()
	rest := s.submitBatch("after", 100)
	s.awaitAll(append(first[50:], rest...))
	if got := s.sim.Total("/cgi-bin/stable_token"); got != 2 {
		t.Fatalf("stable_token calls = %d, want 2 (one refetch)", got)
	}
	if got := s.sim.Count("/wxa/getwxacodeunlimit", 40001); got == 0 {
		t.Fatal("no 40001 seen: the invalidation did not hit the batch")
	}
	t.Logf("40001 answers: %d, codes made: %d", s.sim.Count("/wxa/getwxacodeunlimit", 40001), s.sim.Count("/wxa/getwxacodeunlimit", 0))
}
