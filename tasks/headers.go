package tasks

import (
	"strconv"
	"time"
)

// HeaderEnqueuedAt is the task header holding when the job was enqueued
// (Unix milliseconds), from which workers measure how long jobs wait.
// Headers are not part of the job id.
const HeaderEnqueuedAt = "wxposter-enqueued-at"

// EnqueueHeaders are the headers every poster task is enqueued with (the
// single-poster path and batch items alike).
func EnqueueHeaders(now time.Time) map[string]string {
	return map[string]string{HeaderEnqueuedAt: strconv.FormatInt(now.UnixMilli(), 10)}
}

// EnqueuedAt reads HeaderEnqueuedAt from a task's headers.
func EnqueuedAt(h map[string]string) (time.Time, bool) {
	ms, err := strconv.ParseInt(h[HeaderEnqueuedAt], 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}
