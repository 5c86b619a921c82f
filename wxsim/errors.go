package wxsim

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
)

// jsonContentType is the header WeChat really sends on JSON answers; the
// non-standard "encoding" parameter is kept on purpose so clients that parse
// the media type strictly break here rather than in production.
const jsonContentType = "application/json; encoding=utf-8"

// apiError is a WeChat error answer: HTTP 200 with {"errcode","errmsg"}.
type apiError struct {
	code int
	msg  string
}

// The errors the simulator can answer, with WeChat's own wording.
var (
	errSystem            = &apiError{-1, "system error"}
	errInvalidCredential = &apiError{40001, "invalid credential, access_token is invalid or not latest"}
	errInvalidGrantType  = &apiError{40002, "invalid grant_type"}
	errInvalidAppID      = &apiError{40013, "invalid appid"}
	errInvalidCode       = &apiError{40029, "invalid code"}
	errInvalidArgs       = &apiError{40097, "invalid args"}
	errInvalidAppSecret  = &apiError{40125, "invalid appsecret"}
	errInvalidScene      = &apiError{40129, "invalid scene"}
	errInvalidPathLen    = &apiError{40159, "invalid length for path, or the data is not json string"}
	errInvalidSceneLen   = &apiError{40169, "invalid length for scene, or the data is not json string"}
	errTokenMissing      = &apiError{41001, "access_token missing"}
	errAppIDMissing      = &apiError{41002, "appid missing"}
	errSecretMissing     = &apiError{41004, "appsecret missing"}
	errInvalidPage       = &apiError{41030, "invalid page"}
	errTokenExpired      = &apiError{42001, "access_token expired"}
	errRequireGET        = &apiError{43001, "require GET method"}
	errRequirePOST       = &apiError{43002, "require POST method"}
	errDailyQuota        = &apiError{45009, "reach max api daily quota limit"}
	errMinuteQuota       = &apiError{45011, "api minute-quota reach limit  mustslower  retry next minute"}
	errDataFormat        = &apiError{47001, "data format error"}
	errNotFound          = &apiError{404, "not found"}
)

// reply is a fully built answer. Handlers build it and ServeHTTP counts it
// before writing, so a client that has read the body always sees the call in
// Stats.
type reply struct {
	status int // HTTP status; 0 means 200
	code   int // errcode for the counters; 0 is success
	ctype  string
	body   []byte
}

func errReply(e *apiError) reply {
	body, _ := json.Marshal(struct {
		Errcode int    `json:"errcode"`
		Errmsg  string `json:"errmsg"`
	}{e.code, e.msg + " rid: " + newRID()})
	return reply{code: e.code, ctype: jsonContentType, body: body}
}

func jsonReply(v any) reply {
	body, err := json.Marshal(v)
	if err != nil { // only plain structs and maps are passed; kept for safety
		return errReply(errSystem)
	}
	return reply{ctype: jsonContentType, body: body}
}

func (rp reply) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", rp.ctype)
	status := rp.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(rp.body)
}

// newRID imitates WeChat's request id ("rid: 6650a1b2-3c4d5e6f-01234567"),
// which real errmsg strings always end with.
func newRID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%08x-%08x-%08x",
		binary.BigEndian.Uint32(b[0:4]), binary.BigEndian.Uint32(b[4:8]), binary.BigEndian.Uint32(b[8:12]))
}
