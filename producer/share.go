package producer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/wechat"
)

// Group share (seeds 001/004): the mini-program logs in, sends the
// encryptedData of wx.getShareInfo / wx.getGroupEnterInfo, and wxposter
// decrypts it with the session_key it kept, binding openGId ↔ openid.
// session_key never leaves the server: clients hold an opaque session token,
// and Redis holds only a hash of that token.

type session struct {
	AppID      string `json:"appid"`
	OpenID     string `json:"openid"`
	UnionID    string `json:"unionid,omitempty"`
	SessionKey string `json:"session_key"`
}

func (s *Server) sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "wxposter:session:" + hex.EncodeToString(sum[:])
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		App  string `json:"app"`
		Code string `json:"code"`
	}
	if field, rule, ok := decodeJSON(w, r, &req); !ok {
		invalid(w, field, rule)
		return
	}
	app, ok := s.requestApp(w, req.App)
	switch {
	case !ok:
		return
	case req.Code == "" || len(req.Code) > 128:
		invalid(w, "code", "is required: the code from wx.login (at most 128 characters)")
		return
	case !s.loginAllowed(w, r, app.AppID):
		return
	}
	sess, err := s.wx.Code2Session(r.Context(), app, req.Code)
	var we *wechat.Error
	switch {
	case errors.As(err, &we) && !we.Temporary():
		writeError(w, http.StatusUnauthorized, "login_failed",
			"WeChat refused the login code (errcode "+strconv.Itoa(we.Code)+"); call wx.login again", "code")
		return
	case err != nil:
		s.unavailable(w, r, "log in with WeChat", err)
		return
	}
	token := newToken()
	b, _ := json.Marshal(session{AppID: app.AppID, OpenID: sess.OpenID, UnionID: sess.UnionID, SessionKey: string(sess.SessionKey)})
	if err := s.rdb.Set(r.Context(), s.sessionKey(token), b, s.sessionTTL).Err(); err != nil {
		s.unavailable(w, r, "store the session", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"session": token, "openid": sess.OpenID, "expires_in": int(s.sessionTTL / time.Second),
	})
}

// loadSession returns the session of token, nil if unknown or expired.
func (s *Server) loadSession(ctx context.Context, token string) (*session, error) {
	if token == "" || len(token) > 128 {
		return nil, nil
	}
	b, err := s.rdb.Get(ctx, s.sessionKey(token)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sess session
	if err := json.Unmarshal(b, &sess); err != nil {
		return nil, nil
	}
	return &sess, nil
}

// session loads the session of token, or answers the request (401 for an
// unknown or expired session, 503 if Redis fails) and reports false.
func (s *Server) session(w http.ResponseWriter, r *http.Request, token string) (*session, bool) {
	sess, err := s.loadSession(r.Context(), token)
	if err != nil {
		s.unavailable(w, r, "read the session", err)
		return nil, false
	}
	if sess == nil {
		sessionExpired(w)
		return nil, false
	}
	return sess, true
}

func sessionExpired(w http.ResponseWriter) {
	writeError(w, http.StatusUnauthorized, "session_expired", "session expired, log in again (wx.login, then POST /v1/wx/login)", "session")
}

func (s *Server) shareGroup(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Session       string `json:"session"`
		EncryptedData string `json:"encryptedData"`
		IV            string `json:"iv"`
		Nickname      string `json:"nickname"`
		AvatarURL     string `json:"avatarUrl"`
	}
	if field, rule, ok := decodeJSON(w, r, &req); !ok {
		invalid(w, field, rule)
		return
	}
	switch {
	case req.Session == "":
		invalid(w, "session", "is required (from POST /v1/wx/login)")
		return
	case req.EncryptedData == "" || len(req.EncryptedData) > 8192:
		invalid(w, "encryptedData", "is required (from wx.getShareInfo), at most 8192 characters")
		return
	case req.IV == "" || len(req.IV) > 64:
		invalid(w, "iv", "is required (from wx.getShareInfo)")
		return
	case len([]rune(req.Nickname)) > 64:
		invalid(w, "nickname", "must be at most 64 characters")
		return
	case len(req.AvatarURL) > 1024:
		invalid(w, "avatarUrl", "must be at most 1024 characters")
		return
	case checkAvatarURL(req.AvatarURL) != "":
		invalid(w, "avatarUrl", checkAvatarURL(req.AvatarURL))
		return
	case checkNickname(req.Nickname) != "":
		invalid(w, "nickname", checkNickname(req.Nickname))
		return
	}
	ctx := r.Context()
	sess, ok := s.session(w, r, req.Session)
	if !ok {
		return
	}
	// Any decrypt failure (usually a session_key rotated by a newer
	// wx.login) means the same to the client: log in again.
	info, err := wechat.DecryptGroupInfo(sess.AppID, sess.SessionKey, req.EncryptedData, req.IV)
	if err != nil {
		s.log.InfoContext(ctx, "group share decrypt failed", "app", sess.AppID, "err", err)
		sessionExpired(w)
		return
	}
	now := time.Now()
	if rule := s.checkShareAge(info.Timestamp, now); rule != "" {
		invalid(w, "encryptedData", rule)
		return
	}
	gk := groupKey(sess.AppID, info.OpenGID)
	profile, _ := json.Marshal(member{OpenID: sess.OpenID, Nickname: req.Nickname, AvatarURL: req.AvatarURL})
	// A plain pipeline, not MULTI: on Redis Cluster the group's keys and the
	// user's sit in different slots. A partial write is repaired by the
	// member's next share.
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, gk+":members", redis.Z{Score: float64(now.UnixMilli()), Member: sess.OpenID})
		if req.Nickname != "" || req.AvatarURL != "" {
			p.HSet(ctx, gk+":profiles", sess.OpenID, profile)
		}
		p.SAdd(ctx, "wxposter:user:"+sess.AppID+":"+sess.OpenID+":groups", info.OpenGID)
		return nil
	})
	if err != nil {
		s.unavailable(w, r, "record the group", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"openGId": info.OpenGID})
}

func groupKey(appID, openGID string) string { return "wxposter:group:" + appID + ":" + openGID }

type member struct {
	OpenID    string `json:"openid"`
	Nickname  string `json:"nickname,omitempty"`
	AvatarURL string `json:"avatarUrl,omitempty"`
	LastSeen  int64  `json:"lastSeen,omitempty"` // unix ms of the latest share info from this member
}

// groupMembers lists a group's members, most recently seen first. Callers
// are either a member of the group (?session=) or a backend with an API key.
func (s *Server) groupMembers(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	openGID := r.PathValue("openGId")
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			invalid(w, "limit", "must be an integer between 1 and 1000")
			return
		}
		limit = n
	}
	// A request that presents a session is a user's, and is authorised as
	// that user even when the API is open. Without a session, only a real
	// API key lists members: an open API (no keys) never exposes them.
	var appID string
	if q.Get("session") == "" && len(s.apiKeys) > 0 && s.hasAPIKey(r) {
		app, ok := s.requestApp(w, q.Get("app"))
		if !ok {
			return
		}
		appID = app.AppID
	} else {
		sess, ok := s.session(w, r, q.Get("session"))
		if !ok {
			return
		}
		in, err := s.rdb.ZScore(ctx, groupKey(sess.AppID, openGID)+":members", sess.OpenID).Result()
		if errors.Is(err, redis.Nil) || in == 0 {
			writeError(w, http.StatusForbidden, "not_a_member", "only members of the group may list it", "openGId")
			return
		}
		if err != nil {
			s.unavailable(w, r, "read the group", err)
			return
		}
		appID = sess.AppID
	}
	gk := groupKey(appID, openGID)
	zs, err := s.rdb.ZRevRangeWithScores(ctx, gk+":members", 0, int64(limit-1)).Result()
	if err != nil {
		s.unavailable(w, r, "read the group", err)
		return
	}
	members := make([]member, 0, len(zs))
	ids := make([]string, 0, len(zs))
	for _, z := range zs {
		ids = append(ids, z.Member.(string))
	}
	var profiles []any
	if len(ids) > 0 {
		if profiles, err = s.rdb.HMGet(ctx, gk+":profiles", ids...).Result(); err != nil {
			s.unavailable(w, r, "read the group", err)
			return
		}
	}
	for i, z := range zs {
		m := member{OpenID: ids[i]}
		if p, ok := profiles[i].(string); ok {
			_ = json.Unmarshal([]byte(p), &m)
		}
		m.OpenID, m.LastSeen = ids[i], int64(z.Score)
		members = append(members, m)
	}
	total, _ := s.rdb.ZCard(ctx, gk+":members").Result()
	writeJSON(w, http.StatusOK, map[string]any{"openGId": openGID, "total": total, "members": members})
}

// newToken is an opaque 256-bit session token.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
