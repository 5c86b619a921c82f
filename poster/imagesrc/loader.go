package imagesrc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/singleflight"

	"github.com/wxposter/wxposter/poster/budget"
	"github.com/wxposter/wxposter/storage"
)

// Loader defaults.
const (
	defaultCacheBytes      = 64 << 20
	defaultDataURIMaxBytes = 1 << 20
	defaultLoadTimeout     = 15 * time.Second
	maxObjectKeyLen        = 1024
)

// ObjectCachePrefix is where WithObjectCache keeps fetched remote images:
// images/<hex sha256 of the URL>. It is not one of storage.PublicPrefixes.
const ObjectCachePrefix = "images/"

// GetObjectFunc reads an object by key. A missing object is
// storage.ErrNotFound.
type GetObjectFunc func(ctx context.Context, key string) ([]byte, error)

// PutObjectFunc stores an object under key.
type PutObjectFunc func(ctx context.Context, key string, data []byte) error

// LoaderOption configures a Loader.
type LoaderOption func(*Loader)

// WithFetcher sets the Fetcher for remote URLs (default NewFetcher(): the
// WeChat avatar hosts, public addresses only). Its byte and pixel limits
// apply to every image the Loader loads.
func WithFetcher(f *Fetcher) LoaderOption { return func(l *Loader) { l.fetcher = f } }

// WithOwnObjects makes URLs under publicBase (the public base URL of our
// bucket, e.g. WXPOSTER_PUBLIC_BASE_URL) be read with get by object key
// instead of over the network: no request to ourselves, so no SSRF rule
// stands in the way of a MinIO on loopback, and a CDN in front is not
// needed. Scheme and default ports are not compared; host, port and path
// prefix are. Only keys under the public prefixes are served (see
// WithOwnObjectPrefixes), and keys with "." or ".." segments are refused.
func WithOwnObjects(publicBase string, get GetObjectFunc) LoaderOption {
	return func(l *Loader) { l.ownBase, l.ownGet = publicBase, get }
}

// WithOwnObjectPrefixes sets which object keys WithOwnObjects serves
// (default storage.PublicPrefixes: what anyone could download anyway).
func WithOwnObjectPrefixes(prefixes ...string) LoaderOption {
	return func(l *Loader) { l.ownPrefixes = prefixes }
}

// WithObjectCache keeps the bytes of every remote image fetched under
// ObjectCachePrefix + hex(sha256(url)), and looks there before fetching, so
// a restart or another worker does not fetch an avatar again. get must
// return storage.ErrNotFound for a missing key. Failures of the cache are
// logged and otherwise ignored. The host allow-list is checked before the
// cache, so removing a host takes effect for cached images too.
func WithObjectCache(get GetObjectFunc, put PutObjectFunc) LoaderOption {
	return func(l *Loader) { l.cacheGet, l.cachePut = get, put }
}

// WithCacheBytes bounds the in-process cache of decoded images by the size
// of their pixels (default 64 MiB, a 750×1334 background is 4 MB); 0
// disables it.
func WithCacheBytes(n int64) LoaderOption { return func(l *Loader) { l.cacheBytes = n } }

// WithDataURIMaxBytes bounds the decoded size of a data: URI (default 1 MiB).
func WithDataURIMaxBytes(n int) LoaderOption { return func(l *Loader) { l.dataMax = n } }

// WithLoadTimeout bounds one load, storage and fetch included (default
// 15 s). A caller's own context may end sooner; see Load.
func WithLoadTimeout(d time.Duration) LoaderOption { return func(l *Loader) { l.timeout = d } }

// WithLoaderLogger sets the logger (default: discard).
func WithLoaderLogger(log *slog.Logger) LoaderOption {
	return func(l *Loader) {
		if log != nil {
			l.log = log
		}
	}
}

// Loader loads the images of posters: avatars, template backgrounds,
// icons. It routes each URL:
//
//   - data:image/…;base64,… URIs are decoded in place (size-limited);
//   - URLs under our own public base (WithOwnObjects) are read from storage
//     by key;
//   - anything else goes through the Fetcher and its policy, with the bytes
//     kept in the object cache (WithObjectCache) if there is one.
//
// Decoded images are *image.RGBA and are kept in an in-process LRU bounded
// by pixel bytes, so a template background is decoded once and then only
// copied; concurrent loads of one URL share one fetch and decode. Returned
// images are shared between callers: they must not be modified. A Loader is
// safe for concurrent use.
type Loader struct {
	fetcher     *Fetcher
	ownBase     string
	own         *url.URL
	ownGet      GetObjectFunc
	ownPrefixes []string
	cacheGet    GetObjectFunc
	cachePut    PutObjectFunc
	cacheBytes  int64
	dataMax     int
	timeout     time.Duration
	log         *slog.Logger

	cache *imageCache
	group singleflight.Group
}

// NewLoader returns a Loader with the defaults changed by opts. It fails
// only on a malformed WithOwnObjects base URL.
func NewLoader(opts ...LoaderOption) (*Loader, error) {
	l := &Loader{
		ownPrefixes: storage.PublicPrefixes,
		cacheBytes:  defaultCacheBytes,
		dataMax:     defaultDataURIMaxBytes,
		timeout:     defaultLoadTimeout,
		log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, opt := range opts {
		opt(l)
	}
	if l.fetcher == nil {
		l.fetcher = NewFetcher()
	}
	if l.dataMax <= 0 {
		l.dataMax = defaultDataURIMaxBytes
	}
	if l.timeout <= 0 {
		l.timeout = defaultLoadTimeout
	}
	if l.ownGet != nil {
		u, err := url.Parse(strings.TrimRight(l.ownBase, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("poster: loader: public base URL %q is not an absolute http(s) URL", l.ownBase)
		}
		l.own = u
	}
	l.cache = newImageCache(l.cacheBytes)
	return l, nil
}

// source is where one URL's image comes from.
type source struct {
	kind     string // "data", "own" or "remote"
	name     string // for errors and logs: never a query or a payload
	cacheKey string // key in the in-process cache
	raw      string // the URL as given
	key      string // object key, for "own"
}

// Load returns the image at rawURL as an *image.RGBA, from the in-process
// cache when it can. It returns when ctx ends even if the load goes on (a
// concurrent caller of the same URL may still want it; the load is bounded
// by WithLoadTimeout). Refusals by policy wrap ErrFetchRefused, oversized
// images ErrTooManyPixels, unknown formats ErrUnknownFormat.
func (l *Loader) Load(ctx context.Context, rawURL string) (image.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("poster: load image: %w", err)
	}
	src, err := l.route(rawURL)
	if err != nil {
		return nil, err
	}
	if img, ok := l.cache.get(src.cacheKey); ok {
		// Decoded before, drawn again: it counts against this render too.
		if err := budget.From(ctx).TakeImage(int64(img.Bounds().Dx())*int64(img.Bounds().Dy()), "image"); err != nil {
			return nil, err
		}
		return img, nil
	}
	ch := l.group.DoChan(src.cacheKey, func() (any, error) {
		// A load that finished between our cache miss and this call.
		if img, ok := l.cache.get(src.cacheKey); ok {
			return img, nil
		}
		// Shared by every caller of this URL, so not cancelled with the
		// first one's context (its values are kept).
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
		defer cancel()
		img, err := l.load(ctx, src)
		if err != nil {
			return nil, err
		}
		l.cache.add(src.cacheKey, img)
		return img, nil
	})
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("poster: load %s: %w", src.name, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*image.RGBA), nil
	}
}

// route decides where rawURL is read from.
func (l *Loader) route(rawURL string) (source, error) {
	if isDataURI(rawURL) {
		// Cheap bound before hashing: base64 is 4/3 of the bytes, and
		// percent-encoding it at most triples that.
		if len(rawURL) > 4*l.dataMax+1024 {
			return source{}, fmt.Errorf("poster: load data URI: %w: %d characters exceeds the limit of %d bytes",
				ErrFetchRefused, len(rawURL), l.dataMax)
		}
		sum := sha256.Sum256([]byte(rawURL))
		return source{kind: "data", name: "data URI", cacheKey: "data:" + hex.EncodeToString(sum[:]), raw: rawURL}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return source{}, fmt.Errorf("poster: load: %w: malformed URL", ErrFetchRefused)
	}
	if key, ok, err := l.ownKey(u); ok {
		if err != nil {
			return source{}, fmt.Errorf("poster: load %s: %w", redact(u), err)
		}
		return source{kind: "own", name: redact(u), cacheKey: "own:" + key, raw: rawURL, key: key}, nil
	}
	return source{kind: "remote", name: redact(u), cacheKey: rawURL, raw: rawURL}, nil
}

// ownKey reports whether u is under our public base and if so returns its
// object key, or why that key is refused.
func (l *Loader) ownKey(u *url.URL) (key string, ok bool, err error) {
	if l.own == nil || u.User != nil || !sameHost(u, l.own) {
		return "", false, nil
	}
	prefix := strings.TrimRight(l.own.Path, "/") + "/"
	if !strings.HasPrefix(u.Path, prefix) {
		return "", false, nil
	}
	key = u.Path[len(prefix):]
	if err := checkObjectKey(key); err != nil {
		return "", true, err
	}
	for _, p := range l.ownPrefixes {
		if strings.HasPrefix(key, p) {
			return key, true, nil
		}
	}
	return "", true, fmt.Errorf("%w: object %q is not under a public prefix", ErrFetchRefused, key)
}

// sameHost compares host names case-insensitively and ports with the
// scheme's default port counted as no port.
func sameHost(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		p := u.Port()
		if p == map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)] {
			return ""
		}
		return p
	}
	s := strings.ToLower(a.Scheme)
	return (s == "http" || s == "https") && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// checkObjectKey refuses keys that could name something other than what
// they seem to: empty, "." or ".." segments, backslashes, control
// characters, invalid UTF-8.
func checkObjectKey(key string) error {
	if key == "" || len(key) > maxObjectKeyLen || !utf8.ValidString(key) || strings.ContainsRune(key, '\\') {
		return fmt.Errorf("%w: bad object key", ErrFetchRefused)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: bad object key", ErrFetchRefused)
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: bad object key %q", ErrFetchRefused, key)
		}
	}
	return nil
}

// load reads and decodes src's image.
func (l *Loader) load(ctx context.Context, src source) (*image.RGBA, error) {
	switch src.kind {
	case "data":
		data, err := parseDataURI(src.raw, l.dataMax)
		if err != nil {
			return nil, fmt.Errorf("poster: load data URI: %w", err)
		}
		return l.decode(ctx, src, data)
	case "own":
		data, err := l.ownGet(ctx, src.key)
		if err != nil {
			return nil, fmt.Errorf("poster: load %s: %w", src.name, err)
		}
		if int64(len(data)) > l.fetcher.maxBytes {
			return nil, fmt.Errorf("poster: load %s: %w: object of %d bytes exceeds the limit of %d bytes",
				src.name, ErrFetchRefused, len(data), l.fetcher.maxBytes)
		}
		return l.decode(ctx, src, data)
	default:
		return l.loadRemote(ctx, src)
	}
}

// loadRemote checks the URL against the Fetcher's policy, then tries the
// object cache, then fetches and fills the cache.
func (l *Loader) loadRemote(ctx context.Context, src source) (*image.RGBA, error) {
	if _, err := l.fetcher.check(src.raw); err != nil {
		return nil, err
	}
	var key string
	if l.cacheGet != nil {
		sum := sha256.Sum256([]byte(src.raw))
		key = ObjectCachePrefix + hex.EncodeToString(sum[:])
		data, err := l.cacheGet(ctx, key)
		switch {
		case err == nil && int64(len(data)) <= l.fetcher.maxBytes:
			img, err := l.decode(ctx, src, data)
			if err == nil {
				return img, nil
			}
			l.log.WarnContext(ctx, "poster: cached image does not decode; fetching it again", "url", src.name, "key", key, "err", err)
		case err == nil:
			l.log.WarnContext(ctx, "poster: cached image is over the byte limit; fetching it again", "url", src.name, "key", key)
		case !errors.Is(err, storage.ErrNotFound):
			l.log.WarnContext(ctx, "poster: image cache unavailable", "url", src.name, "key", key, "err", err)
		}
	}
	data, err := l.fetcher.FetchBytes(ctx, src.raw)
	if err != nil {
		return nil, err
	}
	img, err := l.decode(ctx, src, data)
	if err != nil {
		return nil, err
	}
	if l.cachePut != nil {
		if err := l.cachePut(ctx, key, data); err != nil {
			l.log.WarnContext(ctx, "poster: cannot cache image", "url", src.name, "key", key, "err", err)
		}
	}
	return img, nil
}

func (l *Loader) decode(ctx context.Context, src source, data []byte) (*image.RGBA, error) {
	img, _, err := DecodeRGBAContext(ctx, data, l.fetcher.maxPixels)
	var be *budget.Error
	if errors.As(err, &be) {
		return nil, err // names the limit; the caller names the view
	}
	if err != nil {
		return nil, fmt.Errorf("poster: load %s: %w", src.name, err)
	}
	return img, nil
}

// CacheStats returns how many decoded images the in-process cache holds and
// the bytes of their pixels.
func (l *Loader) CacheStats() (images int, bytes int64) { return l.cache.stats() }
