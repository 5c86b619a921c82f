package worker

import "context"

// WithRenderConcurrency bounds how many posters a worker renders and
// encodes at once (default: GOMAXPROCS), apart from how many jobs it runs
// (WXPOSTER_WORKER_CONCURRENCY). Rendering is CPU and memory (a 4 MB
// canvas each); the rest of a job mostly waits for storage and Redis. With
// renders bounded, more jobs can wait on I/O at once without more renders
// competing for the cores or more canvases alive; n <= 0 means the
// default.
func WithRenderConcurrency(n int) HandlerOption {
	return func(h *Handler) {
		if n > 0 {
			h.renderSlots, h.renderSlotsSet = newSlots(n), true
		}
	}
}

// slots is a counting semaphore; a nil slots admits everyone.
type slots chan struct{}

func newSlots(n int) slots {
	if n <= 0 {
		return slots(nil)
	}
	return make(slots, n)
}

func (s slots) acquire(ctx context.Context) error {
	if s == nil {
		return nil
	}
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s slots) release() {
	if s != nil {
		<-s
	}
}
