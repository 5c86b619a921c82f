// Package wxsim is an in-process simulator of the WeChat server API
// (api.weixin.qq.com) for integration tests and local runs, where the real
// service cannot be reached.
//
//	sim := wxsim.New(wxsim.WithApp("wx123", "secret"))
//	srv := httptest.NewServer(sim)
//	// point the client's base URL at srv.URL
//
// Answers have WeChat's shapes: errors are HTTP 200 with
// {"errcode":N,"errmsg":"... rid: <hex>"} and every JSON answer carries the
// odd header "Content-Type: application/json; encoding=utf-8" that WeChat
// sends. Every answered call is counted by path and errcode (see Stats);
// unknown paths get a 404 JSON answer and are not counted.
//
// Simulated endpoints:
//
//   - GET /cgi-bin/token: access_token per app (40002, 41002, 41004, 40013, 40125).
//   - POST /cgi-bin/stable_token: JSON body only (47001 otherwise); normal
//     mode returns the current token until its last 5 minutes, force_refresh
//     issues a new one and revokes the previous, at most 20 a day (China
//     time) and 30 s apart (45009). Isolated from /cgi-bin/token tokens.
//   - Token check on every ?access_token= call: 41001 missing, 40001
//     unknown or revoked, 42001 expired. Either kind of token is accepted.
//   - POST /wxa/getwxacodeunlimit, /wxa/getwxacode and
//     /cgi-bin/wxaapp/createwxaqrcode: strict JSON member types (47001),
//     scene (40169, 40129), env_version (40097), page and check_path against
//     the published pages (41030), path (40159), width clamped to 280..1280,
//     line_color, auto_color, is_hyaline (transparent PNG); a per-app minute
//     quota shared by the three (45011) and an injected failure ratio (-1).
//   - GET /cgi-bin/ticket/getticket: jsapi and wx_card tickets (40097 for
//     other types).
//   - GET /sns/jscode2session: one-time js_codes, deterministic openid and
//     unionid, random session_key (see OpenID and Sim.SessionKey).
//
// Admin endpoints, neither delayed nor counted: GET /sim/stats,
// POST /sim/reset, POST /sim/invalidate-tokens.
//
// Deliberate deviations from WeChat:
//
//   - A new /cgi-bin/token token revokes the previous one at once; WeChat
//     keeps it valid for 5 more minutes. Uncoordinated refreshes then fail
//     in tests, not in production.
//   - The code endpoints draw a standard, decodable QR code (text
//     "<page>?scene=<scene>" or the path) instead of WeChat's round "sun
//     code", exactly width pixels square. auto_color draws black.
//   - jscode2session refuses a query with access_token (40097); WeChat
//     ignores it. A reused js_code answers 40029 (WeChat says 40163), and a
//     missing or wrong grant_type answers 40002.
//   - The minute quota uses fixed 60-second windows per app that start at
//     the first code call after the previous window ended, not wall-clock
//     minutes. Calls refused with 45011 or -1 still use quota.
//   - getwxacode's lifetime limit of 100,000 codes, IP whitelists, and
//     per-endpoint daily quotas are not simulated.
//   - JSON null members count as absent; line_color components must be
//     numbers.
//   - Non-matching HTTP methods answer 43001/43002 (counted).
package wxsim
