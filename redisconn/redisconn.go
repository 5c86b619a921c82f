// Package redisconn turns WXPOSTER_REDIS_URL into the one Redis connection
// option that asynq, asynqmon and every go-redis client of wxposter share:
// a single server, a master found through Sentinel, or a Redis Cluster.
//
//	redis://[user:password@]host:port[/db]       (rediss:// for TLS; go-redis's query options)
//	redis+sentinel://[user:password@]host:port[,host:port…]/<master name>[/<db>][?sentinel_password=…]
//	redis+cluster://[user:password@]host:port[,host:port…]
//
// rediss+sentinel:// and rediss+cluster:// speak TLS to every node. The
// password in a sentinel URL is the master's (the data's); sentinels that
// require a password of their own get it as sentinel_password (and
// sentinel_username).
package redisconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Mode is the Redis topology a URL names.
type Mode string

// Modes of a Conn.
const (
	Single   Mode = "single"
	Sentinel Mode = "sentinel"
	Cluster  Mode = "cluster"
)

// Conn is a parsed WXPOSTER_REDIS_URL.
type Conn struct {
	mode Mode
	opt  asynq.RedisConnOpt
	desc string
}

// RuleError says which rule a URL broke. It never contains the URL, which
// may hold a password.
type RuleError struct{ Rule string }

func (e *RuleError) Error() string { return e.Rule }

func rule(format string, a ...any) error { return &RuleError{fmt.Sprintf(format, a...)} }

// Parse reads a Redis URL of one of the forms in the package comment.
func Parse(raw string) (*Conn, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, rule("must be a URL: redis://host:port/db, redis+sentinel://host:port[,host:port…]/master[/db] or redis+cluster://host:port[,host:port…]")
	}
	switch strings.ToLower(scheme) {
	case "redis", "rediss":
		return parseSingle(raw)
	case "redis+sentinel", "rediss+sentinel":
		return parseSentinel(rest, strings.HasPrefix(strings.ToLower(scheme), "rediss"))
	case "redis+cluster", "rediss+cluster":
		return parseCluster(rest, strings.HasPrefix(strings.ToLower(scheme), "rediss"))
	}
	return nil, rule("scheme must be redis, rediss, redis+sentinel, rediss+sentinel, redis+cluster or rediss+cluster")
}

func parseSingle(raw string) (*Conn, error) {
	o, err := redis.ParseURL(raw)
	if err != nil {
		// go-redis's messages may quote the URL; say the rule instead.
		return nil, rule("must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0 (%s)", safeReason(err))
	}
	return &Conn{mode: Single, desc: "redis " + o.Addr + "/" + strconv.Itoa(o.DB), opt: asynq.RedisClientOpt{
		Network: o.Network, Addr: o.Addr, Username: o.Username, Password: o.Password, DB: o.DB,
		DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
		PoolSize: o.PoolSize, TLSConfig: o.TLSConfig,
	}}, nil
}

// safeReason keeps the part of a go-redis parse error that names what is
// wrong, without any quoted value.
func safeReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // url.Error quotes the whole URL
	}
	s := err.Error()
	if i := strings.IndexAny(s, `"'`); i >= 0 {
		s = strings.TrimRight(s[:i], " :")
	}
	return strings.TrimPrefix(s, "redis: ")
}

// authority is what sits between :// and the path: credentials and hosts.
type authority struct {
	user, password string
	hosts          []string
	path           string
	query          url.Values
}

func parseAuthority(rest string, defaultPort int, example string) (*authority, error) {
	a := &authority{}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, rule("has a malformed query string")
	}
	a.query = q
	hostPart, path, _ := strings.Cut(rest, "/")
	a.path = path
	if i := strings.LastIndexByte(hostPart, '@'); i >= 0 {
		// Let net/url decode the percent-encoded user info.
		u, err := url.Parse("redis://" + hostPart[:i+1] + "x")
		if err != nil || u.User == nil {
			return nil, rule("has malformed credentials (percent-encode special characters in the password)")
		}
		a.user = u.User.Username()
		a.password, _ = u.User.Password()
		hostPart = hostPart[i+1:]
	}
	if hostPart == "" {
		return nil, rule("needs at least one host:port, e.g. %s", example)
	}
	for _, h := range strings.Split(hostPart, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, rule("has an empty host in its comma-separated list, e.g. %s", example)
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			host, port = h, strconv.Itoa(defaultPort)
			if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
				return nil, rule("each host must be host or host:port, e.g. %s", example)
			}
			host = strings.Trim(host, "[]")
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" {
			return nil, rule("each host must be host or host:port with a port between 1 and 65535, e.g. %s", example)
		}
		a.hosts = append(a.hosts, net.JoinHostPort(host, port))
	}
	return a, nil
}

func (a *authority) takeQuery(allowed ...string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range a.query {
		ok := false
		for _, al := range allowed {
			if k == al {
				ok = true
			}
		}
		if !ok {
			if len(allowed) == 0 {
				return nil, rule("takes no query parameters (unknown %q)", k)
			}
			return nil, rule("knows only the query parameters %s (unknown %q)", strings.Join(allowed, ", "), k)
		}
		out[k] = v[len(v)-1]
	}
	return out, nil
}

func tlsFor(on bool, hosts []string) *tls.Config {
	if !on {
		return nil
	}
	host, _, _ := net.SplitHostPort(hosts[0])
	return &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
}

const sentinelExample = "redis+sentinel://:password@10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/mymaster/0"

func parseSentinel(rest string, secure bool) (*Conn, error) {
	a, err := parseAuthority(rest, 26379, sentinelExample)
	if err != nil {
		return nil, err
	}
	segs := strings.Split(strings.TrimSuffix(a.path, "/"), "/")
	if a.path == "" || segs[0] == "" {
		return nil, rule("needs the master name as the path: redis+sentinel://host:port[,host:port…]/<master name>[/<db>], e.g. %s", sentinelExample)
	}
	if len(segs) > 2 {
		return nil, rule("path must be /<master name> or /<master name>/<db>, e.g. %s", sentinelExample)
	}
	master, err := url.PathUnescape(segs[0])
	if err != nil {
		return nil, rule("has a malformed master name")
	}
	db := 0
	if len(segs) == 2 {
		if db, err = strconv.Atoi(segs[1]); err != nil || db < 0 {
			return nil, rule("database after the master name must be a number >= 0, e.g. %s", sentinelExample)
		}
	}
	q, err := a.takeQuery("sentinel_username", "sentinel_password")
	if err != nil {
		return nil, err
	}
	return &Conn{
		mode: Sentinel,
		desc: fmt.Sprintf("sentinel master %s/%d via %s", master, db, strings.Join(a.hosts, ",")),
		opt: asynq.RedisFailoverClientOpt{
			MasterName: master, SentinelAddrs: a.hosts,
			SentinelUsername: q["sentinel_username"], SentinelPassword: q["sentinel_password"],
			Username: a.user, Password: a.password, DB: db, TLSConfig: tlsFor(secure, a.hosts),
		},
	}, nil
}

const clusterExample = "redis+cluster://:password@10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379"

func parseCluster(rest string, secure bool) (*Conn, error) {
	a, err := parseAuthority(rest, 6379, clusterExample)
	if err != nil {
		return nil, err
	}
	if p := strings.TrimSuffix(a.path, "/"); p != "" && p != "0" {
		return nil, rule("must have no database: Redis Cluster has only database 0, e.g. %s", clusterExample)
	}
	if _, err := a.takeQuery(); err != nil {
		return nil, err
	}
	return &Conn{
		mode: Cluster,
		desc: "cluster via " + strings.Join(a.hosts, ","),
		opt: asynq.RedisClusterClientOpt{
			Addrs: a.hosts, Username: a.user, Password: a.password, TLSConfig: tlsFor(secure, a.hosts),
		},
	}, nil
}

// Mode is the topology.
func (c *Conn) Mode() Mode { return c.mode }

// AsynqOpt is the connection option for asynq and asynqmon: an
// asynq.RedisClientOpt, RedisFailoverClientOpt or RedisClusterClientOpt.
func (c *Conn) AsynqOpt() asynq.RedisConnOpt { return c.opt }

// NewClient returns a new go-redis client (pool) for this connection,
// built from AsynqOpt so that both always agree. The caller closes it.
func (c *Conn) NewClient() redis.UniversalClient {
	return c.opt.MakeRedisClient().(redis.UniversalClient)
}

// String describes the connection for logs, without credentials.
func (c *Conn) String() string { return c.desc }
