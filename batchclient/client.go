package batchclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks to one wxposter API.
type Client struct {
	base      *url.URL
	key       string
	hc        *http.Client
	userAgent string
	retries   int
	backoff   time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sends "Authorization: Bearer key" (WXPOSTER_API_KEY).
func WithAPIKey(key string) Option { return func(c *Client) { c.key = key } }

// WithHTTPClient replaces the default client (whose transport gives up on
// an answer that has not started ResponseHeaderTimeout after the request
// was sent, so that a hung API cannot hang the caller). Do not give it a Timeout
// shorter than the longest wait: long polls and downloads are bounded by
// their context instead.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithRetries sets how often a request that is safe to repeat (every GET,
// and a create with an idempotency key) is sent again after a network error
// or a 502/503/504, waiting backoff, then twice that, and so on. The
// default is 3 retries from 500 ms; 0 turns retrying off.
func WithRetries(n int, backoff time.Duration) Option {
	return func(c *Client) { c.retries, c.backoff = n, backoff }
}

// New returns a client for the API at baseURL (e.g. http://127.0.0.1:8080).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		shown := "unparsable"
		if err == nil {
			shown = fmt.Sprintf("%q", u.Redacted()) // a password in it stays out of the message
		}
		return nil, fmt.Errorf("API URL %s: want http(s)://host[:port]", shown)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = ResponseHeaderTimeout
	c := &Client{base: u, hc: &http.Client{Transport: tr}, userAgent: "wxposter-batchclient",
		retries: 3, backoff: 500 * time.Millisecond}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// ResponseHeaderTimeout bounds the wait for an answer to start: well over
// the longest long poll (MaxWait) and the validation of a 100,000-item
// batch.
const ResponseHeaderTimeout = 2 * time.Minute

// MaxWait is the longest long poll the API holds (GET /v1/batches/{id}?wait=N).
const MaxWait = 30 * time.Second

// Get returns the batch. With wait > 0 the API holds the request until the
// batch ends or wait (whole seconds, at most MaxWait) has passed.
func (c *Client) Get(ctx context.Context, id string, wait time.Duration) (*Batch, error) {
	q := url.Values{}
	if wait > 0 {
		q.Set("wait", strconv.Itoa(int(min(wait, MaxWait).Round(time.Second)/time.Second)))
	}
	var b Batch
	raw, err := c.getJSON(ctx, "/v1/batches/"+url.PathEscape(id), q, &b)
	if err != nil {
		return nil, err
	}
	b.Raw = raw
	return &b, nil
}

// Items returns one page of the batch's items; status filters ("" for all),
// cursor is the previous page's NextCursor ("" for the first), limit 0
// leaves the page size to the API.
func (c *Client) Items(ctx context.Context, id, status, cursor string, limit int) (*ItemPage, error) {
	var p ItemPage
	if _, err := c.getJSON(ctx, "/v1/batches/"+url.PathEscape(id)+"/items", pageQuery(status, cursor, limit), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// List returns one page of batches, newest first.
func (c *Client) List(ctx context.Context, cursor string, limit int) (*BatchPage, error) {
	var p BatchPage
	if _, err := c.getJSON(ctx, "/v1/batches", pageQuery("", cursor, limit), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Manifest streams the manifest (every item: key,id,status,url,error_code,
// error_message) into w; format is "csv" (or "") or "ndjson".
func (c *Client) Manifest(ctx context.Context, id, format string, w io.Writer) (int64, error) {
	q := url.Values{}
	if format != "" && format != "csv" {
		q.Set("format", format)
	}
	return c.download(ctx, "/v1/batches/"+url.PathEscape(id)+"/manifest", q, w)
}

// Archive streams the ZIP of the batch's succeeded posters (and the
// manifest) into w.
func (c *Client) Archive(ctx context.Context, id string, w io.Writer) (int64, error) {
	return c.download(ctx, "/v1/batches/"+url.PathEscape(id)+"/archive", nil, w)
}

// Cancel stops the batch: items not yet started never run.
func (c *Client) Cancel(ctx context.Context, id string) error {
	return c.post(ctx, "/v1/batches/"+url.PathEscape(id)+"/cancel")
}

// Retry runs the batch's failed items again.
func (c *Client) Retry(ctx context.Context, id string) error {
	return c.post(ctx, "/v1/batches/"+url.PathEscape(id)+"/retry")
}

func pageQuery(status, cursor string, limit int) url.Values {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return q
}

func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) (json.RawMessage, error) {
	resp, err := c.do(ctx, http.MethodGet, path, q, nil, true)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: read answer: %w", path, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("GET %s: unexpected answer: %w", path, err)
	}
	return raw, nil
}

func (c *Client) download(ctx context.Context, path string, q url.Values, w io.Writer) (int64, error) {
	resp, err := c.do(ctx, http.MethodGet, path, q, nil, true)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("GET %s: after %d bytes: %w", path, n, err)
	}
	return n, nil
}

// post sends a bodiless POST; it is not repeated (a retry that reached the
// API is not a no-op).
func (c *Client) post(ctx context.Context, path string) error {
	resp, err := c.do(ctx, http.MethodPost, path, nil, nil, false)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.Body.Close()
}

// do sends a request, repeating it when repeatable and the failure looks
// passing. body makes a fresh request body for every attempt. A 2xx answer
// is returned open; anything else becomes an *APIError.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body func() (io.ReadCloser, error), repeatable bool) (*http.Response, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	what := method + " " + path
	for attempt := 0; ; attempt++ {
		resp, err := c.send(ctx, method, u.String(), body)
		retry := repeatable && attempt < c.retries && ctx.Err() == nil
		switch {
		case err != nil:
			// The url.Error names the URL, which holds no secret (the key
			// travels in a header), but drop it: the path says enough.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			if !retry {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return resp, nil
		default:
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			transient := resp.StatusCode == http.StatusBadGateway ||
				resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout
			if !retry || !transient {
				return nil, fmt.Errorf("%s: %w", what, parseError(resp.StatusCode, b))
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(c.backoff << attempt):
		}
	}
}

func (c *Client) send(ctx context.Context, method, u string, body func() (io.ReadCloser, error)) (*http.Response, error) {
	var rc io.ReadCloser
	if body != nil {
		var err error
		if rc, err = body(); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rc)
	if err != nil {
		if rc != nil {
			rc.Close()
		}
		return nil, err
	}
	if rc != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	return c.hc.Do(req)
}
