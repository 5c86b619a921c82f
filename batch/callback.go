package batch

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
)

// TypeCallback is the task that delivers one completion's callback.
const TypeCallback = "batch:callback"

// SignatureHeader carries the callback's signature:
// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">.
const SignatureHeader = "X-Wxposter-Signature"

// EventCompleted is the callback's event.
const EventCompleted = "batch.completed"

// CallbackWindow is how long a callback is retried before it is given up.
const CallbackWindow = 24 * time.Hour

// Event is the callback's body.
type Event struct {
	Event      string `json:"event"`
	DeliveryID string `json:"delivery_id"`
	Batch      *View  `json:"batch"`
}

type callbackPayload struct {
	URL        string          `json:"url"`
	DeliveryID string          `json:"delivery_id"`
	Body       json.RawMessage `json:"body"`
	Created    int64           `json:"created"` // unix ms of the completion
}

// Sign returns the signature header value for body at time t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a signature header against body, accepting timestamps at
// most tolerance away from now (receivers should do the same).
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, v1 string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || v1 == "" {
		return errors.New("batch: malformed signature header")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("batch: signature timestamp out of tolerance")
	}
	got, err := hex.DecodeString(v1)
	if err != nil || !hmac.Equal(got, mac(secret, ts, body)) {
		return errors.New("batch: signature does not match")
	}
	return nil
}

// DeliveryID is the id of completion epoch of batch id: the same on every
// retry of that delivery, so receivers can dedupe.
func DeliveryID(id string, epoch int64) string { return id + "-" + strconv.FormatInt(epoch, 10) }

// enqueueCallback enqueues the delivery of completion epoch of batch id,
// with the batch as it is now in the body.
func (s *Store) enqueueCallback(ctx context.Context, id string, epoch int64) error {
	u, err := s.callbackURL(ctx, id)
	if err != nil {
		return fmt.Errorf("batch %s: callback url: %w", id, err)
	}
	if u == "" {
		return nil
	}
	v, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	did := DeliveryID(id, epoch)
	body, _ := json.Marshal(Event{Event: EventCompleted, DeliveryID: did, Batch: v})
	created := s.clock().UnixMilli()
	if v.FinishedAt != nil {
		created = v.FinishedAt.UnixMilli()
	}
	p, _ := json.Marshal(callbackPayload{URL: u, DeliveryID: did, Body: body, Created: created})
	_, err = s.client.EnqueueContext(ctx, asynq.NewTask(TypeCallback, p),
		asynq.Queue(s.queue), asynq.TaskID("batch-callback-"+did),
		asynq.MaxRetry(500), asynq.Timeout(30*time.Second), asynq.Retention(CallbackWindow))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("batch %s: enqueue callback: %w", id, err)
	}
	if err == nil {
		s.log.InfoContext(ctx, "batch ended; callback queued", "batch", id, "delivery", did)
	}
	return nil
}

// Hosts is the callback allow list (WXPOSTER_CALLBACK_HOSTS): "host" (any
// port) or "host:port" entries. A URL must name a listed host; at dial time
// the address connected to must be public, unless the list names that very
// IP address (or "localhost", for loopback).
type Hosts struct {
	names   map[string]bool // "host" and "host:port", lower case
	private map[netip.Addr]bool
	local   bool // "localhost" listed: loopback allowed
}

// ParseHosts reads the allow list.
func ParseHosts(entries []string) (*Hosts, error) {
	h := &Hosts{names: map[string]bool{}, private: map[netip.Addr]bool{}}
	for _, e := range entries {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		host := e
		if hh, port, err := net.SplitHostPort(e); err == nil {
			if _, err := strconv.ParseUint(port, 10, 16); err != nil {
				return nil, fmt.Errorf("%q: bad port", e)
			}
			host = hh
		} else if strings.Contains(e, "/") || strings.Count(e, ":") == 1 {
			return nil, fmt.Errorf("%q: must be host or host:port", e)
		}
		h.names[e] = true
		if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			h.private[a.Unmap()] = true
		}
		if host == "localhost" {
			h.local = true
		}
	}
	return h, nil
}

// Check returns why raw may not be called back, or "".
func (h *Hosts) Check(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "must be an absolute http(s) URL without credentials"
	}
	if h == nil || len(h.names) == 0 {
		return "is not allowed: no callback hosts are configured (WXPOSTER_CALLBACK_HOSTS)"
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if !h.names[host] && !h.names[net.JoinHostPort(host, port)] {
		return "host " + u.Host + " is not on the callback allow list (WXPOSTER_CALLBACK_HOSTS)"
	}
	return ""
}

// control refuses, at connect time, addresses that are not public unless
// listed: a listed name that resolves to a private address is refused.
func (h *Hosts) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("callback: cannot check address %q", address)
	}
	a := ap.Addr().Unmap()
	if public(a) || h.private[a] || (h.local && a.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("callback: %s is not a public address and not listed in WXPOSTER_CALLBACK_HOSTS", a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func public(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a)
}

// Deliverer runs TypeCallback tasks: it POSTs the event, signed, and
// succeeds on a 2xx; anything else is retried with backoff (see Backoff)
// for CallbackWindow.
type Deliverer struct {
	secret []byte
	client *http.Client
	log    *slog.Logger
	clock  func() time.Time
}

// NewDeliverer returns the callback handler. Connections go only to
// addresses hosts allows; redirects are not followed.
func NewDeliverer(secret string, hosts *Hosts, log *slog.Logger) *Deliverer {
	if log == nil {
		log = slog.Default()
	}
	if hosts == nil {
		hosts = &Hosts{}
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: hosts.control}
	tr := &http.Transport{
		Proxy: nil, DialContext: dialer.DialContext, ForceAttemptHTTP2: true,
		TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 20 * time.Second,
		MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second,
	}
	return &Deliverer{
		secret: []byte(secret), log: log, clock: time.Now,
		client: &http.Client{Transport: tr, Timeout: 25 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
}

// ProcessTask implements asynq.Handler.
func (d *Deliverer) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p callbackPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("batch: bad callback payload: %w", asynq.SkipRetry)
	}
	if len(d.secret) == 0 {
		return fmt.Errorf("batch: WXPOSTER_CALLBACK_SECRET is not set on this worker: %w", asynq.SkipRetry)
	}
	if age := d.clock().Sub(time.UnixMilli(p.Created)); age > CallbackWindow {
		d.log.WarnContext(ctx, "batch callback given up after 24 h", "delivery", p.DeliveryID)
		return fmt.Errorf("batch: callback %s not accepted within %s: %w", p.DeliveryID, CallbackWindow, asynq.SkipRetry)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		return fmt.Errorf("batch: callback request: %w", asynq.SkipRetry)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wxposter-callback/1")
	req.Header.Set(SignatureHeader, Sign(d.secret, d.clock(), p.Body))
	resp, err := d.client.Do(req)
	if err != nil {
		d.log.WarnContext(ctx, "batch callback failed; will retry", "delivery", p.DeliveryID, "err", redactURL(err, p.URL))
		return &callbackError{msg: "callback " + p.DeliveryID + ": " + redactURL(err, p.URL)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		d.log.WarnContext(ctx, "batch callback refused; will retry", "delivery", p.DeliveryID, "status", resp.StatusCode)
		return &callbackError{msg: fmt.Sprintf("callback %s: receiver answered %d", p.DeliveryID, resp.StatusCode)}
	}
	d.log.InfoContext(ctx, "batch callback delivered", "delivery", p.DeliveryID, "status", resp.StatusCode)
	return nil
}

// redactURL keeps the callback URL's query (which may hold a token) out of
// logs and errors.
func redactURL(err error, raw string) string {
	s := err.Error()
	if u, perr := url.Parse(raw); perr == nil && u.RawQuery != "" {
		s = strings.ReplaceAll(s, raw, u.Scheme+"://"+u.Host+u.Path+"?…")
		s = strings.ReplaceAll(s, u.RawQuery, "…")
	}
	return s
}

// callbackError is a failed delivery; it says when to try again.
type callbackError struct{ msg string }

func (e *callbackError) Error() string { return e.msg }

// Backoff is the delay before retry n+1 of a callback: 1 s doubling to
// 10 min, with jitter.
func (e *callbackError) Backoff(n int) time.Duration {
	d := min(time.Second<<min(n, 10), 10*time.Minute)
	return d + rand.N(d/4+1)
}
