package wechat

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
)

// SessionKey is a user's session_key. It decrypts the user's open data, so
// it never leaves the server and never prints.
type SessionKey string

func (SessionKey) String() string       { return "[redacted]" }
func (SessionKey) GoString() string     { return `"[redacted]"` }
func (SessionKey) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Session is the answer of jscode2session.
type Session struct {
	OpenID     string
	UnionID    string
	SessionKey SessionKey
}

// Code2Session exchanges a wx.login code for the user's openid and
// session_key. It takes no access_token (some SDKs send one, and burn token
// quota for nothing) and escapes js_code.
func (c *Client) Code2Session(ctx context.Context, app App, jsCode string) (*Session, error) {
	const api = "sns/jscode2session"
	q := url.Values{
		"appid": {app.AppID}, "secret": {app.Secret},
		"js_code": {jsCode}, "grant_type": {"authorization_code"},
	}
	resp, err := c.do(ctx, http.MethodGet, api, q, nil)
	if err != nil {
		return nil, err
	}
	if we := resp.errcode(api); we != nil {
		return nil, we
	}
	var r struct {
		OpenID     string `json:"openid"`
		UnionID    string `json:"unionid"`
		SessionKey string `json:"session_key"`
	}
	if err := json.Unmarshal(resp.body, &r); err != nil || r.OpenID == "" || r.SessionKey == "" {
		return nil, fmt.Errorf("wechat %s: no openid/session_key in answer: %w", api, ErrUnexpectedPayload)
	}
	return &Session{OpenID: r.OpenID, UnionID: r.UnionID, SessionKey: SessionKey(r.SessionKey)}, nil
}
