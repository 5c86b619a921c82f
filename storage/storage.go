// Package storage keeps codes and posters in an S3 bucket (MinIO in
// development, any S3 in production) and turns object keys into public URLs.
package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// PublicPrefixes are the key prefixes readable anonymously: finished posters
// and mini-program codes. Everything else in the bucket stays private.
var PublicPrefixes = []string{"posters/", "codes/"}

// ErrNotFound is returned by Get for a missing object.
var ErrNotFound = errors.New("storage: object not found")

// Store is a bucket plus the base URL its public objects are served under.
type Store struct {
	client     *minio.Client
	bucket     string
	publicBase string
	maxGet     int64
	putOpts    minio.PutObjectOptions // the checksum settings of every upload
}

// Option configures a Store.
type Option func(*Store)

// WithPublicBaseURL sets what returned URLs start with (a CDN in front of
// MinIO, say). Default: http(s)://endpoint/bucket.
func WithPublicBaseURL(u string) Option {
	return func(s *Store) { s.publicBase = strings.TrimRight(u, "/") }
}

// WithMaxObjectSize bounds what Get reads into memory (default 32 MiB).
func WithMaxObjectSize(n int64) Option { return func(s *Store) { s.maxGet = n } }

// Config is how to reach the S3 server (MinIO, versitygw, AWS S3, Tencent
// COS, Aliyun OSS, ...).
type Config struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Secure    bool
	Bucket    string
	// Region of the bucket; empty asks the server.
	Region string
	// BucketLookup is auto (default), path or dns (virtual-host style).
	BucketLookup string
	// Checksum is auto (default), md5 or crc32c; see ChecksumMode.
	Checksum string
	// ExternalBucket: the bucket exists and its policy is managed outside
	// wxposter (providers without bucket policies, keys without the right
	// to set one). New then only checks that the bucket is there.
	ExternalBucket bool
}

// Checksum modes of uploads (Config.Checksum).
const (
	// ChecksumAuto is minio-go's default: no x-amz-checksum-* header; the
	// payload is signed in aws-chunked form over http and sent as
	// UNSIGNED-PAYLOAD over https.
	ChecksumAuto = "auto"
	// ChecksumMD5 sends Content-MD5 and the payload in one unsigned piece:
	// the form nearly every S3 accepts, for providers that reject checksum
	// headers or aws-chunked uploads.
	ChecksumMD5 = "md5"
	// ChecksumCRC32C adds a trailing x-amz-checksum-crc32c to an unsigned
	// streamed payload (STREAMING-UNSIGNED-PAYLOAD-TRAILER, what the AWS
	// SDKs send by default), for servers that support trailing checksums.
	// (minio-go's signed variant over http is refused by versitygw v1.8.0:
	// "The CRC32C you specified did not match".)
	ChecksumCRC32C = "crc32c"
)

// BucketLookup maps auto|path|dns to minio-go's lookup type.
func BucketLookup(s string) (minio.BucketLookupType, error) {
	switch s {
	case "", "auto":
		return minio.BucketLookupAuto, nil
	case "path":
		return minio.BucketLookupPath, nil
	case "dns":
		return minio.BucketLookupDNS, nil
	}
	return 0, fmt.Errorf("storage: bucket lookup %q: must be auto, path or dns", s)
}

// New connects to the S3 server and, unless cfg.ExternalBucket, creates
// the bucket if it is missing and makes the public prefixes anonymously
// readable.
func New(ctx context.Context, cfg Config, opts ...Option) (*Store, error) {
	lookup, err := BucketLookup(cfg.BucketLookup)
	if err != nil {
		return nil, err
	}
	s := &Store{
		bucket: cfg.Bucket,
		maxGet: 32 << 20,
	}
	switch cfg.Checksum {
	case "", ChecksumAuto:
	case ChecksumMD5:
		s.putOpts = minio.PutObjectOptions{SendContentMd5: true, DisableContentSha256: true}
	case ChecksumCRC32C:
		s.putOpts = minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C, DisableContentSha256: true}
	default:
		return nil, fmt.Errorf("storage: checksum %q: must be auto, md5 or crc32c", cfg.Checksum)
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:           credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:          cfg.Secure,
		Region:          cfg.Region,
		BucketLookup:    lookup,
		TrailingHeaders: cfg.Checksum == ChecksumCRC32C,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: client for %s: %w", cfg.Endpoint, err)
	}
	s.client = client
	scheme := "http"
	if cfg.Secure {
		scheme = "https"
	}
	s.publicBase = scheme + "://" + cfg.Endpoint + "/" + cfg.Bucket
	if lookup == minio.BucketLookupDNS {
		s.publicBase = scheme + "://" + cfg.Bucket + "." + cfg.Endpoint
	}
	for _, o := range opts {
		o(s)
	}
	if cfg.ExternalBucket {
		if err := s.Ping(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	if err := s.ensureBucket(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) ensureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("storage: check bucket %q: %w", s.bucket, err)
	}
	if !ok {
		err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{})
		// Another process may have created it between the check and now.
		if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
			return fmt.Errorf("storage: create bucket %q: %w", s.bucket, err)
		}
	}
	if err := s.client.SetBucketPolicy(ctx, s.bucket, publicReadPolicy(s.bucket)); err != nil {
		return fmt.Errorf("storage: set public-read policy on %q (if the provider has no bucket policies or "+
			"the key may not set one, make posters/ and codes/ publicly readable yourself and set "+
			"WXPOSTER_S3_MANAGE_BUCKET=false): %w", s.bucket, err)
	}
	return nil
}

// publicReadPolicy allows anonymous GetObject on PublicPrefixes only (no
// listing, so keys cannot be enumerated).
func publicReadPolicy(bucket string) string {
	var res []string
	for _, p := range PublicPrefixes {
		res = append(res, fmt.Sprintf(`"arn:aws:s3:::%s/%s*"`, bucket, p))
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},` +
		`"Action":["s3:GetObject"],"Resource":[` + strings.Join(res, ",") + `]}]}`
}

// Bucket is the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// URL is the public URL of key.
func (s *Store) URL(key string) string { return s.publicBase + "/" + key }

// PutOptions describe an object being stored.
type PutOptions struct {
	ContentType  string
	CacheControl string
}

// ImmutableCache is the Cache-Control of content-addressed objects: their key
// changes whenever their bytes would, so they may be cached forever.
const ImmutableCache = "public, max-age=31536000, immutable"

// Put stores data under key.
func (s *Store) Put(ctx context.Context, key string, data []byte, o PutOptions) error {
	po := s.putOpts
	po.ContentType, po.CacheControl = o.ContentType, o.CacheControl
	_, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)), po)
	if err != nil {
		return fmt.Errorf("storage: put %s: %w", key, err)
	}
	return nil
}

// Object is a stored object read back.
type Object struct {
	Data        []byte
	ContentType string
}

// Get reads key whole; a missing key is ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (*Object, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("storage: get %s: %w", key, err)
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		if isNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("storage: stat %s: %w", key, err)
	}
	if info.Size > s.maxGet {
		return nil, fmt.Errorf("storage: %s is %d bytes, over the %d limit", key, info.Size, s.maxGet)
	}
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, fmt.Errorf("storage: read %s: %w", key, err)
	}
	return &Object{Data: data, ContentType: info.ContentType}, nil
}

// Exists reports whether key is stored.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	_, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("storage: stat %s: %w", key, err)
	}
}

// Ping checks that MinIO answers and the bucket is there.
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("storage: ping: %w", err)
	}
	if !ok {
		return fmt.Errorf("storage: bucket %q does not exist", s.bucket)
	}
	return nil
}

// RemoveAll deletes every object and then the bucket. For tests and tooling.
func (s *Store) RemoveAll(ctx context.Context) error {
	objs := s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true})
	for e := range s.client.RemoveObjects(ctx, s.bucket, objs, minio.RemoveObjectsOptions{}) {
		if e.Err != nil {
			return fmt.Errorf("storage: remove %s: %w", e.ObjectName, e.Err)
		}
	}
	return s.client.RemoveBucket(ctx, s.bucket)
}

func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == "NoSuchKey" || r.StatusCode == http.StatusNotFound
}
