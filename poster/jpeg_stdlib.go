//go:build !cgo

package poster

import (
	"image"
	"io"
)

// JPEGEncoder names the JPEG encoder EncodeJPEG uses, for logs: this build
// has no cgo, so it is the standard library's.
const JPEGEncoder = "stdlib"

func encodeJPEG(w io.Writer, img *image.RGBA, quality int) error {
	return encodeStdJPEG(w, img, quality)
}

// jpegEncoders are the encoders this build has, for tests and benchmarks.
var jpegEncoders = []namedJPEGEncoder{{"stdlib", encodeStdJPEG}}
