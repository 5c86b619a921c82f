package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/tasks"
)

// Store keeps batches in Redis and enqueues their control tasks (dispatch
// and callback) with asynq. Producer and workers each have one on the same
// Redis.
type Store struct {
	rdb        redis.UniversalClient
	client     *asynq.Client
	prefix     string
	jobPrefix  string
	retention  time.Duration
	queue      string // control tasks: dispatch and callbacks
	batchQueue string // the batch's poster jobs
	log        *slog.Logger
	clock      func() time.Time
	observer   ItemObserver
}

// Option configures a Store.
type Option func(*Store)

// WithRetention sets how long a batch's state stays after it ended
// (default 30 days).
func WithRetention(d time.Duration) Option { return func(s *Store) { s.retention = d } }

// WithQueues sets the queue of control tasks (dispatch, callbacks: short,
// so on the interactive queue, default tasks.DefaultQueue) and the queue of
// the batch's poster jobs (default DefaultQueue).
func WithQueues(control, posters string) Option {
	return func(s *Store) { s.queue, s.batchQueue = control, posters }
}

// WithKeyPrefix sets the Redis key prefix (default "wxposter:batch:"; the
// job registry uses the prefix with "batch:" replaced by "job:").
func WithKeyPrefix(p string) Option {
	return func(s *Store) {
		s.prefix = p
		s.jobPrefix = strings.TrimSuffix(p, "batch:") + "job:"
	}
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// DefaultQueue is the default queue of batch poster jobs.
const DefaultQueue = "posters-batch"

// NewStore returns a Store on rdb.
func NewStore(rdb redis.UniversalClient, opts ...Option) *Store {
	s := &Store{
		rdb: rdb, client: asynq.NewClientFromRedisClient(rdb),
		prefix: "wxposter:batch:", jobPrefix: "wxposter:job:",
		retention: DefaultRetention, queue: tasks.DefaultQueue, batchQueue: DefaultQueue,
		log: slog.Default(), clock: time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Close releases the asynq client (not rdb).
func (s *Store) Close() error { return s.client.Close() }

// BatchQueue is the queue of the batch's poster jobs.
func (s *Store) BatchQueue() string { return s.batchQueue }

// Retention is how long a batch's state stays after it ended.
func (s *Store) Retention() time.Duration { return s.retention }

// Spec is a validated batch to create.
type Spec struct {
	Name           string
	App            string // appid
	CallbackURL    string
	IdempotencyKey string
	Items          []Item
	// Payloads are the jobs' payloads by job id (one per distinct job).
	Payloads map[string]tasks.PosterPayload
}

// Create stores a batch and enqueues its dispatch. With an idempotency key
// already used (per app), it returns the existing batch's id and existing
// true, creating nothing (it re-enqueues that batch's dispatch, which is
// idempotent, in case the first request failed half-way).
func (s *Store) Create(ctx context.Context, spec Spec) (id string, existing bool, err error) {
	id = newID()
	var idem string
	if spec.IdempotencyKey != "" {
		sum := sha256.Sum256([]byte(spec.App + "\x00" + spec.IdempotencyKey))
		idem = s.idemKey(hex.EncodeToString(sum[:16]))
		got, err := s.rdb.SetArgs(ctx, idem, id, redis.SetArgs{Mode: "NX", Get: true, TTL: s.retention}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return "", false, fmt.Errorf("batch: idempotency key: %w", err)
		}
		if got != "" {
			if ok, err := s.waitExists(ctx, got); err != nil {
				return "", false, err
			} else if ok {
				gen, _ := s.rdb.HGet(ctx, s.keysOf(got).meta, "gen").Result()
				return got, true, s.dispatchAll(ctx, got, gen)
			}
			// The batch it named expired: this key starts a new one.
			if err := s.rdb.Set(ctx, idem, id, s.retention).Err(); err != nil {
				return "", false, fmt.Errorf("batch: idempotency key: %w", err)
			}
		}
	}
	if err := s.write(ctx, id, spec); err != nil {
		if idem != "" {
			s.rdb.Del(context.WithoutCancel(ctx), idem)
		}
		return "", false, err
	}
	return id, false, s.dispatchAll(ctx, id, "0")
}

// waitExists waits briefly for a batch being created by a concurrent
// request with the same idempotency key.
func (s *Store) waitExists(ctx context.Context, id string) (bool, error) {
	for range 50 {
		n, err := s.rdb.Exists(ctx, s.keysOf(id).meta).Result()
		if err != nil || n == 1 {
			return n == 1, err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return false, nil
}

// write stores the batch. Data keys are written first with a short TTL, in
// pipelined chunks; one MULTI then writes the meta hash (the batch exists
// from then on) and makes them persistent, so a crash half-way leaves
// nothing that lives.
func (s *Store) write(ctx context.Context, id string, spec Spec) error {
	k := s.keysOf(id)
	const tmpTTL = time.Hour
	jobs := make(map[string][]int, len(spec.Payloads))
	for i, it := range spec.Items {
		jobs[it.JobID] = append(jobs[it.JobID], i)
	}
	pipe := s.rdb.Pipeline()
	flush := func(force bool) error {
		if pipe.Len() < 64 && !force {
			return nil
		}
		_, err := pipe.Exec(ctx)
		return err
	}
	pipe.Set(ctx, k.st, strings.Repeat(string(rune(stQueued)), len(spec.Items)), tmpTTL)
	for from := 0; from < len(spec.Items); from += chunkSize {
		to := min(from+chunkSize, len(spec.Items))
		vals := make([]any, 0, to-from)
		for _, it := range spec.Items[from:to] {
			vals = append(vals, it.JobID+"\t"+it.Ext+"\t"+it.Key)
		}
		pipe.RPush(ctx, k.items, vals...)
		if err := flush(false); err != nil {
			return fmt.Errorf("batch: write items: %w", err)
		}
	}
	jobVals, payVals := make([]any, 0, 2*chunkSize), make([]any, 0, 2*chunkSize)
	n := 0
	for jobID, idxs := range jobs {
		parts := make([]string, len(idxs))
		for i, x := range idxs {
			parts[i] = strconv.Itoa(x)
		}
		b, err := json.Marshal(spec.Payloads[jobID])
		if err != nil {
			return fmt.Errorf("batch: encode payload: %w", err)
		}
		jobVals = append(jobVals, jobID, strings.Join(parts, ","))
		payVals = append(payVals, jobID, b)
		if n++; n%chunkSize == 0 {
			pipe.HSet(ctx, k.jobs, jobVals...)
			pipe.HSet(ctx, k.pay, payVals...)
			jobVals, payVals = jobVals[:0:0], payVals[:0:0]
			if err := flush(false); err != nil {
				return fmt.Errorf("batch: write jobs: %w", err)
			}
		}
	}
	if len(jobVals) > 0 {
		pipe.HSet(ctx, k.jobs, jobVals...)
		pipe.HSet(ctx, k.pay, payVals...)
	}
	for _, key := range []string{k.items, k.jobs, k.pay} {
		pipe.Expire(ctx, key, tmpTTL)
	}
	if err := flush(true); err != nil {
		return fmt.Errorf("batch: write jobs: %w", err)
	}
	now := s.clock()
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k.meta, map[string]any{
			"name": spec.Name, "app": spec.App, "status": StatusRunning, "total": len(spec.Items),
			"created": now.UnixMilli(), "callback": spec.CallbackURL, "nq": len(spec.Items),
			"nr": 0, "nt": 0, "ns": 0, "nf": 0, "nc": 0, "gen": 0, "epoch": 0,
		})
		for _, key := range k.all() {
			p.Persist(ctx, key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("batch: write meta: %w", err)
	}
	// The index is one global key, so it is written on its own (never in a
	// script with the batch's keys); List drops ids whose batch expired.
	if err := s.rdb.ZAdd(ctx, s.indexKey(), redis.Z{Score: float64(now.UnixMilli()), Member: id}).Err(); err != nil {
		return fmt.Errorf("batch: index: %w", err)
	}
	return nil
}

// Get reads a batch.
func (s *Store) Get(ctx context.Context, id string) (*View, error) {
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	m, err := s.rdb.HGetAll(ctx, s.keysOf(id).meta).Result()
	if err != nil {
		return nil, fmt.Errorf("batch: read %s: %w", id, err)
	}
	if len(m) == 0 || m["total"] == "" {
		return nil, ErrNotFound
	}
	return s.viewOf(id, m), nil
}

func (s *Store) viewOf(id string, m map[string]string) *View {
	num := func(k string) int { n, _ := strconv.Atoi(m[k]); return n }
	v := &View{
		ID: id, Name: m["name"], App: m["app"], Status: m["status"], Total: num("total"),
		Counts: Counts{Queued: num("nq"), Running: num("nr"), Retrying: num("nt"),
			Succeeded: num("ns"), Failed: num("nf"), Cancelled: num("nc")},
		CreatedAt: time.UnixMilli(int64(num("created"))).UTC(),
	}
	if f := m["finished"]; f != "" {
		ms, _ := strconv.ParseInt(f, 10, 64)
		t := time.UnixMilli(ms).UTC()
		v.FinishedAt = &t
	} else if done := v.Counts.Succeeded + v.Counts.Failed + v.Counts.Cancelled; done > 0 {
		// The rate so far predicts the rest; it is only an estimate.
		elapsed := s.clock().Sub(v.CreatedAt).Seconds()
		eta := int(float64(v.Total-done) * elapsed / float64(done))
		v.ETASeconds = &eta
	}
	return v
}

// callbackURL is the batch's callback URL ("" if none).
func (s *Store) callbackURL(ctx context.Context, id string) (string, error) {
	u, err := s.rdb.HGet(ctx, s.keysOf(id).meta, "callback").Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return u, err
}

// List returns up to limit batches, newest first, created before the
// cursor (a creation time in ms; 0 for the newest), and the next cursor
// (0 at the end).
func (s *Store) List(ctx context.Context, before int64, limit int) ([]*View, int64, error) {
	max := "+inf"
	if before > 0 {
		max = "(" + strconv.FormatInt(before, 10)
	}
	var out []*View
	for len(out) < limit {
		zs, err := s.rdb.ZRevRangeByScoreWithScores(ctx, s.indexKey(), &redis.ZRangeBy{
			Max: max, Min: "-inf", Count: int64(limit - len(out)),
		}).Result()
		if err != nil {
			return nil, 0, fmt.Errorf("batch: list: %w", err)
		}
		if len(zs) == 0 {
			return out, 0, nil
		}
		for _, z := range zs {
			id := z.Member.(string)
			v, err := s.Get(ctx, id)
			if errors.Is(err, ErrNotFound) {
				s.rdb.ZRem(ctx, s.indexKey(), id) // expired
				continue
			}
			if err != nil {
				return nil, 0, err
			}
			out = append(out, v)
			before = int64(z.Score)
		}
		max = "(" + strconv.FormatInt(int64(zs[len(zs)-1].Score), 10)
	}
	return out, before, nil
}

// Items calls fn for the items with index in [from, to) in order, in
// chunks; want (a state byte, or 0 for all) filters them. fn returns false
// to stop. It returns the index after the last item looked at.
func (s *Store) Items(ctx context.Context, id string, from, to int, want byte, objURL func(key string) string, fn func(ItemView) bool) (int, error) {
	k := s.keysOf(id)
	for from < to {
		end := min(from+chunkSize, to)
		pipe := s.rdb.Pipeline()
		stc := pipe.GetRange(ctx, k.st, int64(from), int64(end-1))
		itc := pipe.LRange(ctx, k.items, int64(from), int64(end-1))
		if _, err := pipe.Exec(ctx); err != nil {
			return from, fmt.Errorf("batch: read items: %w", err)
		}
		st, defs := stc.Val(), itc.Val()
		if len(st) < end-from || len(defs) < end-from {
			return from, ErrNotFound // expired while reading
		}
		var failed []string
		for i := range end - from {
			if st[i] == stFailed && (want == 0 || want == stFailed) {
				failed = append(failed, strconv.Itoa(from+i))
			}
		}
		errs := map[string]string{}
		if len(failed) > 0 {
			vals, err := s.rdb.HMGet(ctx, k.err, failed...).Result()
			if err != nil {
				return from, fmt.Errorf("batch: read errors: %w", err)
			}
			for i, v := range vals {
				if str, ok := v.(string); ok {
					errs[failed[i]] = str
				}
			}
		}
		for i := range end - from {
			if want != 0 && st[i] != want {
				continue
			}
			jobID, rest, _ := strings.Cut(defs[i], "\t")
			ext, key, _ := strings.Cut(rest, "\t")
			v := ItemView{Index: from + i, Key: key, ID: jobID, Status: stateNames[st[i]],
				ObjectKey: tasks.PosterKey(jobID, ext)}
			switch st[i] {
			case stSucceeded:
				v.URL = objURL(v.ObjectKey)
			case stFailed:
				v.Error = parseItemError(errs[strconv.Itoa(from+i)])
			}
			if !fn(v) {
				return from + i + 1, nil
			}
		}
		from = end
	}
	return from, nil
}

func parseItemError(s string) *ItemError {
	code, msg, _ := strings.Cut(s, "\t")
	if code == "" {
		code, msg = "failed", "the poster could not be made"
	}
	e := &ItemError{Code: code, Message: msg}
	if n, err := strconv.Atoi(code); err == nil {
		e.Errcode = &n
	}
	return e
}

func formatItemError(e *tasks.JobError) string {
	if e == nil {
		return "failed\tthe poster could not be made"
	}
	s := e.Code + "\t" + strings.ReplaceAll(e.Message, "\t", " ")
	if len(s) > maxErrLen {
		s = strings.ToValidUTF8(s[:maxErrLen], "")
	}
	return s
}

// Cancel cancels the batch's queued and retrying items (running ones
// finish). It returns how many were cancelled; ended reports that the batch
// had already ended (nothing changed).
func (s *Store) Cancel(ctx context.Context, id string) (n int, ended bool, err error) {
	if !ValidID(id) {
		return 0, false, ErrNotFound
	}
	k := s.keysOf(id)
	res, err := cancelScript.Run(ctx, s.rdb, k.all(), s.clock().UnixMilli(), s.ttl()).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("batch: cancel %s: %w", id, err)
	}
	switch res[0] {
	case -2:
		return 0, false, ErrNotFound
	case -1:
		return 0, true, nil
	}
	s.observeItems(stCancelled, res[0])
	if err := s.afterTransition(ctx, id, res[1]); err != nil {
		return int(res[0]), false, err
	}
	// Pending tasks of cancelled items are removed in the background; the
	// worker skips any that remain (Started), so none calls WeChat.
	gen, _ := s.rdb.HGet(ctx, k.meta, "gen").Result()
	return int(res[0]), false, s.dispatchAll(ctx, id, "c"+gen)
}

// Retry queues the batch's failed items again. It returns how many.
func (s *Store) Retry(ctx context.Context, id string) (int, error) {
	if !ValidID(id) {
		return 0, ErrNotFound
	}
	res, err := retryScript.Run(ctx, s.rdb, s.keysOf(id).all()).Int64Slice()
	if err != nil {
		return 0, fmt.Errorf("batch: retry %s: %w", id, err)
	}
	if res[0] == -2 {
		return 0, ErrNotFound
	}
	// Dispatch even when nothing was requeued: a retry whose dispatch
	// failed half-way is finished by asking again.
	return int(res[0]), s.dispatchAll(ctx, id, strconv.FormatInt(res[1], 10))
}

func (s *Store) ttl() int64 { return int64(s.retention / time.Second) }

// total is the batch's number of items.
func (s *Store) total(ctx context.Context, id string) (int, error) {
	n, err := s.rdb.HGet(ctx, s.keysOf(id).meta, "total").Int()
	if errors.Is(err, redis.Nil) {
		return 0, ErrNotFound
	}
	return n, err
}
