package producer

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/tasks"
)

// Job statuses of the API.
const (
	statusQueued    = "queued"
	statusRunning   = "running"
	statusRetrying  = "retrying"
	statusSucceeded = "succeeded"
	statusFailed    = "failed"
)

var jobIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (s *Server) getPoster(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !jobIDRE.MatchString(id) {
		writeError(w, http.StatusNotFound, "not_found", "no such job", "id")
		return
	}
	wait, ok := s.waitParam(w, r)
	if !ok {
		return
	}
	view, err := s.status(r.Context(), id, wait)
	switch {
	case errors.Is(err, errNoJob):
		writeError(w, http.StatusNotFound, "not_found", "no such job (unknown, or expired after retention)", "id")
	case err != nil:
		s.unavailable(w, r, "read job", err)
	default:
		writeJSON(w, http.StatusOK, view)
	}
}

var errNoJob = errors.New("no such job")

// waitParam is the ?wait=N of a request (0 when absent); a bad value is
// answered with a 400 and ok false.
func (s *Server) waitParam(w http.ResponseWriter, r *http.Request) (wait time.Duration, ok bool) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > int(s.maxWait/time.Second) {
		invalid(w, "wait", "must be an integer number of seconds between 0 and 30")
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// status reads the job, waiting up to wait for it to end. The waiter is
// registered before the first read, so a worker finishing between the read
// and the wait still wakes it; a slow tick covers lost messages. When the
// server shuts down, every wait returns the job's current status at once
// (clients simply poll again, on another producer).
func (s *Server) status(ctx context.Context, id string, wait time.Duration) (*jobView, error) {
	if wait == 0 || s.draining() {
		return s.read(ctx, id)
	}
	woken, stop := s.hub.wait(id)
	defer stop()
	view, err := s.read(ctx, id)
	if err != nil || view.ended() {
		return view, err
	}
	return s.waitEnd(ctx, id, wait, woken, view)
}

// waitEnd waits up to wait for job id, last seen as view, to end. woken is
// its waiter, registered before view was read.
func (s *Server) waitEnd(ctx context.Context, id string, wait time.Duration, woken <-chan string, view *jobView) (*jobView, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var err error
	for {
		select {
		case <-ctx.Done():
			return s.readDetached(ctx, id, view)
		case <-s.hub.drain:
			return s.readDetached(ctx, id, view)
		case msg := <-woken:
			if v := s.doneView(id, msg); v != nil {
				return v, nil
			}
		case <-tick.C:
		}
		if view, err = s.read(ctx, id); err != nil || view.ended() {
			break
		}
	}
	if ctx.Err() != nil {
		return s.readDetached(ctx, id, view)
	}
	return view, err
}

// doneView is the succeeded job that a worker's done message (tasks.Done)
// announces, or nil when the message says less (a failure, whose error is
// read from the job; an older worker's bare URL). Only a URL of this
// store's poster for id counts (ownPoster).
func (s *Server) doneView(id, msg string) *jobView {
	if !strings.HasPrefix(msg, "{") {
		return nil
	}
	var d tasks.Done
	if json.Unmarshal([]byte(msg), &d) != nil || d.Attempts < 1 || !s.ownPoster(id, d.URL) {
		return nil
	}
	return &jobView{ID: id, Status: statusSucceeded, URL: d.URL, Attempts: d.Attempts}
}

// Drain starts a graceful shutdown: every long poll answers at once with
// its job's current status, and /readyz reports not ready. Register it
// with http.Server.RegisterOnShutdown.
func (s *Server) Drain() { s.hub.startDrain() }

func (s *Server) draining() bool {
	select {
	case <-s.hub.drain:
		return true
	default:
		return false
	}
}

// readDetached re-reads after the wait ran out (the request's context may be
// done, but the answer is still owed).
func (s *Server) readDetached(ctx context.Context, id string, last *jobView) (*jobView, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if v, err := s.read(rctx, id); err == nil {
		return v, nil
	}
	return last, nil
}

func (s *Server) read(ctx context.Context, id string) (*jobView, error) {
	info, err := s.inspector.GetTaskInfo(s.queueOf(id), id)
	if err == nil {
		v := s.view(info)
		if !v.ended() {
			// Made, but asynq could not mark it complete (a Redis blip).
			if url := s.finished(ctx, id); url != "" {
				v.Status, v.URL, v.Error, v.Attempts = statusSucceeded, url, nil, max(v.Attempts, 1)
			}
		}
		return v, nil
	}
	if !isNotFound(err) {
		return nil, err
	}
	if url := s.finished(ctx, id); url != "" {
		return &jobView{ID: id, Status: statusSucceeded, URL: url}, nil
	}
	// Past retention the task is gone but the poster may well be stored,
	// unless the index of made posters knows it never was.
	if never, _ := s.finishedCache.Records().NeverMade(ctx, id); never {
		return nil, errNoJob
	}
	for _, ext := range []string{"jpg", "png"} {
		key := tasks.PosterKey(id, ext)
		ok, err := s.store.Exists(ctx, key)
		if err != nil {
			return nil, err
		}
		if ok {
			return &jobView{ID: id, Status: statusSucceeded, URL: s.store.URL(key)}, nil
		}
	}
	return nil, errNoJob
}

// view maps an asynq task to the API's job. A job counts as succeeded as
// soon as its URL is recorded (the upload is done by then), and as failed as
// soon as the worker recorded a final error, even before asynq moves it out
// of "active": pollers then return without waiting for the bookkeeping.
func (s *Server) view(info *asynq.TaskInfo) *jobView {
	v := &jobView{ID: info.ID}
	var res tasks.Result
	if len(info.Result) > 0 {
		_ = json.Unmarshal(info.Result, &res)
	}
	switch info.State {
	case asynq.TaskStateCompleted:
		v.Status = statusSucceeded
	case asynq.TaskStateArchived:
		v.Status = statusFailed
	case asynq.TaskStateActive:
		v.Status = statusRunning
		if res.URL != "" {
			v.Status = statusSucceeded
		} else if res.Final && res.Error != nil {
			v.Status = statusFailed
		}
	case asynq.TaskStateRetry:
		v.Status = statusRetrying
	default: // pending, scheduled, aggregating
		v.Status = statusQueued
		if info.Retried > 0 {
			v.Status = statusRetrying
		}
	}
	switch v.Status {
	case statusSucceeded:
		v.URL = res.URL
		v.Attempts = info.Retried + 1
	case statusFailed:
		v.Error = res.Error
		if v.Error == nil {
			v.Error = &tasks.JobError{Code: "failed", Message: info.LastErr}
			if strings.Contains(info.LastErr, context.DeadlineExceeded.Error()) {
				v.Error = &tasks.JobError{Code: "timeout", Message: "the job ran out of time (WXPOSTER_JOB_TIMEOUT)"}
			}
		}
		v.Attempts = info.Retried + 1
	case statusRunning:
		v.Attempts = info.Retried + 1
	default:
		v.Attempts = info.Retried
		v.Error = res.Error // the last transient error, if any
	}
	return v
}

// ownPoster reports whether url is this store's poster of job id, in any
// format.
func (s *Server) ownPoster(id, url string) bool {
	return strings.HasPrefix(url, s.store.URL(tasks.PosterKey(id, "")))
}

// finished is the URL a worker recorded for job id (tasks.FinishedKey), or
// "". Only a URL of this store counts (another deployment, or a bucket
// since replaced, may share the Redis).
func (s *Server) finished(ctx context.Context, id string) string {
	url, err := s.rdb.Get(ctx, tasks.FinishedKey(id)).Result()
	if err != nil || !s.ownPoster(id, url) {
		return ""
	}
	return url
}

func (v *jobView) ended() bool { return v.Status == statusSucceeded || v.Status == statusFailed }

func isNotFound(err error) bool { return tasks.IsNotFound(err) }

func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.ErrorContext(r.Context(), "backend unavailable", "op", what, "err", err)
	writeError(w, http.StatusServiceUnavailable, "unavailable", "could not "+what+"; try again", "")
}
