package storage

import (
	"context"
	"fmt"

	"github.com/minio/minio-go/v7"
)

// Remove deletes key; a missing key is not an error.
func (s *Store) Remove(ctx context.Context, key string) error {
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return fmt.Errorf("storage: remove %s: %w", key, err)
	}
	return nil
}
