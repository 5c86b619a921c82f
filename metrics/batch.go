package metrics

// Batch item statuses counted by BatchItem.
const (
	BatchItemSucceeded = "succeeded"
	BatchItemFailed    = "failed"
	BatchItemCancelled = "cancelled"
)

// BatchItem counts a batch item reaching status (succeeded, failed,
// cancelled). Call it where the item's state transition is committed, once
// per transition, so duplicate executions are not counted twice.
func (m *Metrics) BatchItem(status string) { m.batchItems.WithLabelValues(status).Inc() }
