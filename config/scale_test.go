package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/wxposter/wxposter/redisconn"
)

// Bad Redis topologies and S3 settings stop start-up with an error naming
// the variable and the rule, and never the value (it may hold a password).
func TestScaleSettingsErrors(t *testing.T) {
	cases := []struct{ key, value, wantVar, wantRule string }{
		{"WXPOSTER_REDIS_URL", "redis+sentinel://:topsecret@10.0.0.1:26379,10.0.0.2:26379", "WXPOSTER_REDIS_URL", "needs the master name"},
		{"WXPOSTER_REDIS_URL", "redis+sentinel://:topsecret@10.0.0.1:26379/mymaster/zero", "WXPOSTER_REDIS_URL", "database after the master name must be a number"},
		{"WXPOSTER_REDIS_URL", "redis+cluster://:topsecret@10.0.0.1:6379/2", "WXPOSTER_REDIS_URL", "only database 0"},
		{"WXPOSTER_REDIS_URL", "redis+sentinal://10.0.0.1/m", "WXPOSTER_REDIS_URL", "scheme must be"},
		{"WXPOSTER_S3_BUCKET_LOOKUP", "virtual", "WXPOSTER_S3_BUCKET_LOOKUP", "must be auto, path or dns"},
		{"WXPOSTER_S3_CHECKSUM", "sha1", "WXPOSTER_S3_CHECKSUM", "must be auto, md5 or crc32c"},
		{"WXPOSTER_S3_REGION", "AP Shanghai", "WXPOSTER_S3_REGION", "region name"},
		{"WXPOSTER_S3_MANAGE_BUCKET", "maybe", "WXPOSTER_S3_MANAGE_BUCKET", "boolean"},
		{"WXPOSTER_QUEUE_SHARDS", "0", "WXPOSTER_QUEUE_SHARDS", "between 1 and 64"},
	}
	for _, tc := range cases {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			env := base()
			env[tc.key] = tc.value
			_, err := LoadFrom(env)
			var ce *Error
			if !errors.As(err, &ce) || ce.Var != tc.wantVar || !strings.Contains(ce.Rule, tc.wantRule) {
				t.Fatalf("err = %v, want %s: …%s…", err, tc.wantVar, tc.wantRule)
			}
			if !strings.HasPrefix(err.Error(), tc.wantVar+": ") {
				t.Errorf("message %q does not start with the variable", err)
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

func TestScaleSettings(t *testing.T) {
	env := base()
	env["WXPOSTER_REDIS_URL"] = "redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26379/mymaster/1"
	env["WXPOSTER_S3_BUCKET_LOOKUP"] = "dns"
	env["WXPOSTER_S3_REGION"] = "ap-shanghai"
	env["WXPOSTER_QUEUE_SHARDS"] = "4"
	c, err := LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Redis().Mode() != redisconn.Sentinel || c.S3BucketLookup != "dns" || c.S3Region != "ap-shanghai" ||
		c.QueueShards != 4 || c.S3Checksum != "auto" || !c.S3ManageBucket {
		t.Fatalf("config = %+v", c)
	}
	d, err := LoadFrom(base())
	if err != nil {
		t.Fatal(err)
	}
	if d.Redis().Mode() != redisconn.Single || d.QueueShards != 1 {
		t.Fatalf("defaults: %+v", d)
	}
}
