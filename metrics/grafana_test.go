package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wxposter/wxposter/internal/testenv"
)

// TestGrafanaDashboardUsesRealMetrics checks that every metric the Grafana
// dashboard (deploy/grafana/wxposter.json) queries is one this package or
// asynq's queue collector exports, so a renamed metric cannot leave a panel
// silently empty.
func TestGrafanaDashboardUsesRealMetrics(t *testing.T) {
	b, err := os.ReadFile("../deploy/grafana/wxposter.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	describe := func(c prometheus.Collector) {
		ch := make(chan *prometheus.Desc, 64)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			if m := fqName.FindStringSubmatch(d.String()); m != nil {
				known[m[1]] = true
			}
		}
	}
	// asynq's collector describes by collecting: give it a queue to report.
	rdb := testenv.Redis(t)
	queue := "grafana-" + testenv.ID(4)
	client := asynq.NewClientFromRedisClient(rdb)
	defer client.Close()
	if _, err := client.Enqueue(asynq.NewTask("noop", nil), asynq.Queue(queue)); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspectorFromRedisClient(rdb)
	defer insp.DeleteQueue(queue, true)

	m := New()
	for _, c := range []prometheus.Collector{m.postersFinished, m.jobDuration, m.jobWait, m.renderDuration,
		m.wechatCalls, m.wechatDuration, m.tokenFetches, m.admissions, m.holds, m.storageDuration,
		m.httpRequests, m.httpDuration, m.batchItems,
		asynqmetrics.NewQueueMetricsCollector(insp)} {
		describe(c)
	}
	if !known["wxposter_posters_finished_total"] || !known["asynq_queue_size"] {
		t.Fatalf("could not list the metrics: %v", known)
	}

	name := regexp.MustCompile(`\b(?:wxposter|asynq)_[a-z_]+`)
	used := map[string]bool{}
	queries := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			queries++
			for _, n := range name.FindAllString(tg.Expr, -1) {
				base := n
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					base = strings.TrimSuffix(base, suffix)
				}
				if !known[base] {
					t.Errorf("panel %q queries %s, which nothing exports", p.Title, n)
				}
				used[base] = true
			}
		}
	}
	if queries < 20 {
		t.Fatalf("only %d queries in the dashboard", queries)
	}
	for n := range known {
		if strings.HasPrefix(n, "wxposter_") && !used[n] {
			t.Errorf("no panel shows %s", n)
		}
	}
}
