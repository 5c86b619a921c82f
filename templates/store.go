package templates

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/poster/palette"
)

// Store keeps templates in Redis (all keys in one Redis Cluster slot):
//
//	<prefix><name>      hash: version, sha256, updated_at, seq (last version
//	                    number handed out, never reused), deleted
//	<prefix><name>:v<N> hash: palette, sha256, created_at (immutable)
//	<prefix>_index      set of the names not deleted
//
// Superseded and deleted versions stay readable for WithVersionTTL, so that
// jobs queued with them still render. It is safe for concurrent use, across
// processes too: every change is one Lua script.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	// legacyPrefix overrides legacyKeyPrefix in MigrateLegacyKeys (tests).
	legacyPrefix string
	versionTTL   time.Duration
	cache        *cache
	now          func() time.Time
}

// DefaultKeyPrefix is where templates live in Redis: one hash tag, so that
// the store's scripts work on Redis Cluster.
const DefaultKeyPrefix = "wxposter:{template}:"

// legacyKeyPrefix is where templates lived before the hash tag.
const legacyKeyPrefix = "wxposter:template:"

// Option configures a Store.
type Option func(*Store)

// WithKeyPrefix sets the Redis key prefix (default "wxposter:{template}:").
// Every key of the store must share one Redis Cluster slot (its scripts
// touch several), so a prefix without a {hash tag} gets "{tpl}:" appended.
func WithKeyPrefix(p string) Option {
	return func(s *Store) {
		if !hasHashTag(p) {
			p += "{tpl}:"
		}
		s.prefix = p
	}
}

// hasHashTag reports whether key has a non-empty {…} section, the part
// Redis Cluster hashes instead of the whole key.
func hasHashTag(key string) bool {
	i := strings.IndexByte(key, '{')
	return i >= 0 && strings.IndexByte(key[i+1:], '}') > 0
}

// WithVersionTTL sets how long a superseded or deleted version stays
// readable (default 7 days: longer than any job can wait, retries and a
// 45009 pause until midnight included). 0 keeps every version forever.
func WithVersionTTL(d time.Duration) Option { return func(s *Store) { s.versionTTL = d } }

// WithCacheSize sets how many parsed versions are kept in the process
// (default 256; 0 disables the cache).
func WithCacheSize(n int) Option { return func(s *Store) { s.cache = newCache(n) } }

// NewStore returns a Store on rdb.
func NewStore(rdb redis.UniversalClient, opts ...Option) *Store {
	s := &Store{
		rdb: rdb, prefix: DefaultKeyPrefix, versionTTL: 7 * 24 * time.Hour,
		cache: newCache(256), now: time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Store) headKey(name string) string { return s.prefix + name }
func (s *Store) indexKey() string           { return s.prefix + "_index" } // names never start with _
func (s *Store) versionKey(name string, v int) string {
	return s.headKey(name) + ":v" + strconv.Itoa(v)
}

// putScript stores a new version unless the current one has the same
// digest. KEYS: head, index. ARGV: name, sha256, palette, now, ttl seconds,
// version key prefix. Returns {version, change}.
var putScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'version', 'sha256', 'deleted')
local live = cur[1] and not cur[3]
if live and cur[2] == ARGV[2] then
  return {tonumber(cur[1]), 0}
end
local v = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', ARGV[6] .. v, 'palette', ARGV[3], 'sha256', ARGV[2], 'created_at', ARGV[4])
if live and tonumber(ARGV[5]) > 0 then
  redis.call('EXPIRE', ARGV[6] .. cur[1], ARGV[5])
end
redis.call('HSET', KEYS[1], 'version', v, 'sha256', ARGV[2], 'updated_at', ARGV[4])
redis.call('HDEL', KEYS[1], 'deleted')
redis.call('SADD', KEYS[2], ARGV[1])
if live then return {v, 2} end
return {v, 1}
`)

// deleteScript marks the head deleted and lets its current version expire.
// KEYS: head, index. ARGV: name, now, ttl seconds, version key prefix.
// Returns 1 if deleted, 0 if there was nothing to delete.
var deleteScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'version', 'deleted')
if not cur[1] or cur[2] then return 0 end
redis.call('HSET', KEYS[1], 'deleted', '1', 'updated_at', ARGV[2])
if tonumber(ARGV[3]) > 0 then
  redis.call('EXPIRE', ARGV[4] .. cur[1], ARGV[3])
end
redis.call('SREM', KEYS[2], ARGV[1])
return 1
`)

// Put stores src, a palette, as the current version of name, validating it first
// (errors wrap *palette.Error, *NameError or ErrTooLarge). The same
// content as the current version changes nothing, so loading a directory at
// every start-up is idempotent; any other content gets the next version.
func (s *Store) Put(ctx context.Context, name string, src []byte) (*Template, Change, error) {
	if err := CheckName(name); err != nil {
		return nil, 0, err
	}
	if len(src) > MaxPaletteBytes {
		return nil, 0, ErrTooLarge
	}
	p, err := palette.Parse(src)
	if err != nil {
		return nil, 0, fmt.Errorf("templates: %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, src); err != nil {
		return nil, 0, fmt.Errorf("templates: %s: compact palette: %w", name, err)
	}
	raw := buf.Bytes()
	sum := sha256.Sum256(raw)
	digest := hex.EncodeToString(sum[:])
	now := s.now().UTC()
	res, err := putScript.Run(ctx, s.rdb, []string{s.headKey(name), s.indexKey()},
		name, digest, raw, now.Format(time.RFC3339Nano), int64(s.versionTTL/time.Second),
		s.headKey(name)+":v").Int64Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("templates: put %s: %w", name, err)
	}
	version, change := int(res[0]), Change(res[1])
	if change == Unchanged {
		t, err := s.GetVersion(ctx, name, version)
		return t, change, err
	}
	t := newTemplate(name, version, p, raw, digest, now)
	s.cache.put(t)
	return t, change, nil
}

// Get returns the current version of name, or an error wrapping ErrNotFound.
func (s *Store) Get(ctx context.Context, name string) (*Template, error) {
	if CheckName(name) != nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	head, err := s.rdb.HMGet(ctx, s.headKey(name), "version", "deleted").Result()
	if err != nil {
		return nil, fmt.Errorf("templates: get %s: %w", name, err)
	}
	v, _ := head[0].(string)
	version, err := strconv.Atoi(v)
	if err != nil || head[1] != nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return s.GetVersion(ctx, name, version)
}

// GetVersion returns the given version of name, current or not, as long as
// it is kept (see WithVersionTTL); otherwise an error wrapping ErrNotFound.
// Workers render with it, so a job renders the version it was queued with.
func (s *Store) GetVersion(ctx context.Context, name string, version int) (*Template, error) {
	if t, ok := s.cache.get(name, version); ok {
		return t, nil
	}
	if CheckName(name) != nil || version < 1 {
		return nil, fmt.Errorf("%w: %q version %d", ErrNotFound, name, version)
	}
	f, err := s.rdb.HGetAll(ctx, s.versionKey(name, version)).Result()
	if err != nil {
		return nil, fmt.Errorf("templates: get %s version %d: %w", name, version, err)
	}
	raw, ok := f["palette"]
	if !ok {
		return nil, fmt.Errorf("%w: %q version %d", ErrNotFound, name, version)
	}
	sum := sha256.Sum256([]byte(raw))
	if digest := hex.EncodeToString(sum[:]); digest != f["sha256"] {
		return nil, fmt.Errorf("templates: %s version %d is corrupt: sha256 %s, recorded %s", name, version, digest, f["sha256"])
	}
	p, err := palette.Parse([]byte(raw))
	if err != nil {
		// Stored palettes were valid when put; a renderer that now refuses
		// one is worth a clear message.
		return nil, fmt.Errorf("templates: %s version %d no longer parses: %w", name, version, err)
	}
	created, _ := time.Parse(time.RFC3339Nano, f["created_at"])
	t := newTemplate(name, version, p, []byte(raw), f["sha256"], created)
	s.cache.put(t)
	return t, nil
}

// Delete removes name: new jobs can no longer use it, while jobs already
// queued with one of its versions still render (see WithVersionTTL). Its
// version numbers are never reused. Deleting an unknown name is ErrNotFound.
func (s *Store) Delete(ctx context.Context, name string) error {
	if CheckName(name) != nil {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	n, err := deleteScript.Run(ctx, s.rdb, []string{s.headKey(name), s.indexKey()},
		name, s.now().UTC().Format(time.RFC3339Nano), int64(s.versionTTL/time.Second),
		s.headKey(name)+":v").Int()
	if err != nil {
		return fmt.Errorf("templates: delete %s: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return nil
}

// List returns the current version of every template, sorted by name.
func (s *Store) List(ctx context.Context) ([]*Template, error) {
	names, err := s.rdb.SMembers(ctx, s.indexKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("templates: list: %w", err)
	}
	slices.Sort(names)
	out := make([]*Template, 0, len(names))
	for _, name := range names {
		t, err := s.Get(ctx, name)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func newTemplate(name string, version int, p *palette.Palette, raw []byte, digest string, created time.Time) *Template {
	vars := p.Variables()
	return &Template{
		Name: name, Version: version, Palette: p, JSON: json.RawMessage(raw), SHA256: digest,
		Variables: vars, ImageVariables: imageVariables(raw, vars), Created: created,
	}
}
