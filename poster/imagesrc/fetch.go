package imagesrc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Fetcher defaults.
const (
	defaultFetchMaxBytes = 5 << 20
	defaultFetchTimeout  = 5 * time.Second
	maxRedirects         = 3
	dialTimeout          = 3 * time.Second
)

// defaultAllowedHosts are the WeChat avatar hosts a Fetcher accepts by default.
var defaultAllowedHosts = []string{"thirdwx.qlogo.cn", "wx.qlogo.cn"}

// ErrFetchRefused wraps every refusal by policy (scheme, host, address,
// size, redirect), as opposed to a network failure that may be worth
// retrying.
var ErrFetchRefused = errors.New("refused")

// FetchOption configures a Fetcher.
type FetchOption func(*Fetcher)

// WithAllowedHosts replaces the allowed hosts: exact names, case-insensitive,
// either "host" (default port of the scheme only) or "host:port"; IPv6
// literals as "[::1]" or "[::1]:8080". Being allowed does not exempt a host
// from the address policy (see Fetcher).
func WithAllowedHosts(hosts ...string) FetchOption {
	return func(f *Fetcher) {
		f.allowed = make(map[string]bool, len(hosts))
		for _, h := range hosts {
			h = strings.ToLower(strings.TrimSpace(h))
			if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
				h = h[1 : len(h)-1] // a bare IPv6 literal, as url.URL.Hostname gives it
			}
			f.allowed[h] = true
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
// own redirect policy on the copy and leaves c untouched. If c.Transport is
// nil or an *http.Transport, the Fetcher uses a clone of it whose dialer
// enforces the address policy and which ignores proxies. Any other
// RoundTripper is used as it is, and then the address policy is its
// business: only do that in tests.
func WithHTTPClient(c *http.Client) FetchOption { return func(f *Fetcher) { f.client = c } }

// WithAllowPrivate lets the Fetcher connect to addresses in prefixes even
// though they are loopback, private, link-local or otherwise non-public:
// for tests (httptest servers listen on 127.0.0.1) and for deployments whose
// image hosts live on an internal network. The host allow-list still
// applies. By default no such address is reachable. Repeated uses add up.
func WithAllowPrivate(prefixes ...netip.Prefix) FetchOption {
	return func(f *Fetcher) {
		for _, p := range prefixes {
			f.ips.allow = append(f.ips.allow, p.Masked())
		}
	}
}

// WithResolver sets how host names are resolved (default
// net.DefaultResolver). Every address the resolver returns is checked.
func WithResolver(r Resolver) FetchOption { return func(f *Fetcher) { f.resolver = r } }

// Fetcher downloads remote images, such as avatars, under a strict policy:
//
//   - http and https only, no credentials in the URL;
//   - allowed hosts only, redirects included (at most 3);
//   - public addresses only: the Fetcher resolves names itself and refuses
//     to connect if any address is loopback, private (RFC 1918, fc00::/7),
//     link-local (169.254/16, fe80::/10, cloud metadata), CGNAT
//     (100.64/10), unspecified, multicast or reserved, IPv4-mapped and
//     NAT64/6to4 forms included. The check runs on every connection, so on
//     every redirect, and it connects to the very address it checked, so DNS
//     rebinding cannot get around it. Proxies from the environment are not
//     used. WithAllowPrivate makes exceptions;
//   - a bounded body, a bounded number of pixels (checked from the header,
//     before decoding) and a time limit.
//
// Errors name the URL without its query, which may carry tokens. Refusals
// by policy wrap ErrFetchRefused. A Fetcher is safe for concurrent use.
type Fetcher struct {
	allowed   map[string]bool
	ips       ipPolicy
	resolver  Resolver
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
	if f.resolver == nil {
		f.resolver = net.DefaultResolver
	}
	var c http.Client
	if f.client != nil {
		c = *f.client
	}
	c.CheckRedirect = f.checkRedirect
	c.Transport = f.transport(c.Transport)
	f.client = &c
	return f
}

// transport returns the RoundTripper to use given the caller's (nil for
// none): an *http.Transport dialling through the address policy.
func (f *Fetcher) transport(rt http.RoundTripper) http.RoundTripper {
	var t *http.Transport
	switch rt := rt.(type) {
	case nil:
		t = &http.Transport{
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           64,
			MaxIdleConnsPerHost:    16, // avatars mostly come from one or two hosts
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    5 * time.Second,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		}
	case *http.Transport:
		t = rt.Clone()
	default:
		return rt
	}
	d := newGuardedDialer(f.resolver, &f.ips, dialTimeout)
	t.Proxy = nil // a proxy would be the address checked, not the image host
	t.DialContext = d.DialContext
	// TLS is done by the Transport over the guarded connection; a TLS dial
	// hook of the caller's would bypass it (DialContext already takes
	// precedence over the deprecated Dial).
	t.DialTLS = nil
	t.DialTLSContext = nil
	return t
}

// Fetch downloads and decodes the image at rawURL.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (image.Image, error) {
	data, err := f.FetchBytes(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	img, _, err := Decode(data, f.maxPixels)
	if err != nil {
		return nil, fmt.Errorf("poster: fetch %s: %w", redactRaw(rawURL), err)
	}
	return img, nil
}

// FetchBytes downloads the body at rawURL under the Fetcher's policy
// without decoding it.
func (f *Fetcher) FetchBytes(ctx context.Context, rawURL string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("poster: fetch: %w", err)
	}
	u, err := f.check(rawURL)
	if err != nil {
		return nil, err
	}
	safe := redact(u)

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
	return data, nil
}

// check parses rawURL and applies the scheme, host and (for IP literals)
// address policy, the part of the policy that needs no network.
func (f *Fetcher) check(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// URL.Error quotes the whole URL, query included: don't pass it on.
		return nil, fmt.Errorf("poster: fetch: %w: malformed URL", ErrFetchRefused)
	}
	if err := f.allow(u); err != nil {
		return nil, fmt.Errorf("poster: fetch %s: %w", redact(u), err)
	}
	return u, nil
}

// allow checks the scheme and host of u against the policy, and the address
// if the host is an IP literal.
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
	if !f.allowed[net.JoinHostPort(host, cmp.Or(port, defPort))] &&
		!((port == "" || port == defPort) && f.allowed[host]) {
		return fmt.Errorf("%w: host %q is not allowed", ErrFetchRefused, u.Host)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return f.ips.check(ip)
	}
	return nil
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

// redactRaw is redact for a URL string; an unparsable one is not shown.
func redactRaw(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(malformed URL)"
	}
	return redact(u)
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
