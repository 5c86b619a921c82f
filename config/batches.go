package config

import (
	"strings"
	"time"

	"github.com/wxposter/wxposter/batch"
)

func (c *Config) validateBatches(add func(v, rule string)) {
	if c.BatchQueue == "" || strings.ContainsAny(c.BatchQueue, " {}:") {
		add("WXPOSTER_BATCH_QUEUE", "must be a non-empty name without spaces, braces or colons")
	} else if c.BatchQueue == c.Queue {
		add("WXPOSTER_BATCH_QUEUE", "must differ from WXPOSTER_QUEUE (batches must not compete with single posters)")
	}
	if c.BatchRateShare <= 0 || c.BatchRateShare > 1 {
		add("WXPOSTER_BATCH_RATE_SHARE", "must be a fraction above 0 and at most 1, e.g. 0.8")
	}
	if c.BatchRetention < time.Minute {
		add("WXPOSTER_BATCH_RETENTION", "must be at least 1m")
	}
	if _, err := batch.ParseHosts(c.CallbackHosts); err != nil {
		add("WXPOSTER_CALLBACK_HOSTS", "must be comma-separated host or host:port entries: "+err.Error())
	}
	if c.CallbackSecret != "" && len(c.CallbackSecret) < 16 {
		add("WXPOSTER_CALLBACK_SECRET", "must be at least 16 characters")
	}
}

// CallbackAllowList is WXPOSTER_CALLBACK_HOSTS, parsed (validated at load).
func (c *Config) CallbackAllowList() *batch.Hosts {
	h, _ := batch.ParseHosts(c.CallbackHosts)
	return h
}
