package scene

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
)

// Limits on the parameters of one scene. They bound what a public,
// unauthenticated GET /v1/scenes/{scene} can return and what Redis keeps
// forever.
const (
	MaxParams      = 32   // keys
	MaxKeyLen      = 64   // characters
	MaxValueLen    = 512  // characters
	MaxParamsBytes = 4096 // bytes of all keys and values together
)

// ErrInvalidParams is the error every limit violation wraps; its message
// names the limit.
var ErrInvalidParams = errors.New("scene: invalid params")

// idLen base62 digits of SHA-256 are about 95 bits: a collision is not
// expected before some 2^47 stored parameter sets, and Scene detects one
// anyway rather than hand out someone else's parameters.
const idLen = 16

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Store keeps the parameters that do not fit inline in Redis. Entries have
// no TTL: a printed code is permanent, and so must be what it points to.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
}

// StoreOption configures a Store.
type StoreOption func(*Store)

// WithKeyPrefix sets the Redis key prefix (default "wxposter:scene:"); the
// key of a reference is the prefix followed by its id.
func WithKeyPrefix(p string) StoreOption { return func(s *Store) { s.prefix = p } }

// NewStore returns a Store on rdb.
func NewStore(rdb redis.UniversalClient, opts ...StoreOption) *Store {
	s := &Store{rdb: rdb, prefix: "wxposter:scene:"}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Scene returns the scene for params: the inline form when Encode fits,
// otherwise a reference whose id is derived from the parameters alone, so
// the same parameters always give the same scene (and the same code and
// poster can be reused). Parameters are stored with SET NX and no expiry
// the first time. Empty values are allowed (they are stored); see the Max
// constants for the limits.
func (s *Store) Scene(ctx context.Context, params map[string]string) (string, error) {
	if err := checkParams(params); err != nil {
		return "", err
	}
	if sc, ok := Encode(params); ok {
		return sc, nil
	}
	// json.Marshal sorts map keys: the canonical form of the parameters.
	canon, err := json.Marshal(params)
	if err != nil {
		return "", fmt.Errorf("scene: encode params: %w", err)
	}
	id := refID(canon)
	key := s.prefix + id
	set, err := s.rdb.SetNX(ctx, key, canon, 0).Result()
	if err != nil {
		return "", fmt.Errorf("scene: store params: %w", err)
	}
	if !set {
		old, err := s.rdb.Get(ctx, key).Result()
		if err != nil {
			return "", fmt.Errorf("scene: check stored params: %w", err)
		}
		if old != string(canon) {
			return "", fmt.Errorf("scene: id %s already holds other params (hash collision)", id)
		}
	}
	return RefPrefix + id, nil
}

// Peek returns the scene Scene would return for params without storing
// anything, so that a request can be validated whole before its parameters
// are kept (forever): a rejected request stores nothing.
func (s *Store) Peek(params map[string]string) (string, error) {
	if err := checkParams(params); err != nil {
		return "", err
	}
	if sc, ok := Encode(params); ok {
		return sc, nil
	}
	canon, err := json.Marshal(params)
	if err != nil {
		return "", fmt.Errorf("scene: encode params: %w", err)
	}
	return RefPrefix + refID(canon), nil
}

// Resolve returns the parameters of a scene: an inline scene decoded, a
// reference looked up (ErrNotFound if nothing was stored under it). Any
// other scene, valid or not, is an error wrapping ErrNotParams.
func (s *Store) Resolve(ctx context.Context, scene string) (map[string]string, error) {
	if !IsRef(scene) || !Valid(scene) {
		return Decode(scene)
	}
	id := scene[len(RefPrefix):]
	if !isRefID(id) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, scene) // no Scene call writes such an id
	}
	raw, err := s.rdb.Get(ctx, s.prefix+id).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, scene)
	}
	if err != nil {
		return nil, fmt.Errorf("scene: look up %s: %w", scene, err)
	}
	var params map[string]string
	if err := json.Unmarshal(raw, &params); err != nil || params == nil {
		return nil, fmt.Errorf("scene: stored params of %s are corrupt", scene)
	}
	return params, nil
}

// checkParams enforces the limits before anything is stored. Invalid UTF-8
// is refused because JSON would silently replace it, and two different
// parameter sets would then share one reference.
func checkParams(params map[string]string) error {
	if len(params) == 0 {
		return fmt.Errorf("%w: at least one key is required", ErrInvalidParams)
	}
	if len(params) > MaxParams {
		return fmt.Errorf("%w: at most %d keys, got %d", ErrInvalidParams, MaxParams, len(params))
	}
	total := 0
	for k, v := range params {
		if k == "" || utf8.RuneCountInString(k) > MaxKeyLen {
			return fmt.Errorf("%w: keys must be 1-%d characters", ErrInvalidParams, MaxKeyLen)
		}
		if utf8.RuneCountInString(v) > MaxValueLen {
			return fmt.Errorf("%w: value of %.64q exceeds %d characters", ErrInvalidParams, k, MaxValueLen)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("%w: keys and values must be valid UTF-8", ErrInvalidParams)
		}
		if total += len(k) + len(v); total > MaxParamsBytes {
			return fmt.Errorf("%w: keys and values exceed %d bytes in total", ErrInvalidParams, MaxParamsBytes)
		}
	}
	return nil
}

// refID is idLen base62 digits of the SHA-256 of the canonical parameters.
func refID(canon []byte) string {
	sum := sha256.Sum256(canon)
	n, m, b62 := new(big.Int).SetBytes(sum[:]), new(big.Int), big.NewInt(62)
	id := make([]byte, idLen)
	for i := range id {
		n.DivMod(n, b62, m)
		id[i] = base62[m.Int64()]
	}
	return string(id)
}

func isRefID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
