package wechat

import (
	"errors"
	"fmt"
)

// Error is an errcode answered by WeChat (as HTTP 200 with a JSON body).
type Error struct {
	API     string // e.g. "wxa/getwxacodeunlimit"
	Code    int
	Message string // errmsg, including WeChat's rid for support tickets
}

func (e *Error) Error() string {
	return fmt.Sprintf("wechat %s: errcode %d: %s", e.API, e.Code, e.Message)
}

// Temporary reports whether the same call may succeed later: system busy,
// quotas, and token errors (a fresh token fixes those). Every other errcode
// is a property of the request or the app's configuration, and retrying it
// only spends quota.
func (e *Error) Temporary() bool {
	switch e.Code {
	case CodeSystemBusy, CodeDailyQuota, CodeMinuteQuota,
		CodeInvalidCredential, CodeInvalidToken, CodeTokenExpired:
		return true
	}
	return false
}

// Describe is a readable explanation of the errcode for end users.
func (e *Error) Describe() string {
	if d, ok := descriptions[e.Code]; ok {
		return d
	}
	return e.Message
}

// WeChat errcodes wxposter treats specially.
const (
	CodeSystemBusy        = -1
	CodeInvalidCredential = 40001
	CodeInvalidAppID      = 40013
	CodeInvalidToken      = 40014
	CodeInvalidArgs       = 40097
	CodeInvalidAppSecret  = 40125
	CodeInvalidScene      = 40129
	CodeInvalidSceneLen   = 40169
	CodeInvalidPage       = 41030
	CodeTokenExpired      = 42001
	CodeDailyQuota        = 45009
	CodeMinuteQuota       = 45011
	CodeDataFormat        = 47001
	CodeAPIUnauthorized   = 48001
)

var descriptions = map[int]string{
	CodeSystemBusy:        "WeChat is busy; the job will be retried",
	CodeInvalidCredential: "the access_token was rejected (another server may have refreshed it)",
	CodeInvalidAppID:      "the appid is not valid: check WXPOSTER_APPS",
	CodeInvalidToken:      "the access_token is not valid",
	CodeInvalidArgs:       "WeChat rejected the arguments (env_version must be release, trial or develop)",
	CodeInvalidAppSecret:  "the AppSecret is wrong: check WXPOSTER_APPS",
	CodeInvalidScene:      "scene contains characters WeChat does not allow",
	CodeInvalidSceneLen:   "scene must be 1-32 characters",
	CodeInvalidPage:       "the page is not published in the mini-program's release version (or does not exist); publish it, or request env_version trial/develop",
	CodeTokenExpired:      "the access_token expired",
	CodeDailyQuota:        "the app reached a WeChat call quota",
	CodeMinuteQuota:       "the app reached WeChat's per-minute quota",
	CodeDataFormat:        "WeChat could not parse the request (data format error)",
	CodeAPIUnauthorized:   "the mini-program is not authorised to use this API",
}

// IsTokenError reports whether code means the access_token used is no good.
func IsTokenError(code int) bool {
	return code == CodeInvalidCredential || code == CodeInvalidToken || code == CodeTokenExpired
}

// IsPermanent reports whether err will not go away by retrying: an errcode
// that is not Temporary. Network failures, 5xx answers and unexpected
// payloads are transient.
func IsPermanent(err error) bool {
	var we *Error
	return errors.As(err, &we) && !we.Temporary()
}

// ErrUnexpectedPayload is an answer that is neither an image nor a JSON
// errcode (an HTML error page from a proxy, a truncated body).
var ErrUnexpectedPayload = errors.New("wechat: unexpected payload")

// StatusError is a non-200 HTTP answer.
type StatusError struct {
	API    string
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("wechat %s: HTTP status %d", e.API, e.Status)
}
