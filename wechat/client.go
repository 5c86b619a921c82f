// Package wechat is wxposter's client of the WeChat server API: access_token
// held centrally in Redis, mini-program codes, and errcodes mapped to typed
// errors. Secrets (AppSecret, access_token) never appear in its logs or errors.
package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultBaseURL is WeChat's API host.
const DefaultBaseURL = "https://api.weixin.qq.com"

// App is a WeChat app (mini-program or official account) and its credentials.
type App struct {
	// Name is how API requests may refer to the app (default: the appid).
	Name   string
	AppID  string
	Secret string
	// JSDomains are the app's JS-SDK safe domains.
	JSDomains []string
}

// LogValue keeps the secret out of logs.
func (a App) LogValue() slog.Value { return slog.StringValue(a.AppID) }

// String keeps the secret out of %v.
func (a App) String() string { return a.AppID }

// Client calls the WeChat API. It is safe for concurrent use.
type Client struct {
	base string
	http *http.Client
	// codeHTTP is http with the longer codeTimeout, for code calls.
	codeHTTP    *http.Client
	codeTimeout time.Duration
	log         *slog.Logger
	rdb         redis.UniversalClient
	tokens      *TokenStore
	tickets     *credCache
	maxBody     int64
	obs         Observer
}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL points the client at another host (the simulator, or a proxy).
func WithBaseURL(u string) Option { return func(c *Client) { c.base = strings.TrimRight(u, "/") } }

// WithHTTPClient replaces the HTTP client (default: 10 s timeout).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// DefaultCodeTimeout bounds a code call (wxa/getwxacodeunlimit). It is
// longer than other calls' because giving up on a code call WeChat goes on
// to answer pays for the same code again on the retry: quota is money.
const DefaultCodeTimeout = 60 * time.Second

// WithCodeTimeout sets how long a code call may take (default
// DefaultCodeTimeout; the HTTP client's timeout if that is longer or none).
func WithCodeTimeout(d time.Duration) Option { return func(c *Client) { c.codeTimeout = d } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithTokenOptions configures the token store.
func WithTokenOptions(opts ...TokenOption) Option {
	return func(c *Client) { c.tokens.opts = append(c.tokens.opts, opts...) }
}

// New returns a client whose access_tokens are shared through rdb by every
// process using the same Redis.
func New(rdb redis.UniversalClient, opts ...Option) *Client {
	c := &Client{
		base:    DefaultBaseURL,
		http:    &http.Client{Timeout: 10 * time.Second},
		log:     slog.Default(),
		maxBody: 4 << 20,
		rdb:     rdb,
		tokens:  &TokenStore{},

		codeTimeout: DefaultCodeTimeout,
	}
	for _, o := range opts {
		o(c)
	}
	c.codeHTTP = c.http
	if t := c.http.Timeout; t > 0 && t < c.codeTimeout {
		hc := *c.http // same transport, longer timeout
		hc.Timeout = c.codeTimeout
		c.codeHTTP = &hc
	}
	c.tokens.init(c)
	c.tickets = newCredCache("jsapi_ticket", rdb, c.fetchTicket, c.log)
	c.tickets.prefix, c.tickets.lockTTL, c.tickets.maxWait = c.tokens.cache.prefix, c.tokens.cache.lockTTL, c.tokens.cache.maxWait
	return c
}

// Tokens is the client's access_token store.
func (c *Client) Tokens() *TokenStore { return c.tokens }

// response is a raw WeChat answer.
type response struct {
	status      int
	contentType string
	body        []byte
}

// errcode returns the errcode answer in r, if r is one. WeChat answers
// errors with HTTP 200, and its Content-Type varies ("application/json;
// encoding=utf-8", "text/plain"), so the body decides: a JSON object with a
// non-zero errcode.
func (r *response) errcode(api string) *Error {
	b := bytes.TrimSpace(r.body)
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	var e struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if json.Unmarshal(b, &e) != nil || e.ErrCode == nil || *e.ErrCode == 0 {
		return nil
	}
	return &Error{API: api, Code: *e.ErrCode, Message: e.ErrMsg}
}

// mediaType is the response's MIME type without parameters.
func (r *response) mediaType() string {
	mt, _, err := mime.ParseMediaType(r.contentType)
	if err != nil {
		return ""
	}
	return mt
}

// do sends one request. Errors never carry the URL's secrets.
func (c *Client) do(ctx context.Context, method, api string, query url.Values, body []byte) (r *response, err error) {
	return c.doWith(ctx, c.http, method, api, query, body)
}

// doWith sends one request with hc.
func (c *Client) doWith(ctx context.Context, hc *http.Client, method, api string, query url.Values, body []byte) (r *response, err error) {
	began := time.Now()
	defer func() { c.observeCall(api, began, r, err) }()
	u := c.base + "/" + api
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("wechat %s: build request: %w", api, redactErr(err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("wechat %s: %w", api, redactErr(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("wechat %s: read body: %w", api, redactErr(err))
	}
	c.log.DebugContext(ctx, "wechat call", "method", method, "url", RedactURL(u),
		"status", resp.StatusCode, "bytes", len(data), "took", time.Since(start))
	if int64(len(data)) > c.maxBody {
		return nil, fmt.Errorf("wechat %s: body over %d bytes: %w", api, c.maxBody, ErrUnexpectedPayload)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{API: api, Status: resp.StatusCode}
	}
	return &response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: data}, nil
}

// callWithToken sends an API call that takes ?access_token=. On a token
// errcode it invalidates the cached token (only if it is still the one that
// failed, so a token another worker just fetched survives), gets a fresh one
// and sends the same body once more. hc sends the call (the token fetch
// uses the client's own).
func (c *Client) callWithToken(ctx context.Context, hc *http.Client, app App, method, api string, query url.Values, body []byte) (*response, error) {
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		tok, err := c.tokens.Token(ctx, app)
		if err != nil {
			return nil, err
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("access_token", tok)
		resp, err := c.doWith(ctx, hc, method, api, q, body)
		if err != nil {
			return nil, err
		}
		we := resp.errcode(api)
		if we == nil || !IsTokenError(we.Code) {
			return resp, nil
		}
		lastErr = we
		c.log.WarnContext(ctx, "wechat rejected access_token; refreshing", "app", app.AppID, "api", api, "errcode", we.Code)
		if err := c.tokens.Invalidate(ctx, app, tok); err != nil {
			return nil, err
		}
	}
	return nil, lastErr
}

// redactErr removes query strings (access_token, secret) from *url.Error.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = RedactURL(ue.URL)
	}
	return err
}

// secretParams are query parameters whose values are never logged.
var secretParams = []string{"access_token", "secret", "js_code", "session_key", "ticket", "jsapi_ticket"}

// RedactURL replaces the values of secret query parameters with "REDACTED".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparseable url]"
	}
	q := u.Query()
	changed := false
	for _, p := range secretParams {
		if q.Has(p) {
			q.Set(p, "REDACTED")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
