package imagesrc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"

	"github.com/wxposter/wxposter/poster/budget"
)

// defaultMaxPixels is the limit Decode applies when given maxPixels <= 0:
// 16 megapixels is 64 MB as RGBA.
const defaultMaxPixels = 16_000_000

// Errors of Decode, for callers that treat bad input as permanent.
var (
	ErrUnknownFormat = errors.New("poster: unknown image format (want jpeg, png, gif or webp)")
	ErrTooManyPixels = errors.New("poster: image has too many pixels")
	// ErrTooComplex is an image whose decoding would cost far more than
	// its size suggests (a progressive JPEG with thousands of scans).
	ErrTooComplex = errors.New("poster: image is too costly to decode")
)

// MaxJPEGScans bounds the scans of a (progressive) JPEG: encoders write
// about 10; each scan makes the decoder walk the whole image again, so a
// few kilobytes of empty scans can burn a minute of CPU.
const MaxJPEGScans = 100

// jpegScans counts the start-of-scan markers (FF DA) of a JPEG. Entropy-coded
// data stuffs every FF with 00, so each FF DA is a marker (an embedded
// thumbnail's count too, which only errs on the safe side).
func jpegScans(data []byte) int {
	return bytes.Count(data, []byte{0xff, 0xda})
}

// ctxReader stops a decoder soon after ctx ends: decoders read as they
// go, and small reads make them come back often.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > 512 {
		p = p[:512]
	}
	return c.r.Read(p)
}

type codec struct {
	decode       func(io.Reader) (image.Image, error)
	decodeConfig func(io.Reader) (image.Config, error)
}

var codecs = map[string]codec{
	"jpeg": {jpeg.Decode, jpeg.DecodeConfig},
	"png":  {png.Decode, png.DecodeConfig},
	"gif":  {gif.Decode, gif.DecodeConfig}, // gif.Decode stops after the first frame
	"webp": {webp.Decode, webp.DecodeConfig},
}

// Sniff returns "jpeg", "png", "gif", "webp" or "" from the magic bytes of data.
func Sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "jpeg"
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "gif"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "webp"
	}
	return ""
}

// Decode decodes JPEG, PNG, GIF (first frame) or WebP data and returns the
// image and its format name. The size in the header is checked first and an
// image over maxPixels (width*height; <= 0 means 16 megapixels) is refused
// before any pixel is decoded: a tiny file can claim a huge canvas. The image
// is the decoder's own type (*image.YCbCr for most JPEGs, *image.Paletted
// for GIFs, whose first frame may cover only part of the canvas).
func Decode(data []byte, maxPixels int) (image.Image, string, error) {
	img, format, _, err := decode(context.Background(), data, maxPixels)
	return img, format, err
}

// DecodeRGBA is Decode converted to an *image.RGBA with its origin at (0, 0),
// the type renders draw fastest from. A GIF's first frame is placed on its
// full logical screen, transparent where the frame does not reach.
func DecodeRGBA(data []byte, maxPixels int) (*image.RGBA, string, error) {
	return DecodeRGBAContext(context.Background(), data, maxPixels)
}

// DecodeRGBAContext is DecodeRGBA within a render: the image's pixels (its
// header's, checked again on the decoded result) are taken from the
// render's budget (budget.From(ctx)) before decoding, and the decoder stops
// soon after ctx ends (it reads through a context-checking reader).
func DecodeRGBAContext(ctx context.Context, data []byte, maxPixels int) (*image.RGBA, string, error) {
	img, format, cfg, err := decode(ctx, data, maxPixels)
	if err != nil {
		return nil, format, err
	}
	if m, ok := img.(*image.RGBA); ok && m.Rect.Min == (image.Point{}) {
		return m, format, nil
	}
	canvas := img.Bounds().Sub(img.Bounds().Min)
	at := img.Bounds().Min
	if format == "gif" {
		canvas, at = image.Rect(0, 0, cfg.Width, cfg.Height), image.Point{}
	}
	dst := image.NewRGBA(canvas)
	draw.Draw(dst, img.Bounds().Sub(at), img, img.Bounds().Min, draw.Src)
	return dst, format, nil
}

func decode(ctx context.Context, data []byte, maxPixels int) (image.Image, string, image.Config, error) {
	img, format, cfg, err := decodeChecked(ctx, data, maxPixels)
	if err != nil {
		return nil, format, cfg, err
	}
	// The decoders honour their header; this guards against one that
	// does not.
	if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > int64(cfg.Width)*int64(cfg.Height) {
		return nil, format, cfg, fmt.Errorf("%w: %s decoded to %v, larger than its header's %dx%d",
			ErrTooManyPixels, format, b, cfg.Width, cfg.Height)
	}
	return img, format, cfg, nil
}

func decodeChecked(ctx context.Context, data []byte, maxPixels int) (image.Image, string, image.Config, error) {
	if maxPixels <= 0 {
		maxPixels = defaultMaxPixels
	}
	format := Sniff(data)
	c, ok := codecs[format]
	if !ok {
		return nil, "", image.Config{}, ErrUnknownFormat
	}
	cfg, err := c.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, format, cfg, fmt.Errorf("poster: decode %s header: %w", format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, format, cfg, fmt.Errorf("poster: decode %s: empty image %dx%d", format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, format, cfg, fmt.Errorf("%w: %s is %dx%d, limit %d pixels",
			ErrTooManyPixels, format, cfg.Width, cfg.Height, maxPixels)
	}
	if format == "jpeg" {
		if n := jpegScans(data); n > MaxJPEGScans {
			return nil, format, cfg, fmt.Errorf("%w: jpeg has %d scans, limit %d", ErrTooComplex, n, MaxJPEGScans)
		}
	}
	if err := budget.From(ctx).TakeImage(int64(cfg.Width)*int64(cfg.Height), "image"); err != nil {
		return nil, format, cfg, err
	}
	img, err := c.decode(&ctxReader{ctx: ctx, r: bytes.NewReader(data)})
	if err != nil {
		if cerr := budget.Check(ctx, "image"); cerr != nil {
			return nil, format, cfg, cerr
		}
		return nil, format, cfg, fmt.Errorf("poster: decode %s: %w", format, err)
	}
	return img, format, cfg, nil
}
