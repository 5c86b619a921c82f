package batch

// ItemObserver is told how many items of a batch reached a final state
// (ItemSucceeded, ItemFailed, ItemCancelled), for metrics. It hears of each
// transition once: the counts come from the same script that makes the
// transition, so a job asynq runs twice adds nothing the second time.
type ItemObserver interface {
	BatchItems(status string, n int)
}

// WithItemObserver sets the ItemObserver (default none).
func WithItemObserver(o ItemObserver) Option { return func(s *Store) { s.observer = o } }

// observeItems reports n items moved to state to, when that is final.
func (s *Store) observeItems(to byte, n int64) {
	if s.observer == nil || n <= 0 {
		return
	}
	switch to {
	case stSucceeded, stFailed, stCancelled:
		s.observer.BatchItems(stateNames[to], int(n))
	}
}
