package wxsim

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"

	"github.com/skip2/go-qrcode"
)

const jpegQuality = 90

// renderCode draws spec.text as a standard QR code. WeChat draws a round
// "sun code" for two of the endpoints; a plain QR code is used instead so
// tests can decode what was asked for.
//
// The image is exactly spec.width pixels square: modules are an integer
// number of pixels (so they stay crisp) and the remainder widens the quiet
// zone that go-qrcode's bitmap already includes. Output is deterministic.
func renderCode(spec codeSpec) (ctype string, body []byte, err error) {
	q, err := qrcode.New(spec.text, qrcode.Medium)
	if err != nil {
		return "", nil, err
	}
	bits := q.Bitmap()
	n := len(bits)
	scale := max(spec.width/max(n, 1), 1)
	side := max(spec.width, scale*n)
	off := (side - scale*n) / 2

	img := image.NewNRGBA(image.Rect(0, 0, side, side)) // transparent
	if !spec.png {
		draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	}
	fg := image.NewUniform(spec.fg)
	for y, row := range bits {
		for x, on := range row {
			if on {
				r := image.Rect(off+x*scale, off+y*scale, off+(x+1)*scale, off+(y+1)*scale)
				draw.Draw(img, r, fg, image.Point{}, draw.Src)
			}
		}
	}

	var buf bytes.Buffer
	if spec.png {
		err = png.Encode(&buf, img)
		ctype = "image/png"
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality})
		ctype = "image/jpeg"
	}
	if err != nil {
		return "", nil, err
	}
	return ctype, buf.Bytes(), nil
}
