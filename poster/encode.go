package poster

import (
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"sync"
)

// DefaultJPEGQuality is used when EncodeJPEG gets a quality outside 1..100.
const DefaultJPEGQuality = 85

// EncodeJPEG writes img as a baseline JPEG. A quality outside 1..100 selects
// DefaultJPEGQuality. The stdlib encoder takes ~30 ms for a 750×1334 poster,
// most of a render; libjpeg-turbo may replace it later.
func EncodeJPEG(w io.Writer, img image.Image, quality int) error {
	if quality < 1 || quality > 100 {
		quality = DefaultJPEGQuality
	}
	if err := jpeg.Encode(w, img, &jpeg.Options{Quality: quality}); err != nil {
		return fmt.Errorf("poster: encode jpeg: %w", err)
	}
	return nil
}

// pngEncoder reuses the encoder's compression buffers across calls.
var pngEncoder = png.Encoder{
	CompressionLevel: png.DefaultCompression,
	BufferPool:       &pngBufferPool{},
}

type pngBufferPool struct{ p sync.Pool }

func (b *pngBufferPool) Get() *png.EncoderBuffer {
	if v, ok := b.p.Get().(*png.EncoderBuffer); ok {
		return v
	}
	return nil
}

func (b *pngBufferPool) Put(v *png.EncoderBuffer) { b.p.Put(v) }

// EncodePNG writes img as a PNG. It suits transparent codes; for photo-like
// posters it is ~10× slower and larger than JPEG.
func EncodePNG(w io.Writer, img image.Image) error {
	if err := pngEncoder.Encode(w, img); err != nil {
		return fmt.Errorf("poster: encode png: %w", err)
	}
	return nil
}
