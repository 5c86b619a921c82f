package imagesrc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/internal/testimage"
	"github.com/wxposter/wxposter/storage"
)

// loaderServer serves images and counts requests per path. A request to a
// path in gate waits until the gate is closed.
type loaderServer struct {
	*httptest.Server
	host  string
	mu    sync.Mutex
	hits  map[string]int
	files map[string][]byte
	gate  chan struct{}
	seen  chan string // every request's path, if non-nil
}

func newLoaderServer(t *testing.T, files map[string][]byte) *loaderServer {
	t.Helper()
	s := &loaderServer{hits: map[string]int{}, files: files, gate: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		if s.seen != nil {
			s.seen <- r.URL.Path
		}
		if strings.HasPrefix(r.URL.Path, "/gated/") {
			select {
			case <-s.gate:
			case <-r.Context().Done():
				return
			}
		}
		data, ok := s.files[strings.TrimPrefix(r.URL.Path, "/gated")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	s.host = strings.TrimPrefix(s.URL, "http://")
	return s
}

func (s *loaderServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func (s *loaderServer) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.hits {
		n += c
	}
	return n
}

// fetcher returns a Fetcher allowed to reach s.
func (s *loaderServer) fetcher(opts ...FetchOption) *Fetcher {
	return NewFetcher(append([]FetchOption{WithAllowedHosts(s.host), loopbackOK}, opts...)...)
}

func newTestLoader(t *testing.T, opts ...LoaderOption) *Loader {
	t.Helper()
	l, err := NewLoader(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func dataURI(mime string, data []byte) string {
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data)
}

func TestLoaderDataURI(t *testing.T) {
	png := avatarPNG(t, 40, 30)
	b64 := base64.StdEncoding.EncodeToString(png)
	l := newTestLoader(t, WithDataURIMaxBytes(len(png)))
	tests := []struct {
		name   string
		uri    string
		errHas string // "" = success
		is     error
	}{
		{"png", "data:image/png;base64," + b64, "", nil},
		{"upper case", "DATA:IMAGE/PNG;BASE64," + b64, "", nil},
		{"declared type is not trusted", "data:image/jpeg;base64," + b64, "", nil},
		{"parameters", "data:image/png;name=a.png;base64," + b64, "", nil},
		{"no padding", "data:image/png;base64," + strings.TrimRight(b64, "="), "", nil},
		{"line breaks", "data:image/png;base64," + b64[:20] + "\n" + b64[20:], "", nil},
		{"percent-encoded", "data:image/png;base64," + strings.ReplaceAll(b64, "/", "%2F"), "", nil},
		{"not an image type", "data:text/html;base64," + b64, "not an image", ErrFetchRefused},
		{"no type", "data:;base64," + b64, "not an image", ErrFetchRefused},
		{"not base64", "data:image/png," + b64, "not base64", ErrFetchRefused},
		{"no comma", "data:image/png;base64", "without a comma", ErrFetchRefused},
		{"bad base64", "data:image/png;base64,!!!!" + b64, "bad base64", ErrFetchRefused},
		{"over the limit", dataURI("image/png", append(png, make([]byte, 100)...)), "exceeds the limit", ErrFetchRefused},
		{"far over the limit", dataURI("image/png", make([]byte, 10*len(png))), "exceeds the limit", ErrFetchRefused},
		{"not an image", dataURI("image/png", []byte("GIF? no, text")), "unknown image format", ErrUnknownFormat},
		{"bomb", dataURI("image/png", pngHeader(50000, 50000)), "50000x50000", ErrTooManyPixels},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := l.Load(context.Background(), tt.uri)
			if tt.errHas == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := img.(*image.RGBA); !ok || img.Bounds() != image.Rect(0, 0, 40, 30) {
					t.Errorf("got %T %v, want a 40x30 *image.RGBA", img, img.Bounds())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) || !errors.Is(err, tt.is) {
				t.Fatalf("got %v, want an error wrapping %v containing %q", err, tt.is, tt.errHas)
			}
			if strings.Contains(err.Error(), b64[30:50]) {
				t.Errorf("error quotes the payload: %v", err)
			}
		})
	}
}

// TestLoaderCachesDecodedImages: repeated loads of one URL make one request
// and return the very same image.
func TestLoaderCachesDecodedImages(t *testing.T) {
	srv := newLoaderServer(t, map[string][]byte{"/a.png": avatarPNG(t, 64, 64)})
	l := newTestLoader(t, WithFetcher(srv.fetcher()))
	first, err := l.Load(context.Background(), srv.URL+"/a.png")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		img, err := l.Load(context.Background(), srv.URL+"/a.png")
		if err != nil {
			t.Fatal(err)
		}
		if img != first {
			t.Error("a cached load returned a different image")
		}
	}
	if n := srv.count("/a.png"); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
	if n, size := l.CacheStats(); n != 1 || size != 64*64*4 {
		t.Errorf("CacheStats = %d images, %d bytes; want 1, %d", n, size, 64*64*4)
	}
}

// TestLoaderSingleFlight: 20 concurrent loads of one URL make one request.
func TestLoaderSingleFlight(t *testing.T) {
	srv := newLoaderServer(t, map[string][]byte{"/a.png": avatarPNG(t, 64, 64)})
	srv.seen = make(chan string, 100)
	l := newTestLoader(t, WithFetcher(srv.fetcher()))
	const n = 20
	var wg sync.WaitGroup
	imgs := make([]image.Image, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { imgs[i], errs[i] = l.Load(context.Background(), srv.URL+"/gated/a.png") })
	}
	<-srv.seen                        // the one fetch has started
	time.Sleep(50 * time.Millisecond) // let the others pile up behind it
	close(srv.gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if imgs[i] != imgs[0] {
			t.Error("concurrent loads returned different images")
		}
	}
	if got := srv.count("/gated/a.png"); got != 1 {
		t.Errorf("server saw %d requests, want 1", got)
	}
}

// TestLoaderContext: a caller whose context ends gets its error at once,
// while the shared load goes on for the others.
func TestLoaderContext(t *testing.T) {
	srv := newLoaderServer(t, map[string][]byte{"/a.png": avatarPNG(t, 64, 64)})
	srv.seen = make(chan string, 10)
	l := newTestLoader(t, WithFetcher(srv.fetcher()))

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Load(cancelled, srv.URL+"/a.png"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}

	patient := make(chan error, 1)
	go func() {
		_, err := l.Load(context.Background(), srv.URL+"/gated/a.png")
		patient <- err
	}()
	<-srv.seen
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := l.Load(ctx, srv.URL+"/gated/a.png")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Load returned %v after its deadline", d)
	}
	close(srv.gate)
	if err := <-patient; err != nil {
		t.Errorf("the other caller failed: %v", err)
	}
	if got := srv.count("/gated/a.png"); got != 1 {
		t.Errorf("server saw %d requests, want 1", got)
	}
}

// TestLoaderLRU: the in-process cache is bounded by pixel bytes and evicts
// the least recently used image.
func TestLoaderLRU(t *testing.T) {
	files := map[string][]byte{
		"/a.png": avatarPNG(t, 64, 64), "/b.png": avatarPNG(t, 64, 64), "/c.png": avatarPNG(t, 64, 64),
		"/big.png": avatarPNG(t, 128, 128),
	}
	srv := newLoaderServer(t, files)
	l := newTestLoader(t, WithFetcher(srv.fetcher()), WithCacheBytes(2*64*64*4)) // room for two
	load := func(p string) {
		t.Helper()
		if _, err := l.Load(context.Background(), srv.URL+p); err != nil {
			t.Fatal(err)
		}
	}
	load("/a.png")
	load("/b.png")
	load("/a.png") // a is now the most recent
	load("/c.png") // evicts b
	load("/a.png")
	load("/b.png")
	for p, want := range map[string]int{"/a.png": 1, "/b.png": 2, "/c.png": 1} {
		if got := srv.count(p); got != want {
			t.Errorf("%s fetched %d times, want %d", p, got, want)
		}
	}
	if n, size := l.CacheStats(); n != 2 || size != 2*64*64*4 {
		t.Errorf("CacheStats = %d, %d; want 2 images, %d bytes", n, size, 2*64*64*4)
	}
	load("/big.png") // larger than the whole cache: not cached, nothing evicted
	load("/big.png")
	if got := srv.count("/big.png"); got != 2 {
		t.Errorf("an image larger than the cache was cached (%d fetches)", got)
	}
	if n, _ := l.CacheStats(); n != 2 {
		t.Errorf("an image larger than the cache evicted others: %d left", n)
	}

	off := newTestLoader(t, WithFetcher(srv.fetcher()), WithCacheBytes(0))
	before := srv.count("/a.png")
	for range 2 {
		if _, err := off.Load(context.Background(), srv.URL+"/a.png"); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.count("/a.png") - before; got != 2 {
		t.Errorf("with the cache off, 2 loads made %d requests", got)
	}
}

func TestLoaderLimits(t *testing.T) {
	srv := newLoaderServer(t, map[string][]byte{
		"/a.png": avatarPNG(t, 64, 64), "/bomb.png": pngHeader(50000, 50000), "/text": []byte("hello"),
	})
	tests := []struct {
		name string
		l    *Loader
		url  string
		is   error
	}{
		{"default loader refuses the test host", newTestLoader(t), srv.URL + "/a.png", ErrFetchRefused},
		{"allowed host, but loopback", newTestLoader(t, WithFetcher(NewFetcher(WithAllowedHosts(srv.host)))), srv.URL + "/a.png", ErrFetchRefused},
		{"body over the byte limit", newTestLoader(t, WithFetcher(srv.fetcher(WithMaxBytes(100)))), srv.URL + "/a.png", ErrFetchRefused},
		{"over the pixel limit", newTestLoader(t, WithFetcher(srv.fetcher(WithMaxPixels(1000)))), srv.URL + "/a.png", ErrTooManyPixels},
		{"50000x50000 PNG", newTestLoader(t, WithFetcher(srv.fetcher())), srv.URL + "/bomb.png", ErrTooManyPixels},
		{"not an image", newTestLoader(t, WithFetcher(srv.fetcher())), srv.URL + "/text", ErrUnknownFormat},
		{"file", newTestLoader(t, WithFetcher(srv.fetcher())), "file:///etc/passwd", ErrFetchRefused},
		{"malformed", newTestLoader(t, WithFetcher(srv.fetcher())), "http://%zz/?" + secret, ErrFetchRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.l.Load(context.Background(), tt.url)
			if !errors.Is(err, tt.is) {
				t.Fatalf("got %v, want %v", err, tt.is)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error leaks the query: %v", err)
			}
		})
	}
}

// mapObjects is an in-memory object store for the storage-shaped options.
type mapObjects struct {
	mu   sync.Mutex
	objs map[string][]byte
	gets atomic.Int64
}

func (m *mapObjects) get(_ context.Context, key string) ([]byte, error) {
	m.gets.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.objs[key]; ok {
		return d, nil
	}
	return nil, storage.ErrNotFound
}

func (m *mapObjects) put(_ context.Context, key string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[key] = data
	return nil
}

func TestLoaderOwnObjects(t *testing.T) {
	objs := &mapObjects{objs: map[string][]byte{
		"posters/a.png":    avatarPNG(t, 64, 64),
		"codes/app/c.png":  avatarPNG(t, 32, 32),
		"images/x":         avatarPNG(t, 64, 64),
		"posters/big.png":  avatarPNG(t, 64, 64),
		"posters/bomb.png": pngHeader(50000, 50000),
	}}
	const base = "http://127.0.0.1:9000/wxposter"
	l := newTestLoader(t, WithOwnObjects(base+"/", objs.get)) // default Fetcher: loopback unreachable
	tests := []struct {
		name string
		url  string
		size int   // 0: an error
		is   error // for errors
	}{
		{"poster", base + "/posters/a.png", 64, nil},
		{"code", base + "/codes/app/c.png", 32, nil},
		{"query ignored", base + "/posters/a.png?v=2&" + secret, 64, nil},
		{"host case and https", "https://127.0.0.1:9000/wxposter/posters/a.png", 64, nil},
		{"not a public prefix", base + "/images/x", 0, ErrFetchRefused},
		{"dot-dot", base + "/posters/../images/x", 0, ErrFetchRefused},
		{"escaped dot-dot", base + "/posters/%2e%2e/images/x", 0, ErrFetchRefused},
		{"empty segment", base + "/posters//a.png", 0, ErrFetchRefused},
		{"missing", base + "/posters/none.png", 0, storage.ErrNotFound},
		{"bomb", base + "/posters/bomb.png", 0, ErrTooManyPixels},
		{"other bucket: not ours, so the Fetcher refuses it", "http://127.0.0.1:9000/other/posters/a.png", 0, ErrFetchRefused},
		{"other port: not ours", "http://127.0.0.1:9001/wxposter/posters/a.png", 0, ErrFetchRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := l.Load(context.Background(), tt.url)
			if tt.size == 0 {
				if !errors.Is(err, tt.is) {
					t.Fatalf("got %v, want %v", err, tt.is)
				}
				if strings.Contains(err.Error(), "SECRET") {
					t.Errorf("error leaks the query: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Dx() != tt.size {
				t.Errorf("width = %d, want %d", img.Bounds().Dx(), tt.size)
			}
		})
	}

	l = newTestLoader(t, WithOwnObjects(base, objs.get), WithFetcher(NewFetcher(WithMaxBytes(100))))
	if _, err := l.Load(context.Background(), base+"/posters/big.png"); !errors.Is(err, ErrFetchRefused) {
		t.Errorf("object over the byte limit: got %v", err)
	}
	l = newTestLoader(t, WithOwnObjects(base, objs.get), WithOwnObjectPrefixes("images/"))
	if _, err := l.Load(context.Background(), base+"/images/x"); err != nil {
		t.Errorf("WithOwnObjectPrefixes: %v", err)
	}
	for _, bad := range []string{"", "/wxposter", "ftp://h/b", "http://%zz"} {
		if _, err := NewLoader(WithOwnObjects(bad, objs.get)); err == nil {
			t.Errorf("NewLoader accepted the public base %q", bad)
		}
	}
}

// TestLoaderOwnObjectsMinIO reads our own public URLs from real MinIO by
// key, with no HTTP request and whatever address MinIO listens on.
func TestLoaderOwnObjectsMinIO(t *testing.T) {
	store := testenv.Store(t)
	ctx := context.Background()
	if err := store.Put(ctx, "posters/own.png", avatarPNG(t, 48, 48), storage.PutOptions{ContentType: "image/png"}); err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(store.URL("x"), "/x")
	l := newTestLoader(t, WithOwnObjects(base, storeGet(store)))
	img, err := l.Load(ctx, store.URL("posters/own.png"))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, 48, 48) {
		t.Errorf("bounds = %v", img.Bounds())
	}
	if _, err := l.Load(ctx, store.URL("posters/missing.png")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing object: got %v, want storage.ErrNotFound", err)
	}
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func storeGet(s *storage.Store) GetObjectFunc {
	return func(ctx context.Context, key string) ([]byte, error) {
		o, err := s.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		return o.Data, nil
	}
}

func storePut(s *storage.Store) PutObjectFunc {
	return func(ctx context.Context, key string, data []byte) error {
		return s.Put(ctx, key, data, storage.PutOptions{ContentType: "application/octet-stream"})
	}
}

// TestLoaderObjectCache: fetched bytes land in MinIO under images/<sha256>,
// so a new Loader (a restarted or another worker) makes no request.
func TestLoaderObjectCache(t *testing.T) {
	store := testenv.Store(t)
	ctx := context.Background()
	srv := newLoaderServer(t, map[string][]byte{"/a.png": avatarPNG(t, 64, 64), "/b.png": avatarPNG(t, 32, 32)})
	newLoader := func(f *Fetcher) *Loader {
		return newTestLoader(t, WithFetcher(f), WithObjectCache(storeGet(store), storePut(store)))
	}
	url := srv.URL + "/a.png?" + secret
	if _, err := newLoader(srv.fetcher()).Load(ctx, url); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(url))
	key := ObjectCachePrefix + hex.EncodeToString(sum[:])
	if ok, err := store.Exists(ctx, key); err != nil || !ok {
		t.Fatalf("%s not stored (%v)", key, err)
	}
	for _, p := range storage.PublicPrefixes {
		if strings.HasPrefix(key, p) {
			t.Errorf("cache key %s is public", key)
		}
	}

	img, err := newLoader(srv.fetcher()).Load(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 64 {
		t.Errorf("bounds = %v", img.Bounds())
	}
	if n := srv.count("/a.png"); n != 1 {
		t.Errorf("server saw %d requests, want 1: the second Loader did not use the object cache", n)
	}

	// The host allow-list still applies to cached images.
	if _, err := newLoader(NewFetcher()).Load(ctx, url); !errors.Is(err, ErrFetchRefused) {
		t.Errorf("cached image of a host no longer allowed: got %v", err)
	}

	// A corrupt cache entry is fetched again and replaced.
	sum = sha256.Sum256([]byte(srv.URL + "/b.png"))
	bkey := ObjectCachePrefix + hex.EncodeToString(sum[:])
	if err := store.Put(ctx, bkey, []byte("garbage"), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := newLoader(srv.fetcher()).Load(ctx, srv.URL+"/b.png"); err != nil {
		t.Fatal(err)
	}
	if o, err := store.Get(ctx, bkey); err != nil || !bytes.Equal(o.Data, srv.files["/b.png"]) {
		t.Errorf("corrupt cache entry not replaced (%v)", err)
	}
}

// TestLoaderObjectCacheDown: a failing object store only costs the cache.
func TestLoaderObjectCacheDown(t *testing.T) {
	srv := newLoaderServer(t, map[string][]byte{"/a.png": avatarPNG(t, 64, 64)})
	down := errors.New("connection refused")
	var logs bytes.Buffer
	l := newTestLoader(t, WithFetcher(srv.fetcher()),
		WithObjectCache(
			func(context.Context, string) ([]byte, error) { return nil, down },
			func(context.Context, string, []byte) error { return down }),
		WithLoaderLogger(slogTo(&logs)))
	if _, err := l.Load(context.Background(), srv.URL+"/a.png?"+secret); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "image cache unavailable") || !strings.Contains(logs.String(), "cannot cache image") {
		t.Errorf("failures not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("log leaks the query: %s", logs.String())
	}
}

// TestLoaderDecodesToRGBA: every format comes out as an *image.RGBA at the
// origin; a GIF's first frame sits on its full logical screen.
func TestLoaderDecodesToRGBA(t *testing.T) {
	red := color.RGBA{0xff, 0, 0, 0xff}
	blue := color.RGBA{0, 0, 0xff, 0xff}
	pal := color.Palette{color.Transparent, red, blue}
	f1 := image.NewPaletted(image.Rect(10, 5, 30, 15), pal) // first frame, offset
	f2 := image.NewPaletted(image.Rect(0, 0, 40, 20), pal)
	for i := range f1.Pix {
		f1.Pix[i] = 1
	}
	for i := range f2.Pix {
		f2.Pix[i] = 2
	}
	var anim bytes.Buffer
	if err := gif.EncodeAll(&anim, &gif.GIF{
		Image: []*image.Paletted{f1, f2}, Delay: []int{10, 10},
		Config: image.Config{ColorModel: pal, Width: 40, Height: 20},
	}); err != nil {
		t.Fatal(err)
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, testimage.Poster(24, 16), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	l := newTestLoader(t)
	for _, tt := range []struct {
		name string
		data []byte
		size image.Point
	}{
		{"jpeg", jpg.Bytes(), image.Pt(24, 16)},
		{"png", avatarPNG(t, 20, 10), image.Pt(20, 10)},
		{"webp", mustBase64(t, webpLossy), image.Pt(1, 1)},
		{"gif", anim.Bytes(), image.Pt(40, 20)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			img, err := l.Load(context.Background(), dataURI("image/"+tt.name, tt.data))
			if err != nil {
				t.Fatal(err)
			}
			m, ok := img.(*image.RGBA)
			if !ok || m.Rect != (image.Rectangle{Max: tt.size}) {
				t.Fatalf("got %T %v, want *image.RGBA %v", img, img.Bounds(), tt.size)
			}
			if tt.name != "gif" {
				return
			}
			for _, c := range []struct {
				p    image.Point
				want color.RGBA
			}{{image.Pt(15, 10), red}, {image.Pt(2, 2), color.RGBA{}}, {image.Pt(35, 18), color.RGBA{}}} {
				if got := m.RGBAAt(c.p.X, c.p.Y); got != c.want {
					t.Errorf("pixel %v = %v, want %v (first frame at its offset, transparent elsewhere)", c.p, got, c.want)
				}
			}
		})
	}
}

func ExampleLoader() {
	// In production: WithFetcher(NewFetcher(WithAllowedHosts(...))),
	// WithOwnObjects(publicBase, get) and WithObjectCache(get, put) on the
	// bucket; see docs/images.md.
	l, err := NewLoader()
	if err != nil {
		fmt.Println(err)
		return
	}
	png := []byte("\x89PNG\r\n\x1a\n") // truncated: refused as corrupt, not fetched
	_, err = l.Load(context.Background(), dataURI("image/png", png))
	fmt.Println(err != nil)
	// Output: true
}
