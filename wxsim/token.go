package wxsim

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"time"
)

// Stable-token rules from WeChat's documentation.
const (
	stableRenewWindow  = 5 * time.Minute // normal mode renews in the last 5 minutes
	forceRefreshPerDay = 20
	forceRefreshGap    = 30 * time.Second
)

// chinaTime is the zone WeChat's daily quotas roll over in.
var chinaTime = time.FixedZone("CST", 8*3600)

type tokenKind int

const (
	kindToken  tokenKind = iota // from /cgi-bin/token
	kindStable                  // from /cgi-bin/stable_token
)

type token struct {
	appid   string
	kind    tokenKind
	expires time.Time
	revoked bool
}

// app is one registered mini-program and its mutable state; guarded by Sim.mu.
type app struct {
	id, secret string

	latest string // last /cgi-bin/token token
	stable string // current stable token

	forceDay   string // day (China time) forceCount belongs to
	forceCount int
	lastForce  time.Time

	quotaStart time.Time // start of the current fixed minute window
	quotaUsed  int
}

func (a *app) resetLimits() {
	a.forceDay, a.forceCount, a.lastForce = "", 0, time.Time{}
	a.quotaStart, a.quotaUsed = time.Time{}, 0
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// serveToken is GET /cgi-bin/token. A new token revokes the app's previous
// /cgi-bin/token token at once: WeChat keeps it valid 5 more minutes, but
// revoking at once makes a client that shares one app between processes
// without coordination fail in tests rather than in production.
func (s *Sim) serveToken(r *http.Request) reply {
	if r.Method != http.MethodGet {
		return errReply(errRequireGET)
	}
	q := r.URL.Query()
	if q.Get("grant_type") != "client_credential" {
		return errReply(errInvalidGrantType)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, e := s.authApp(q.Get("appid"), q.Get("secret"))
	if e != nil {
		return errReply(e)
	}
	if old := s.tokens[a.latest]; old != nil {
		old.revoked = true
	}
	a.latest = s.issueToken(a, kindToken)
	return jsonReply(tokenAnswer{a.latest, int(s.tokenTTL / time.Second)})
}

// serveStableToken is POST /cgi-bin/stable_token (JSON body only).
func (s *Sim) serveStableToken(r *http.Request) reply {
	if r.Method != http.MethodPost {
		return errReply(errRequirePOST)
	}
	f, e := readFields(r)
	if e != nil {
		return errReply(e)
	}
	grant, _, e1 := f.str("grant_type")
	appid, _, e2 := f.str("appid")
	secret, _, e3 := f.str("secret")
	force, _, e4 := f.boolean("force_refresh")
	for _, e := range []*apiError{e1, e2, e3, e4} {
		if e != nil {
			return errReply(e)
		}
	}
	if grant != "client_credential" {
		return errReply(errInvalidGrantType)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	a, e := s.authApp(appid, secret)
	if e != nil {
		return errReply(e)
	}
	now := s.now()
	if force {
		day := now.In(chinaTime).Format(time.DateOnly)
		if a.forceDay != day {
			a.forceDay, a.forceCount = day, 0
		}
		if a.forceCount >= forceRefreshPerDay ||
			(!a.lastForce.IsZero() && now.Sub(a.lastForce) < forceRefreshGap) {
			return errReply(errDailyQuota)
		}
		a.forceCount++
		a.lastForce = now
		if old := s.tokens[a.stable]; old != nil {
			old.revoked = true
		}
	} else if cur := s.tokens[a.stable]; cur != nil && !cur.revoked {
		if left := cur.expires.Sub(now); left > stableRenewWindow {
			return jsonReply(tokenAnswer{a.stable, int(left / time.Second)})
		}
		// In the last 5 minutes a new token is issued; the old one stays
		// valid until its own expiry.
	}
	a.stable = s.issueToken(a, kindStable)
	return jsonReply(tokenAnswer{a.stable, int(s.tokenTTL / time.Second)})
}

// authApp checks app credentials; s.mu must be held.
func (s *Sim) authApp(appid, secret string) (*app, *apiError) {
	switch {
	case appid == "":
		return nil, errAppIDMissing
	case secret == "":
		return nil, errSecretMissing
	}
	a := s.apps[appid]
	switch {
	case a == nil:
		return nil, errInvalidAppID
	case a.secret != secret:
		return nil, errInvalidAppSecret
	}
	return a, nil
}

// issueToken creates a token; s.mu must be held.
func (s *Sim) issueToken(a *app, kind tokenKind) string {
	t := randomString(72) // 96 characters of [A-Za-z0-9_-]
	s.tokens[t] = &token{appid: a.id, kind: kind, expires: s.now().Add(s.tokenTTL)}
	return t
}

// checkToken validates ?access_token= and returns the app it belongs to.
// Tokens of both kinds are accepted.
func (s *Sim) checkToken(r *http.Request) (*app, *apiError) {
	t := r.URL.Query().Get("access_token")
	if t == "" {
		return nil, errTokenMissing
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.tokens[t]
	switch {
	case tok == nil, tok.revoked:
		return nil, errInvalidCredential
	case !s.now().Before(tok.expires):
		return nil, errTokenExpired
	}
	a := s.apps[tok.appid]
	if a == nil { // apps are never removed; kept so a bug cannot panic
		return nil, errInvalidCredential
	}
	return a, nil
}

// InvalidateTokens revokes every access_token issued so far, of both kinds;
// they answer 40001 from now on. Jsapi tickets are not affected.
func (s *Sim) InvalidateTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.revoked = true
	}
	for _, a := range s.apps {
		a.latest, a.stable = "", ""
	}
}

// randomString returns n random bytes as unpadded base64url.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
