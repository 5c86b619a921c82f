package metrics

import (
	"strconv"
	"time"

	"github.com/wxposter/wxposter/wechat"
)

var _ wechat.Observer = (*Metrics)(nil)

// WeChatCall implements wechat.Observer.
func (m *Metrics) WeChatCall(api string, errcode int, took time.Duration, err error) {
	code := strconv.Itoa(errcode)
	if err != nil {
		code = "error"
	}
	m.wechatCalls.WithLabelValues(api, code).Inc()
	m.wechatDuration.WithLabelValues(api).Observe(took.Seconds())
}

// TokenFetch implements wechat.Observer.
func (m *Metrics) TokenFetch(appID, source string, err error) {
	m.tokenFetches.WithLabelValues(appID, source, result(err)).Inc()
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}
