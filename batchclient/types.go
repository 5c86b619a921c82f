package batchclient

import (
	"encoding/json"
	"iter"
	"time"
)

// Item is one poster of a batch: exactly what a single POST /v1/posters with
// the batch's fields merged in would make. Scene and Params are exclusive.
type Item struct {
	Key    string            `json:"key,omitempty"`
	Scene  string            `json:"scene,omitempty"`
	Params map[string]string `json:"params,omitempty"`
	Page   string            `json:"page,omitempty"`
	Data   map[string]string `json:"data,omitempty"`
}

// CreateRequest is the body of POST /v1/batches without its items, which
// Create streams.
type CreateRequest struct {
	Name           string            `json:"name,omitempty"`
	App            string            `json:"app,omitempty"`
	Template       string            `json:"template,omitempty"`
	Page           string            `json:"page,omitempty"`
	EnvVersion     string            `json:"env_version,omitempty"`
	Width          int               `json:"width,omitempty"`
	Format         string            `json:"format,omitempty"`
	Quality        int               `json:"quality,omitempty"`
	Data           map[string]string `json:"data,omitempty"` // defaults for every item
	CallbackURL    string            `json:"callback_url,omitempty"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
}

// Created is the answer to POST /v1/batches.
type Created struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Total     int    `json:"total"`
	StatusURL string `json:"status_url"`
	// Existing is true when the idempotency key named a batch made before
	// (200 instead of 202): nothing new was enqueued.
	Existing bool `json:"-"`
}

// Batch statuses.
const (
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusCancelled = "cancelled"
)

// Counts are a batch's items by state; they always add up to the total.
type Counts struct {
	Queued    int `json:"queued"`
	Running   int `json:"running"`
	Retrying  int `json:"retrying"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
}

// Done is the number of items in a final state.
func (c Counts) Done() int { return c.Succeeded + c.Failed + c.Cancelled }

// Batch is GET /v1/batches/{id}.
type Batch struct {
	ID         string     `json:"id"`
	Name       string     `json:"name,omitempty"`
	Status     string     `json:"status"`
	Total      int        `json:"total"`
	Counts     Counts     `json:"counts"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	ETASeconds *float64   `json:"eta_seconds,omitempty"`

	// Raw is the answer as the API sent it (for --json output).
	Raw json.RawMessage `json:"-"`
}

// Ended reports whether the batch is over (completed or cancelled).
func (b *Batch) Ended() bool { return b.Status != StatusRunning }

// ItemView is one row of GET /v1/batches/{id}/items.
type ItemView struct {
	Key    string     `json:"key,omitempty"`
	ID     string     `json:"id"`
	Status string     `json:"status"`
	URL    string     `json:"url,omitempty"`
	Error  *ItemError `json:"error,omitempty"`
}

// ItemError is why an item failed, as the poster API reports it.
type ItemError struct {
	Code    string `json:"code"`
	Errcode *int   `json:"errcode,omitempty"`
	Message string `json:"message"`
}

// ItemPage is one page of items; NextCursor is empty on the last page.
type ItemPage struct {
	Items      []ItemView `json:"items"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// BatchPage is one page of GET /v1/batches, newest first.
type BatchPage struct {
	Batches    []Batch `json:"batches"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// Slice yields items, for callers that hold them in memory.
func Slice(items []Item) iter.Seq2[Item, error] {
	return func(yield func(Item, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
}
