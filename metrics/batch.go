package metrics

// Batch item statuses counted by BatchItem.
const (
	BatchItemSucceeded = "succeeded"
	BatchItemFailed    = "failed"
	BatchItemCancelled = "cancelled"
)

// BatchItems counts n batch items reaching status (succeeded, failed,
// cancelled); it implements batch.ItemObserver, which reports each
// committed transition once, so duplicate executions count once.
func (m *Metrics) BatchItems(status string, n int) {
	m.batchItems.WithLabelValues(status).Add(float64(n))
}
