package worker

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

func transparentPNG(tb testing.TB) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
