package wechat

import "time"

// Observer is told about every call to the WeChat API and every
// access_token fetch, for metrics. Calls come from many goroutines.
type Observer interface {
	// WeChatCall reports one HTTP call: api is the path without the host
	// ("wxa/getwxacodeunlimit"), errcode WeChat's errcode (0 for success or
	// a non-JSON answer such as an image), err a transport or HTTP error.
	WeChatCall(api string, errcode int, took time.Duration, err error)
	// TokenFetch reports one access_token fetch for appID from source
	// ("stable", "classic" or "external"); err is nil when it got one.
	TokenFetch(appID, source string, err error)
}

// WithObserver sets the Observer (default none).
func WithObserver(o Observer) Option { return func(c *Client) { c.obs = o } }

// observeCall reports a finished do.
func (c *Client) observeCall(api string, start time.Time, resp *response, err error) {
	if c.obs == nil {
		return
	}
	code := 0
	if resp != nil {
		if we := resp.errcode(api); we != nil {
			code = we.Code
		}
	}
	c.obs.WeChatCall(api, code, time.Since(start), err)
}
