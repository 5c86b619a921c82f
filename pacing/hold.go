package pacing

import "time"

// Reason says why a call is held back.
type Reason string

// Reasons of a Hold.
const (
	// ReasonRate: the app's calls are at the configured rate.
	ReasonRate Reason = "rate"
	// ReasonCooldown: WeChat answered 45011 (minute quota) for the app.
	ReasonCooldown Reason = "minute_quota"
	// ReasonPaused: WeChat answered 45009 (daily quota) for the app.
	ReasonPaused Reason = "daily_quota"
)

// Hold is a decision not to call WeChat now. The zero Hold lets the call go.
type Hold struct {
	Reason Reason
	// RetryIn is when to ask again.
	RetryIn time.Duration
	// Until is when a cooldown or pause ends.
	Until time.Time
	// Rate is the app's cap of calls per minute (rate holds).
	Rate int
}

// Held reports whether the call must wait.
func (h Hold) Held() bool { return h.Reason != "" }
