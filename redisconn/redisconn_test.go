package redisconn

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
)

func TestParse(t *testing.T) {
	cases := []struct {
		url  string
		mode Mode
		want asynq.RedisConnOpt
	}{
		{"redis://127.0.0.1:6379/2", Single, asynq.RedisClientOpt{Network: "tcp", Addr: "127.0.0.1:6379", DB: 2}},
		{"redis+sentinel://10.0.0.1:26379,10.0.0.2:26380,10.0.0.3/mymaster", Sentinel, asynq.RedisFailoverClientOpt{
			MasterName: "mymaster", SentinelAddrs: []string{"10.0.0.1:26379", "10.0.0.2:26380", "10.0.0.3:26379"}}},
		{"redis+sentinel://:s%40cret@h1:26379/mymaster/3?sentinel_password=sp", Sentinel, asynq.RedisFailoverClientOpt{
			MasterName: "mymaster", SentinelAddrs: []string{"h1:26379"}, Password: "s@cret", DB: 3, SentinelPassword: "sp"}},
		{"redis+sentinel://app:pw@h1:26379/mymaster/", Sentinel, asynq.RedisFailoverClientOpt{
			MasterName: "mymaster", SentinelAddrs: []string{"h1:26379"}, Username: "app", Password: "pw"}},
		{"redis+cluster://h1:7000,h2:7001,h3", Cluster, asynq.RedisClusterClientOpt{
			Addrs: []string{"h1:7000", "h2:7001", "h3:6379"}}},
		{"redis+cluster://:pw@[::1]:7000/", Cluster, asynq.RedisClusterClientOpt{
			Addrs: []string{"[::1]:7000"}, Password: "pw"}},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			c, err := Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if c.Mode() != tc.mode {
				t.Errorf("mode = %s, want %s", c.Mode(), tc.mode)
			}
			got := c.AsynqOpt()
			if o, ok := got.(asynq.RedisClientOpt); ok {
				o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolSize = 0, 0, 0, 0
				got = o
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("opt = %+v\nwant  %+v", got, tc.want)
			}
			if strings.Contains(c.String(), "pw") || strings.Contains(c.String(), "cret") {
				t.Errorf("String() = %q shows a password", c.String())
			}
			cl := c.NewClient()
			defer cl.Close()
		})
	}
}

func TestParseTLS(t *testing.T) {
	for _, u := range []string{"rediss+sentinel://h1:26379/m", "rediss+cluster://h1:7000"} {
		c, err := Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		var cfg any
		switch o := c.AsynqOpt().(type) {
		case asynq.RedisFailoverClientOpt:
			cfg = o.TLSConfig
		case asynq.RedisClusterClientOpt:
			cfg = o.TLSConfig
		}
		if reflect.ValueOf(cfg).IsNil() {
			t.Errorf("%s: no TLS config", u)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ url, rule string }{
		{"127.0.0.1:6379", "must be a URL"},
		{"http://h:1", "scheme must be"},
		{"redis://:secretpw@h:notaport/0", "must be a redis:// or rediss:// URL"},
		{"redis://:secretpw@h:6379/x", "must be a redis:// or rediss:// URL"},
		{"redis+sentinel://:secretpw@h1:26379,h2:26379", "needs the master name"},
		{"redis+sentinel://:secretpw@h1:26379/", "needs the master name"},
		{"redis+sentinel://:secretpw@h1:26379/m/x", "database after the master name"},
		{"redis+sentinel://:secretpw@h1:26379/m/1/2", "path must be"},
		{"redis+sentinel://:secretpw@h1:26379,,h2/m", "empty host"},
		{"redis+sentinel://:secretpw@h1:99999/m", "port between 1 and 65535"},
		{"redis+sentinel://:secretpw@/m", "at least one host"},
		{"redis+sentinel://:secretpw@h1/m?master=x", "knows only the query parameters"},
		{"redis+cluster://:secretpw@h1:7000/1", "only database 0"},
		{"redis+cluster://:secretpw@h1:7000?x=1", "takes no query parameters"},
		{"redis+cluster://:secretpw@h1:x", "port between"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			_, err := Parse(tc.url)
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a RuleError", err)
			}
			if !strings.Contains(err.Error(), tc.rule) {
				t.Errorf("err = %q, want it to say %q", err, tc.rule)
			}
			if strings.Contains(err.Error(), "secretpw") {
				t.Errorf("err = %q shows the password", err)
			}
		})
	}
}
