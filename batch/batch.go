// Package batch is wxposter's batch campaigns: many posters made under one
// id, counted exactly under asynq's at-least-once delivery, with a signed
// completion callback.
//
// Every item is one poster job (tasks.PosterPayload, tasks' job id); equal
// items share a job, and a job may also be shared with single posters and
// other batches. An item's state therefore follows its job: whoever runs job
// X (a batch's task or a single poster's) moves every item registered
// against X, batch by batch, each in one Lua script that allows only legal
// transitions and adjusts the counts with them. Completion is detected in
// the same script, once, and leaves a pending-callback mark that is cleared
// only after the callback task (with a fixed task id per completion) is
// enqueued.
//
// Redis keys (all of one batch share the hash tag {<id>}, so every script
// touches one Cluster slot):
//
//	wxposter:batch:{<id>}:meta   hash: name, app, status, total, counts, times, callback
//	wxposter:batch:{<id>}:st     string: one state byte per item (q r t s f c)
//	wxposter:batch:{<id>}:items  list: "<job id>\t<ext>\t<key>" per item, in order
//	wxposter:batch:{<id>}:jobs   hash: job id → item indexes ("3,17")
//	wxposter:batch:{<id>}:pay    hash: job id → poster payload (JSON)
//	wxposter:batch:{<id>}:err    hash: item index → "<code>\t<message>"
//	wxposter:job:<job id>:batches set of the batches waiting on a job
//	wxposter:batches             sorted set of batch ids by creation time
//	wxposter:batch:idem:<hash>   idempotency key → batch id
//
// A batch's keys have no TTL while it runs and expire Retention after it
// ends (a retry makes them persistent again).
package batch

import (
	"errors"
	"time"
)

// Batch statuses.
const (
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusCancelled = "cancelled"
)

// Item statuses, as the API shows them, and their state bytes in Redis.
const (
	ItemQueued    = "queued"
	ItemRunning   = "running"
	ItemRetrying  = "retrying"
	ItemSucceeded = "succeeded"
	ItemFailed    = "failed"
	ItemCancelled = "cancelled"
)

const (
	stQueued    = 'q'
	stRunning   = 'r'
	stRetrying  = 't'
	stSucceeded = 's'
	stFailed    = 'f'
	stCancelled = 'c'
)

var stateNames = map[byte]string{
	stQueued: ItemQueued, stRunning: ItemRunning, stRetrying: ItemRetrying,
	stSucceeded: ItemSucceeded, stFailed: ItemFailed, stCancelled: ItemCancelled,
}

// StateByte is the Redis state byte of an item status, or 0.
func StateByte(status string) byte {
	for b, n := range stateNames {
		if n == status {
			return b
		}
	}
	return 0
}

// Limits.
const (
	// MaxItems is the most items one batch may have.
	MaxItems = 100_000
	// MaxKeyLen is the longest item key (it names the file in the archive).
	MaxKeyLen = 128
	// maxErrLen caps the error text stored per failed item.
	maxErrLen = 300
	// chunkSize is how many items one dispatch task handles.
	chunkSize = 1000
)

// DefaultRetention is how long a batch's state stays after it ended.
const DefaultRetention = 30 * 24 * time.Hour

// ErrNotFound is returned for an unknown (or expired) batch.
var ErrNotFound = errors.New("batch: no such batch")

// Counts are a batch's items by state; they always add up to the total.
type Counts struct {
	Queued    int `json:"queued"`
	Running   int `json:"running"`
	Retrying  int `json:"retrying"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
}

// Sum is the number of items counted.
func (c Counts) Sum() int {
	return c.Queued + c.Running + c.Retrying + c.Succeeded + c.Failed + c.Cancelled
}

// View is a batch as the API shows it (GET /v1/batches/{id}).
type View struct {
	ID         string     `json:"id"`
	Name       string     `json:"name,omitempty"`
	App        string     `json:"app,omitempty"`
	Status     string     `json:"status"`
	Total      int        `json:"total"`
	Counts     Counts     `json:"counts"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	ETASeconds *int       `json:"eta_seconds,omitempty"`
}

// Ended reports whether every item is final (the batch completed, or was
// cancelled and its running items finished).
func (v *View) Ended() bool { return v.FinishedAt != nil }

// Item is one item of a batch as stored: its job and how to name it.
type Item struct {
	Key   string // the client's key, may be ""
	JobID string
	Ext   string // file extension of the poster: jpg or png
}

// ItemError is why an item failed.
type ItemError struct {
	Code    string `json:"code"`
	Errcode *int   `json:"errcode,omitempty"`
	Message string `json:"message"`
}

// ItemView is an item as the API shows it.
type ItemView struct {
	Index  int        `json:"-"`
	Key    string     `json:"key,omitempty"`
	ID     string     `json:"id"`
	Status string     `json:"status"`
	URL    string     `json:"url,omitempty"`
	Error  *ItemError `json:"error,omitempty"`
	// ObjectKey is the poster's key in storage.
	ObjectKey string `json:"-"`
}
