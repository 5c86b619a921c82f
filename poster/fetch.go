package poster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Fetcher defaults.
const (
	defaultFetchMaxBytes = 5 << 20
	defaultFetchTimeout  = 5 * time.Second
	maxRedirects         = 3
)

// defaultAllowedHosts are the WeChat avatar hosts a Fetcher accepts by default.
var defaultAllowedHosts = []string{"thirdwx.qlogo.cn", "wx.qlogo.cn"}

// ErrFetchRefused wraps every refusal by policy (scheme, host, size, redirect),
// as opposed to a network failure that may be worth retrying.
var ErrFetchRefused = errors.New("refused")

// FetchOption configures a Fetcher.
type FetchOption func(*Fetcher)

// WithAllowedHosts replaces the allowed hosts: exact names, case-insensitive,
// either "host" (default port of the scheme only) or "host:port".
func WithAllowedHosts(hosts ...string) FetchOption {
	return func(f *Fetcher) {
		f.allowed = make(map[string]bool, len(hosts))
		for _, h := range hosts {
			f.allowed[strings.ToLower(strings.TrimSpace(h))] = true
		}
	}
}

// WithMaxBytes limits the size of a response body (default 5 MiB).
func WithMaxBytes(n int64) FetchOption { return func(f *Fetcher) { f.maxBytes = n } }

// WithMaxPixels limits the decoded size of an image (default 16 megapixels).
func WithMaxPixels(n int) FetchOption { return func(f *Fetcher) { f.maxPixels = n } }

// WithTimeout bounds a whole fetch, redirects and body included (default 5 s).
func WithTimeout(d time.Duration) FetchOption { return func(f *Fetcher) { f.timeout = d } }

// WithHTTPClient sets the client to use. It is copied: the Fetcher installs its
// own redirect policy on the copy and leaves c untouched.
func WithHTTPClient(c *http.Client) FetchOption { return func(f *Fetcher) { f.client = c } }

// Fetcher downloads remote images, such as avatars, under a strict policy:
// http(s) only, allowed hosts only (redirects included), bounded body, bounded
// pixels. It is safe for concurrent use.
//
// TODO: the host allow-list is the only SSRF defence for now; refusing private,
// loopback and link-local addresses at dial time comes in a later issue.
type Fetcher struct {
	allowed   map[string]bool
	maxBytes  int64
	maxPixels int
	timeout   time.Duration
	client    *http.Client
}

// NewFetcher returns a Fetcher with the defaults changed by opts.
func NewFetcher(opts ...FetchOption) *Fetcher {
	f := &Fetcher{
		maxBytes:  defaultFetchMaxBytes,
		maxPixels: defaultMaxPixels,
		timeout:   defaultFetchTimeout,
	}
	WithAllowedHosts(defaultAllowedHosts...)(f)
	for _, opt := range opts {
		opt(f)
	}
	if f.maxBytes <= 0 {
		f.maxBytes = defaultFetchMaxBytes
	}
	if f.maxPixels <= 0 {
		f.maxPixels = defaultMaxPixels
	}
	var c http.Client
	if f.client != nil {
		c = *f.client
	}
	c.CheckRedirect = f.checkRedirect
	f.client = &c
	return f
}

// Fetch downloads and decodes the image at rawURL.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (image.Image, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the whole URL, query included: don't pass it on.
		return nil, fmt.Errorf("poster: fetch: %w: malformed URL", ErrFetchRefused)
	}
	safe := redact(u)
	if err := f.allow(u); err != nil {
		return nil, fmt.Errorf("poster: fetch %s: %w", safe, err)
	}

	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("poster: fetch %s: %w", safe, unwrapURLError(err))
	}
	req.Header.Set("Accept", "image/*")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("poster: fetch %s: %w", safe, unwrapURLError(err))
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("poster: fetch %s: unexpected status %s", safe, resp.Status)
	}
	if resp.ContentLength > f.maxBytes {
		return nil, fmt.Errorf("poster: fetch %s: %w: body of %d bytes exceeds the limit of %d bytes",
			safe, ErrFetchRefused, resp.ContentLength, f.maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("poster: fetch %s: read body: %w", safe, unwrapURLError(err))
	}
	if int64(len(data)) > f.maxBytes {
		return nil, fmt.Errorf("poster: fetch %s: %w: body exceeds the limit of %d bytes", safe, ErrFetchRefused, f.maxBytes)
	}
	img, _, err := Decode(data, f.maxPixels)
	if err != nil {
		return nil, fmt.Errorf("poster: fetch %s: %w", safe, err)
	}
	return img, nil
}

// allow checks the scheme and host of u against the policy.
func (f *Fetcher) allow(u *url.URL) error {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return fmt.Errorf("%w: scheme %q is not http or https", ErrFetchRefused, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: the URL carries credentials", ErrFetchRefused)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return fmt.Errorf("%w: URL has no host", ErrFetchRefused)
	}
	port := u.Port()
	defPort := map[string]string{"http": "80", "https": "443"}[scheme]
	if f.allowed[net.JoinHostPort(host, cmp.Or(port, defPort))] ||
		((port == "" || port == defPort) && f.allowed[host]) {
		return nil
	}
	return fmt.Errorf("%w: host %q is not allowed", ErrFetchRefused, u.Host)
}

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrFetchRefused, maxRedirects)
	}
	if err := f.allow(req.URL); err != nil {
		return fmt.Errorf("redirect to %s: %w", redact(req.URL), err)
	}
	return nil
}

// redact renders u as scheme://host/path: the query and fragment may carry
// tokens and the user info a password, so they never reach errors or logs.
func redact(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// unwrapURLError drops the *url.Error layer of an http.Client error, whose
// message quotes the full URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
