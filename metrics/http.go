package metrics

import (
	"strconv"
	"time"
)

// ObserveRequest records one answered HTTP request (producer.RequestObserver).
// route is the router's pattern, never the raw path, so that ids in paths
// do not make a series each.
func (m *Metrics) ObserveRequest(route string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(took.Seconds())
}
