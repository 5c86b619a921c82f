package batchclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"sync"
)

// Create submits a batch: req's fields and the items, which are streamed
// into the request body as items yields them, so that a 100,000-item batch
// is never held in memory whole. If items yields an error, the request is
// abandoned (the API enqueues nothing from an incomplete body) and that
// error is returned.
//
// With an idempotency key the request is repeated after a network error, so
// items must then be rangeable more than once; the API answers the batch
// that key made (Created.Existing) instead of making a second one.
func (c *Client) Create(ctx context.Context, req CreateRequest, items iter.Seq2[Item, error]) (*Created, error) {
	head, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	var (
		mu      sync.Mutex
		itemErr error // from the latest attempt
	)
	body := func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			err := writeBatch(pw, head, items)
			if err != nil && !errors.Is(err, io.ErrClosedPipe) {
				mu.Lock()
				itemErr = err
				mu.Unlock()
			}
			pw.CloseWithError(err)
		}()
		return pr, nil
	}
	resp, err := c.do(ctx, http.MethodPost, "/v1/batches", nil, body, req.IdempotencyKey != "")
	mu.Lock()
	ierr := itemErr
	mu.Unlock()
	if ierr != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, ierr
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var cr Created
	if err := json.NewDecoder(resp.Body).Decode(&cr); err != nil {
		return nil, fmt.Errorf("POST /v1/batches: unexpected answer: %w", err)
	}
	cr.Existing = resp.StatusCode == http.StatusOK
	return &cr, nil
}

// itemError marks an error that came from the item source, not the network.
type itemError struct{ err error }

func (e itemError) Error() string { return e.err.Error() }
func (e itemError) Unwrap() error { return e.err }

// writeBatch writes head (a JSON object) with "items":[…] added.
func writeBatch(w io.Writer, head []byte, items iter.Seq2[Item, error]) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	head = bytes.TrimSuffix(bytes.TrimSpace(head), []byte("}"))
	bw.Write(head)
	if len(head) > 1 {
		bw.WriteByte(',')
	}
	bw.WriteString(`"items":[`)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	first := true
	for it, err := range items {
		if err != nil {
			return itemError{err}
		}
		if !first {
			bw.WriteByte(',')
		}
		first = false
		if err := enc.Encode(it); err != nil {
			return err
		}
	}
	bw.WriteString("]}")
	return bw.Flush()
}
