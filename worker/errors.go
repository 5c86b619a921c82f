package worker

import (
	"context"
	"errors"
	"strconv"

	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

// jobErr is a job failure with the code and message clients see.
type jobErr struct {
	code      string
	errcode   *int
	msg       string
	err       error
	permanent bool
}

func (e *jobErr) Error() string {
	if e.err != nil {
		return e.code + ": " + e.msg + ": " + e.err.Error()
	}
	return e.code + ": " + e.msg
}

func (e *jobErr) Unwrap() error { return e.err }

func (e *jobErr) public() *tasks.JobError {
	return &tasks.JobError{Code: e.code, Errcode: e.errcode, Message: e.msg}
}

// classify turns any error of a job into a jobErr. WeChat errcodes keep
// their number as the code; whether to retry follows wechat.IsPermanent.
func classify(err error) *jobErr {
	var je *jobErr
	if errors.As(err, &je) {
		return je
	}
	var we *wechat.Error
	if errors.As(err, &we) {
		code := we.Code
		return &jobErr{
			code: strconv.Itoa(code), errcode: &code, err: err, permanent: !we.Temporary(),
			msg: we.Describe() + " (errcode " + strconv.Itoa(code) + ": " + we.Message + ")",
		}
	}
	var fe *wechat.FieldError
	if errors.As(err, &fe) {
		return &jobErr{code: "invalid_request", msg: fe.Error(), err: err, permanent: true}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &jobErr{code: "timeout", msg: "the job ran out of time", err: err}
	}
	return &jobErr{code: "unavailable", msg: "a backend (WeChat, storage or Redis) was unavailable", err: err}
}
