package imagesrc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Resolver looks up the IP addresses of a host name. *net.Resolver
// implements it; tests substitute their own to simulate DNS answers.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// deniedRange is an address range a Fetcher never connects to.
type deniedRange struct {
	prefix netip.Prefix
	what   string
}

func denied(prefix, what string) deniedRange {
	return deniedRange{netip.MustParsePrefix(prefix), what}
}

// deniedV4 are the IPv4 ranges that are not publicly routable (RFC 6890 and
// its updates). 127/8, 10/8, 172.16/12, 192.168/16, 169.254/16 and 100.64/10
// are the ones that matter for SSRF; the rest are here because nothing
// legitimate serves avatars from them.
var deniedV4 = []deniedRange{
	denied("0.0.0.0/8", "this-network"),
	denied("10.0.0.0/8", "private"),
	denied("100.64.0.0/10", "shared (CGNAT)"),
	denied("127.0.0.0/8", "loopback"),
	denied("169.254.0.0/16", "link-local"),
	denied("172.16.0.0/12", "private"),
	denied("192.0.0.0/24", "IETF protocol"),
	denied("192.0.2.0/24", "documentation"),
	denied("192.88.99.0/24", "6to4 relay"),
	denied("192.168.0.0/16", "private"),
	denied("198.18.0.0/15", "benchmarking"),
	denied("198.51.100.0/24", "documentation"),
	denied("203.0.113.0/24", "documentation"),
	denied("224.0.0.0/4", "multicast"),
	denied("240.0.0.0/4", "reserved"), // includes 255.255.255.255
}

// IPv6: only global unicast (2000::/3) is allowed, which already excludes
// ::, ::1, ::/96, fc00::/7, fe80::/10, fec0::/10 and ff00::/8. Inside it,
// these are refused; 6to4 and NAT64 addresses are judged by the IPv4
// address they embed.
var (
	globalV6 = netip.MustParsePrefix("2000::/3")
	deniedV6 = []deniedRange{
		denied("2001::/32", "Teredo"),
		denied("2001:2::/48", "benchmarking"),
		denied("2001:10::/28", "ORCHID"),
		denied("2001:20::/28", "ORCHIDv2"),
		denied("2001:db8::/32", "documentation"),
		denied("3fff::/20", "documentation"),
	}
	sixToFour = netip.MustParsePrefix("2002::/16")
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
)

// ipPolicy decides which addresses a Fetcher may connect to: public ones,
// plus whatever the allow list names explicitly.
type ipPolicy struct {
	allow []netip.Prefix
}

// deny returns "" if addr may be connected to, or else what kind of
// address it is ("loopback", "private", …).
func (p *ipPolicy) deny(addr netip.Addr) string {
	addr = addr.WithZone("")
	for _, pre := range p.allow {
		if pre.Contains(addr) || pre.Contains(addr.Unmap()) {
			return ""
		}
	}
	return classify(addr)
}

// check is deny as an error wrapping ErrFetchRefused.
func (p *ipPolicy) check(addr netip.Addr) error {
	if what := p.deny(addr); what != "" {
		return fmt.Errorf("%w: %s is a%s %s address", ErrFetchRefused, addr, an(what), what)
	}
	return nil
}

// an is the article for what.
func an(what string) string {
	if strings.ContainsRune("aeiouAEIOU", rune(what[0])) {
		return "n"
	}
	return ""
}

// classify returns "" for a public address, else the kind of address it is.
func classify(addr netip.Addr) string {
	if !addr.IsValid() {
		return "invalid"
	}
	addr = addr.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	if addr.Is4() {
		for _, d := range deniedV4 {
			if d.prefix.Contains(addr) {
				return d.what
			}
		}
		return ""
	}
	b := addr.As16()
	switch {
	case nat64.Contains(addr):
		return embedded(netip.AddrFrom4([4]byte(b[12:16])), "NAT64")
	case sixToFour.Contains(addr):
		return embedded(netip.AddrFrom4([4]byte(b[2:6])), "6to4")
	case addr.IsLoopback():
		return "loopback"
	case addr.IsUnspecified():
		return "unspecified"
	case addr.IsLinkLocalUnicast():
		return "link-local"
	case addr.IsPrivate():
		return "private"
	case addr.IsMulticast():
		return "multicast"
	case !globalV6.Contains(addr):
		return "non-global IPv6"
	}
	for _, d := range deniedV6 {
		if d.prefix.Contains(addr) {
			return d.what
		}
	}
	return ""
}

func embedded(v4 netip.Addr, via string) string {
	if what := classify(v4); what != "" {
		return what + " (" + via + " of " + v4.String() + ")"
	}
	return ""
}

// guardedDialer resolves a host itself, checks every address it resolves
// to, and connects to a checked address, so a second DNS answer (rebinding)
// cannot slip a private address in between check and connect. The
// net.Dialer's Control hook checks the address of each socket once more
// right before connect(2).
type guardedDialer struct {
	resolver Resolver
	policy   *ipPolicy
	dialer   net.Dialer
}

func newGuardedDialer(r Resolver, p *ipPolicy, timeout time.Duration) *guardedDialer {
	d := &guardedDialer{resolver: r, policy: p}
	d.dialer = net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: d.control}
	return d
}

// DialContext has the signature of http.Transport.DialContext.
func (d *guardedDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("%w: bad address: %v", ErrFetchRefused, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("%w: bad port %q", ErrFetchRefused, portStr)
	}
	addrs, err := d.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	// Every answer must pass: a name that resolves to a public and a private
	// address is refused, not half-trusted.
	for _, a := range addrs {
		if what := d.policy.deny(a); what != "" {
			if a.String() == host {
				return nil, fmt.Errorf("%w: %s is a%s %s address", ErrFetchRefused, a, an(what), what)
			}
			return nil, fmt.Errorf("%w: %s resolves to %s, a%s %s address", ErrFetchRefused, host, a, an(what), what)
		}
	}
	var errs []error
	for _, a := range addrs {
		if network == "tcp4" && !a.Unmap().Is4() || network == "tcp6" && a.Unmap().Is4() {
			continue
		}
		conn, err := d.dialer.DialContext(ctx, network, netip.AddrPortFrom(a.Unmap(), uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("dial %s: no %s address", host, network)
	}
	return nil, errors.Join(errs...)
}

func (d *guardedDialer) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := d.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	return addrs, nil
}

// control runs on every socket before it connects: the last line of
// defence, should a connection ever be dialled around DialContext.
func (d *guardedDialer) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot check address %q", ErrFetchRefused, address)
	}
	return d.policy.check(ap.Addr())
}
