package poster

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"
)

// defaultMaxPixels is the limit Decode applies when given maxPixels <= 0:
// 16 megapixels is 64 MB as RGBA.
const defaultMaxPixels = 16_000_000

// Errors of Decode, for callers that treat bad input as permanent.
var (
	ErrUnknownFormat = errors.New("poster: unknown image format (want jpeg, png, gif or webp)")
	ErrTooManyPixels = errors.New("poster: image has too many pixels")
)

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
// before any pixel is decoded: a tiny file can claim a huge canvas.
func Decode(data []byte, maxPixels int) (image.Image, string, error) {
	if maxPixels <= 0 {
		maxPixels = defaultMaxPixels
	}
	format := Sniff(data)
	c, ok := codecs[format]
	if !ok {
		return nil, "", ErrUnknownFormat
	}
	cfg, err := c.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, format, fmt.Errorf("poster: decode %s header: %w", format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, format, fmt.Errorf("poster: decode %s: empty image %dx%d", format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, format, fmt.Errorf("%w: %s is %dx%d, limit %d pixels",
			ErrTooManyPixels, format, cfg.Width, cfg.Height, maxPixels)
	}
	img, err := c.decode(bytes.NewReader(data))
	if err != nil {
		return nil, format, fmt.Errorf("poster: decode %s: %w", format, err)
	}
	return img, format, nil
}
