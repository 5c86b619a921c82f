package imagesrc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeResolver answers from a fixed table and counts lookups.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][]netip.Addr
	lookups map[string]int
}

func newFakeResolver(answers map[string]string) *fakeResolver {
	r := &fakeResolver{answers: map[string][]netip.Addr{}, lookups: map[string]int{}}
	for host, addrs := range answers {
		for _, a := range strings.Split(addrs, ",") {
			r.answers[host] = append(r.answers[host], netip.MustParseAddr(a))
		}
	}
	return r
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups[host]++
	if a, ok := r.answers[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (r *fakeResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups[host]
}

// ssrfServer is an image server on 127.0.0.1 that counts requests and can
// redirect anywhere: GET /redirect?to=<url>.
type ssrfServer struct {
	*httptest.Server
	port     string
	requests atomic.Int64
	hosts    sync.Map // Host headers seen
}

func newSSRFServer(t *testing.T) *ssrfServer {
	t.Helper()
	s := &ssrfServer{}
	png := avatarPNG(t, 64, 64)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.hosts.Store(r.Host, true)
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(png)
	}))
	t.Cleanup(s.Close)
	_, s.port, _ = net.SplitHostPort(s.Listener.Addr().String())
	return s
}

// TestSSRF is the acceptance table: every private, loopback and
// link-local target is refused even when its host is on the allow-list, so
// the refusal comes from the address policy, and no request reaches the
// server.
func TestSSRF(t *testing.T) {
	srv := newSSRFServer(t)
	p := srv.port
	res := newFakeResolver(map[string]string{
		"loopback.test": "127.0.0.1",
		"mixed.test":    "93.184.216.34,10.1.2.3", // one bad answer spoils the name
		"metadata.test": "169.254.169.254",
		"mapped.test":   "::ffff:192.168.1.1",
		"nat64.test":    "64:ff9b::a9fe:a9fe", // NAT64 form of 169.254.169.254
		"avatar.test":   "127.0.0.1",
		"rebind.test":   "127.0.0.2",
	})
	hosts := []string{
		"127.0.0.1:" + p, "10.0.0.1", "169.254.169.254", "[::1]:" + p, "100.64.0.1",
		"0.0.0.0:" + p, "[::ffff:127.0.0.1]:" + p, "[::ffff:7f00:1]:" + p, "[fe80::1]", "[fd00::1]",
		"localhost:" + p, "loopback.test:" + p, "mixed.test", "metadata.test", "mapped.test", "nat64.test",
		"avatar.test:" + p, "rebind.test:" + p, "127.0.0.2:" + p, "172.16.5.4", "192.168.0.1", "[::]:" + p,
	}
	// def is the default policy with every test host allowed; onlyAvatar
	// also reaches 127.0.0.1 (the test server, as avatar.test) and nothing
	// else private.
	def := NewFetcher(WithAllowedHosts(hosts...), WithResolver(res), WithTimeout(2*time.Second))
	onlyAvatar := NewFetcher(WithAllowedHosts(hosts...), WithResolver(res), WithTimeout(2*time.Second),
		WithAllowPrivate(netip.MustParsePrefix("127.0.0.1/32")))
	localhost := NewFetcher(WithAllowedHosts(hosts...), WithTimeout(2*time.Second)) // system resolver

	redirect := func(to string) string {
		return "http://avatar.test:" + p + "/redirect?to=" + url.QueryEscape(to) + "&" + secret
	}
	tests := []struct {
		name   string
		f      *Fetcher
		url    string
		errHas string
	}{
		{"loopback", def, "http://127.0.0.1:" + p + "/a.png?" + secret, "127.0.0.1 is a loopback address"},
		{"private 10/8", def, "http://10.0.0.1/a.png?" + secret, "10.0.0.1 is a private address"},
		{"private 172.16/12", def, "http://172.16.5.4/a.png", "private address"},
		{"private 192.168/16", def, "http://192.168.0.1/a.png", "private address"},
		{"cloud metadata", def, "http://169.254.169.254/latest/meta-data/?" + secret, "169.254.169.254 is a link-local address"},
		{"IPv6 loopback", def, "http://[::1]:" + p + "/a.png?" + secret, "::1 is a loopback address"},
		{"IPv6 unspecified", def, "http://[::]:" + p + "/a.png", "unspecified"},
		{"IPv6 link-local", def, "http://[fe80::1]/a.png", "link-local"},
		{"IPv6 unique local", def, "http://[fd00::1]/a.png", "private"},
		{"CGNAT", def, "http://100.64.0.1/a.png", "100.64.0.1 is a shared (CGNAT) address"},
		{"unspecified", def, "http://0.0.0.0:" + p + "/a.png", "0.0.0.0 is a this-network address"},
		{"IPv4-mapped loopback", def, "http://[::ffff:127.0.0.1]:" + p + "/a.png", "loopback"},
		{"IPv4-mapped loopback, hex", def, "http://[::ffff:7f00:1]:" + p + "/a.png", "loopback"},
		{"localhost, system resolver", localhost, "http://localhost:" + p + "/a.png?" + secret, "localhost resolves to"},
		{"name resolving to loopback", def, "http://loopback.test:" + p + "/a.png?" + secret, "loopback.test resolves to 127.0.0.1, a loopback address"},
		{"name with one private answer", def, "http://mixed.test/a.png", "mixed.test resolves to 10.1.2.3, a private address"},
		{"name resolving to metadata", def, "http://metadata.test/latest/meta-data/", "link-local"},
		{"name resolving to IPv4-mapped private", def, "http://mapped.test/a.png", "private"},
		{"name resolving to NAT64 metadata", def, "http://nat64.test/a.png", "link-local (NAT64 of 169.254.169.254)"},
		{"allowed loopback address is only that one", onlyAvatar, "http://127.0.0.2:" + p + "/a.png", "127.0.0.2 is a loopback address"},
		{"redirect to metadata", onlyAvatar, redirect("http://169.254.169.254/latest/meta-data/"), "169.254.169.254 is a link-local address"},
		{"redirect to private", onlyAvatar, redirect("http://10.0.0.1/a.png"), "10.0.0.1 is a private address"},
		{"redirect to a name resolving to loopback", onlyAvatar, redirect("http://rebind.test:" + p + "/a.png?" + secret), "rebind.test resolves to 127.0.0.2"},
		{"redirect to IPv6 loopback", onlyAvatar, redirect("http://[::1]:" + p + "/a.png"), "loopback"},
		{"redirect to file", onlyAvatar, redirect("file:///etc/passwd"), `scheme "file"`},
		{"file", def, "file:///etc/passwd", `scheme "file"`},
		{"ftp", def, "ftp://10.0.0.1/a.png", `scheme "ftp"`},
		{"gopher", def, "gopher://127.0.0.1:" + p + "/_GET", `scheme "gopher"`},
		{"data", def, "data:image/png;base64,iVBORw0KGgo=", `scheme "data"`},
	}
	before := srv.requests.Load()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := tt.f.Fetch(context.Background(), tt.url)
			if err == nil {
				t.Fatalf("Fetch succeeded (%v), want a refusal", img.Bounds())
			}
			if !errors.Is(err, ErrFetchRefused) {
				t.Errorf("error does not wrap ErrFetchRefused: %v", err)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q does not contain %q", err, tt.errHas)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error leaks the query: %v", err)
			}
		})
	}
	// The redirect cases each reached the allowed server once; nothing else
	// got through.
	if got, want := srv.requests.Load()-before, int64(5); got != want {
		t.Errorf("server saw %d requests, want %d (the 5 redirects)", got, want)
	}

	// The allowed path: avatar.test resolves (once) through the configured
	// resolver to 127.0.0.1, which is explicitly allowed, and the request
	// keeps its host name.
	img, err := onlyAvatar.Fetch(context.Background(), "http://avatar.test:"+p+"/a.png")
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 64 {
		t.Errorf("bounds = %v", img.Bounds())
	}
	if _, ok := srv.hosts.Load("avatar.test:" + p); !ok {
		t.Error("the request did not carry Host: avatar.test")
	}
	if res.count("avatar.test") == 0 {
		t.Error("the Fetcher did not use the configured resolver")
	}
}

// TestSSRFRedirectWithinPolicy: a redirect to an allowed, reachable address
// is followed; the policy is per connection, not a blanket refusal.
func TestSSRFRedirectWithinPolicy(t *testing.T) {
	srv := newSSRFServer(t)
	res := newFakeResolver(map[string]string{"other.test": "127.0.0.1"})
	f := NewFetcher(WithAllowedHosts("127.0.0.1:"+srv.port, "other.test:"+srv.port), WithResolver(res), loopbackOK)
	img, err := f.Fetch(context.Background(), srv.URL+"/r?to="+url.QueryEscape("http://other.test:"+srv.port+"/a.png"))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 64 {
		t.Errorf("bounds = %v", img.Bounds())
	}
	if _, ok := srv.hosts.Load("other.test:" + srv.port); !ok || srv.requests.Load() != 2 {
		t.Errorf("the redirect was not followed to other.test (%d requests)", srv.requests.Load())
	}
}

func TestSSRFAllowPrivate(t *testing.T) {
	p := ipPolicy{allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"10.1.2.3", true},
		{"::ffff:10.1.2.3", true},
		{"11.0.0.1", true},
		{"127.0.0.1", false},
		{"169.254.169.254", false},
		{"192.168.1.1", false},
	} {
		if got := p.check(netip.MustParseAddr(tt.addr)) == nil; got != tt.ok {
			t.Errorf("check(%s) ok = %v, want %v", tt.addr, got, tt.ok)
		}
	}
}

func TestSSRFClassify(t *testing.T) {
	tests := []struct {
		addr string
		want string // "" = public
	}{
		{"8.8.8.8", ""},
		{"93.184.216.34", ""},
		{"1.1.1.1", ""},
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"0.0.0.0", "this-network"},
		{"0.1.2.3", "this-network"},
		{"10.255.255.255", "private"},
		{"100.64.0.1", "shared (CGNAT)"},
		{"100.127.255.255", "shared (CGNAT)"},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"169.254.169.254", "link-local"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.0.0.170", "IETF protocol"},
		{"192.168.255.255", "private"},
		{"198.18.0.1", "benchmarking"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "reserved"},
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:169.254.169.254", "link-local"},
		{"::ffff:8.8.8.8", ""},
		{"2606:4700:4700::1111", ""},
		{"2001:4860:4860::8888", ""},
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"::127.0.0.1", "non-global IPv6"}, // IPv4-compatible, deprecated
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"fc00::1", "private"},
		{"fd12:3456::1", "private"},
		{"fec0::1", "non-global IPv6"},
		{"ff02::1", "multicast"},
		{"100::1", "non-global IPv6"},
		{"64:ff9b::808:808", ""},
		{"64:ff9b::7f00:1", "loopback (NAT64 of 127.0.0.1)"},
		{"2002:a00:1::", "private (6to4 of 10.0.0.1)"},
		{"2002:808:808::", ""},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"},
		{"2001:db8::1", "documentation"},
	}
	for _, tt := range tests {
		if got := classify(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("classify(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// TestSSRFControl: the socket-level hook refuses on its own, in case a
// connection is ever made around the resolving dialer.
func TestSSRFControl(t *testing.T) {
	d := newGuardedDialer(net.DefaultResolver, &ipPolicy{}, time.Second)
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:80", false},
		{"[::1]:443", false},
		{"169.254.169.254:80", false},
		{"8.8.8.8:443", true},
		{"not an address", false},
	} {
		err := d.control("tcp", tt.addr, nil)
		if (err == nil) != tt.ok {
			t.Errorf("control(%s) = %v, want ok %v", tt.addr, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrFetchRefused) {
			t.Errorf("control(%s) error does not wrap ErrFetchRefused: %v", tt.addr, err)
		}
	}
}

// TestSSRFCallerTransport: a caller's *http.Transport is cloned with the
// guarded dialer; its own dialer and proxy are not used.
func TestSSRFCallerTransport(t *testing.T) {
	srv := newSSRFServer(t)
	var dialled atomic.Bool
	tr := &http.Transport{
		Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: "127.0.0.1:" + srv.port}),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialled.Store(true)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	f := NewFetcher(WithHTTPClient(&http.Client{Transport: tr}), WithAllowedHosts("localhost:"+srv.port))
	_, err := f.Fetch(context.Background(), "http://localhost:"+srv.port+"/a.png")
	if !errors.Is(err, ErrFetchRefused) {
		t.Errorf("got %v, want a refusal", err)
	}
	if dialled.Load() || srv.requests.Load() != 0 {
		t.Error("the caller's dialer or proxy was used")
	}
}

// TestSSRFBombThroughFetcher: a 50000×50000 PNG header is refused from
// its header, before any pixel is decoded.
func TestSSRFBombThroughFetcher(t *testing.T) {
	bomb := pngHeader(50000, 50000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(bomb) }))
	defer srv.Close()
	f := NewFetcher(WithAllowedHosts(strings.TrimPrefix(srv.URL, "http://")), loopbackOK)
	_, err := f.Fetch(context.Background(), srv.URL+"/bomb.png")
	if !errors.Is(err, ErrTooManyPixels) || !strings.Contains(err.Error(), "50000x50000") {
		t.Errorf("got %v, want ErrTooManyPixels naming 50000x50000", err)
	}
}

func ExampleWithAllowPrivate() {
	// Images may come from an internal host on 10.20.0.0/16, and nowhere
	// else private.
	f := NewFetcher(
		WithAllowedHosts("images.internal.example"),
		WithAllowPrivate(netip.MustParsePrefix("10.20.0.0/16")),
	)
	_, err := f.Fetch(context.Background(), "http://169.254.169.254/latest/meta-data/")
	fmt.Println(errors.Is(err, ErrFetchRefused))
	// Output: true
}
