package templates

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// MigrateLegacyKeys moves templates stored before the keys had a hash tag
// (wxposter:template:…) to the current keys (wxposter:{template}:…), keeping
// their TTLs, so that an upgrade loses no template and no queued job its
// version. It does nothing when there is nothing to move (every start after
// the first), for a store with another prefix, or on Redis Cluster (which
// never held the old keys: their scripts could not run there). It returns
// how many keys it moved.
func (s *Store) MigrateLegacyKeys(ctx context.Context) (int, error) {
	legacy := s.legacyPrefix
	if legacy == "" && s.prefix == DefaultKeyPrefix {
		legacy = legacyKeyPrefix
	}
	if legacy == "" {
		return 0, nil
	}
	if _, ok := s.rdb.(*redis.ClusterClient); ok {
		return 0, nil
	}
	n, err := s.rdb.Exists(ctx, legacy+"_index").Result()
	if err != nil || n == 0 {
		return 0, err
	}
	moved := 0
	iter := s.rdb.Scan(ctx, 0, legacy+"*", 1000).Iterator()
	for iter.Next(ctx) {
		old := iter.Val()
		ok, err := s.rdb.RenameNX(ctx, old, s.prefix+strings.TrimPrefix(old, legacy)).Result()
		if err != nil {
			return moved, fmt.Errorf("templates: migrate %s: %w", old, err)
		}
		if ok {
			moved++
		}
	}
	if err := iter.Err(); err != nil {
		return moved, fmt.Errorf("templates: migrate: %w", err)
	}
	return moved, nil
}
