//go:build cgo

package poster

import (
	"bytes"
	"image"
	"io"
	"sync"

	libjpeg "github.com/pixiv/go-libjpeg/jpeg"
)

// JPEGEncoder names the JPEG encoder EncodeJPEG uses, for logs: built with
// cgo, libjpeg-turbo (linked as -ljpeg; Debian libjpeg62-turbo-dev).
const JPEGEncoder = "libjpeg-turbo"

// jpegBuffers hold encoded posters between libjpeg and w.
var jpegBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encodeJPEG feeds the RGBA pixels straight to libjpeg-turbo (JCS_EXT_RGBA,
// so no conversion on the Go side). The alpha byte is ignored: img must be
// opaque. It encodes into memory and then writes to w, because go-libjpeg
// cannot report a failing writer (libjpeg would retry it forever).
func encodeJPEG(w io.Writer, img *image.RGBA, quality int) error {
	buf := jpegBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 4<<20 {
			buf.Reset()
			jpegBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if err := libjpeg.Encode(buf, img, &libjpeg.EncoderOptions{Quality: quality}); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// jpegEncoders are the encoders this build has, for tests and benchmarks.
var jpegEncoders = []namedJPEGEncoder{{"libjpeg-turbo", encodeJPEG}, {"stdlib", encodeStdJPEG}}
