package producer

import (
	"net/http"
	"time"

	"github.com/wxposter/wxposter/wechat"
)

// jssdkConfig answers what a web page passes to wx.config: the signature of
// its URL with the app's jsapi_ticket (seed 002). Only pages on the app's
// JS-safe domains are signed, and the ticket itself never leaves the server.
func (s *Server) jssdkConfig(w http.ResponseWriter, r *http.Request) {
	var req struct {
		App string `json:"app"`
		URL string `json:"url"`
	}
	if field, rule, ok := decodeJSON(w, r, &req); !ok {
		invalid(w, field, rule)
		return
	}
	app, ok := s.requestApp(w, req.App)
	if !ok {
		return
	}
	if len(app.JSDomains) == 0 {
		invalid(w, "app", "has no JS-safe domains configured (js_domains in the apps file)")
		return
	}
	pageURL, err := wechat.SignURL(req.URL)
	if err != nil {
		invalid(w, "url", "must be the page's absolute http(s) URL: "+err.Error())
		return
	}
	if !wechat.AllowedJSDomain(pageURL, app.JSDomains) {
		invalid(w, "url", "host is not one of the app's JS-safe domains")
		return
	}
	ticket, err := s.wx.JSAPITicket(r.Context(), app)
	if err != nil {
		s.unavailable(w, r, "get the jsapi_ticket", err)
		return
	}
	ts, nonce := time.Now().Unix(), wechat.NewNonce()
	writeJSON(w, http.StatusOK, wechat.JSConfig{
		AppID: app.AppID, Timestamp: ts, NonceStr: nonce,
		Signature: wechat.SignJSSDK(ticket, nonce, ts, pageURL),
	})
}
