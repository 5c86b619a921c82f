package producer

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on the WeChat-facing endpoints, which take no API key (issue 9).

// WithShareMaxAge refuses group-share data that WeChat encrypted longer
// ago than d (watermark.timestamp; default 24 h, WXPOSTER_SHARE_MAX_AGE):
// an old capture cannot be replayed to join a group.
func WithShareMaxAge(d time.Duration) Option { return func(s *Server) { s.shareMaxAge = d } }

// WithLoginRate limits POST /v1/wx/login, each of which costs a WeChat
// call: at most perAddr a minute from one client address (per app) and perApp a
// minute for one app, over all producers (counted in Redis). Defaults 20
// and 3000; 0 turns a limit off.
func WithLoginRate(perAddr, perApp int) Option {
	return func(s *Server) { s.loginPerAddr, s.loginPerApp = perAddr, perApp }
}

// shareClockSkew is how far in the future a watermark may be.
const shareClockSkew = 5 * time.Minute

// checkShareAge returns the rule broken by a watermark timestamp (unix
// seconds), or "".
func (s *Server) checkShareAge(ts int64, now time.Time) string {
	at := time.Unix(ts, 0)
	switch {
	case ts <= 0:
		return "has no watermark timestamp; call wx.getShareInfo again"
	case now.Sub(at) > s.shareMaxAge:
		return fmt.Sprintf("was encrypted by WeChat more than %s ago; call wx.getShareInfo again", s.shareMaxAge)
	case at.Sub(now) > shareClockSkew:
		return "has a watermark timestamp in the future"
	}
	return ""
}

// checkAvatarURL: avatars are shown to other members, so only https URLs
// with a host (no javascript:, data: or plain http).
func checkAvatarURL(v string) string {
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return "must be an https URL"
	}
	return ""
}

// checkNickname: a nickname is plain text, stored and served back exactly
// as given (HTML in it is text, not markup: clients must escape it, as for
// any user input). It must be valid UTF-8 without control characters.
func checkNickname(v string) string {
	if !utf8.ValidString(v) {
		return "must be valid UTF-8 text"
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) }) >= 0 {
		return "must not contain control characters"
	}
	return ""
}

// loginAllowed counts a login attempt and reports whether it is within the
// limits; when not, it answers 429 with Retry-After. If Redis fails the
// attempt is let through (the login then fails on storing its session).
func (s *Server) loginAllowed(w http.ResponseWriter, r *http.Request, appID string) bool {
	if s.loginPerAddr <= 0 && s.loginPerApp <= 0 {
		return true
	}
	now := time.Now()
	window := strconv.FormatInt(now.Unix()/60, 10)
	addr, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		addr = r.RemoteAddr
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	addrKey := "wxposter:ratelimit:login:addr:" + appID + ":" + addr + ":" + window
	appKey := "wxposter:ratelimit:login:app:" + appID + ":" + window
	pipe := s.rdb.Pipeline()
	byAddr := pipe.Incr(ctx, addrKey)
	pipe.Expire(ctx, addrKey, 2*time.Minute)
	byApp := pipe.Incr(ctx, appKey)
	pipe.Expire(ctx, appKey, 2*time.Minute)
	if _, err := pipe.Exec(ctx); err != nil {
		s.log.WarnContext(ctx, "login rate limit unavailable", "err", err)
		return true
	}
	var what string
	switch {
	case s.loginPerAddr > 0 && byAddr.Val() > int64(s.loginPerAddr):
		what = fmt.Sprintf("at most %d logins a minute from one address", s.loginPerAddr)
	case s.loginPerApp > 0 && byApp.Val() > int64(s.loginPerApp):
		what = fmt.Sprintf("at most %d logins a minute for this app", s.loginPerApp)
	default:
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(60-now.Second()))
	writeError(w, http.StatusTooManyRequests, "rate_limited", what+"; try again in a minute", "")
	return false
}
