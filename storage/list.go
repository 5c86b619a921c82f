package storage

import (
	"context"
	"fmt"
	"iter"

	"github.com/minio/minio-go/v7"
)

// Keys lists the keys of the objects under prefix, a page at a time (for
// rebuilding the index of made posters, finished.Records.BuildIndex).
func (s *Store) Keys(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		ctx, cancel := context.WithCancel(ctx) // stops minio-go's lister when we stop early
		defer cancel()
		for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if o.Err != nil {
				yield("", fmt.Errorf("storage: list %s: %w", prefix, o.Err))
				return
			}
			if !yield(o.Key, nil) {
				return
			}
		}
	}
}
