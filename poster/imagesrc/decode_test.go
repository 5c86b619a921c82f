package imagesrc

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

// 1×1 WebP images (the ones Modernizr uses to detect WebP support).
const (
	webpLossy    = "UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA"
	webpLossless = "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="
)

// pngHeader returns only the signature and IHDR chunk of a w×h RGB PNG: enough
// for DecodeConfig, while a full decode would fail for want of IDAT.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB; compression, filter, interlace 0
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func encoded(t *testing.T, format string, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		err = gif.Encode(&b, img, nil)
	case "webp":
		return mustBase64(t, webpLossless)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustBase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
	}{
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00", "png"},
		{"gif87a", "GIF87a\x01\x00", "gif"},
		{"gif89a", "GIF89a\x01\x00", "gif"},
		{"webp", "RIFF\x1a\x00\x00\x00WEBPVP8L", "webp"},
		{"riff but wave", "RIFF\x1a\x00\x00\x00WAVEfmt ", ""},
		{"short riff", "RIFF\x1a\x00", ""},
		{"empty", "", ""},
		{"json error from WeChat", `{"errcode":45009,"errmsg":"reach max api daily quota limit"}`, ""},
		{"html", "<!DOCTYPE html>", ""},
		{"truncated png signature", "\x89PNG\r\n", ""},
	}
	for _, tt := range tests {
		if got := Sniff([]byte(tt.data)); got != tt.want {
			t.Errorf("%s: Sniff = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDecode(t *testing.T) {
	small := image.NewRGBA(image.Rect(0, 0, 20, 10))
	for i := range small.Pix {
		small.Pix[i] = 0x80
	}
	pal := image.NewPaletted(image.Rect(0, 0, 20, 10), color.Palette{color.Black, color.White})
	tests := []struct {
		name      string
		data      []byte
		maxPixels int
		format    string
		size      image.Point
		err       error
	}{
		{"png", encoded(t, "png", small), 1000, "png", image.Pt(20, 10), nil},
		{"jpeg", encoded(t, "jpeg", small), 1000, "jpeg", image.Pt(20, 10), nil},
		{"gif", encoded(t, "gif", pal), 1000, "gif", image.Pt(20, 10), nil},
		{"webp lossless", mustBase64(t, webpLossless), 1000, "webp", image.Pt(1, 1), nil},
		{"webp lossy", mustBase64(t, webpLossy), 1000, "webp", image.Pt(1, 1), nil},
		{"exactly at the limit", encoded(t, "png", small), 200, "png", image.Pt(20, 10), nil},
		{"one pixel over the limit", encoded(t, "png", small), 199, "png", image.Point{}, ErrTooManyPixels},
		{"decompression bomb header", pngHeader(50000, 50000), 16_000_000, "png", image.Point{}, ErrTooManyPixels},
		{"bomb with default limit", pngHeader(50000, 50000), 0, "png", image.Point{}, ErrTooManyPixels},
		{"unknown format", []byte("not an image"), 1000, "", image.Point{}, ErrUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, format, err := Decode(tt.data, tt.maxPixels)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || img != nil {
					t.Fatalf("got %v, %v; want error %v", img, err, tt.err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if got := img.Bounds().Size(); got != tt.size {
				t.Errorf("size = %v, want %v", got, tt.size)
			}
			if format != tt.format {
				t.Errorf("format = %q, want %q", format, tt.format)
			}
		})
	}
}

func TestDecodeBombMessage(t *testing.T) {
	_, _, err := Decode(pngHeader(50000, 50000), 16_000_000)
	if err == nil || !strings.Contains(err.Error(), "50000x50000") {
		t.Errorf("error %v should name the claimed size", err)
	}
	// A header that fits the limit goes on to a real decode, which fails: the
	// refusal above really came from the header alone.
	if _, _, err := Decode(pngHeader(10, 10), 1000); err == nil || errors.Is(err, ErrTooManyPixels) {
		t.Errorf("header-only PNG within the limit: got %v, want a decode error", err)
	}
}

// Headers that claim a huge canvas, one per format: each must be refused
// from its header alone (none carries any pixel data).
func gifHeader(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 0, 0) // no global colour table
}

func jpegHeader(w, h uint16) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xc0, 0, 17, 8}
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	return append(b, 0xff, 0xda, 0, 8) // start of scan: where DecodeConfig stops

}

func webpVP8XHeader(w, h uint32) []byte {
	chunk := []byte("VP8X\x0a\x00\x00\x00\x00\x00\x00\x00")
	chunk = append(chunk, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+len(chunk)))
	return append(append(b, "WEBP"...), chunk...)
}

func TestDecodeBombs(t *testing.T) {
	for _, tt := range []struct {
		name, format string
		data         []byte
	}{
		{"png 50000x50000", "png", pngHeader(50000, 50000)},
		{"gif 50000x50000", "gif", gifHeader(50000, 50000)},
		{"jpeg 50000x50000", "jpeg", jpegHeader(50000, 50000)},
		{"webp 16000x16000", "webp", webpVP8XHeader(16000, 16000)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, decode := range []func([]byte, int) (image.Image, string, error){
				Decode,
				func(b []byte, n int) (image.Image, string, error) {
					m, f, err := DecodeRGBA(b, n)
					if m == nil {
						return nil, f, err
					}
					return m, f, err
				},
			} {
				img, format, err := decode(tt.data, 0)
				if !errors.Is(err, ErrTooManyPixels) || img != nil {
					t.Errorf("got %v, want ErrTooManyPixels", err)
				}
				if format != tt.format {
					t.Errorf("format = %q, want %q", format, tt.format)
				}
			}
		})
	}
}

func TestDecodeRGBA(t *testing.T) {
	nrgba := image.NewNRGBA(image.Rect(0, 0, 8, 4))
	for i := range nrgba.Pix {
		nrgba.Pix[i] = 0x80 // 50 % alpha: premultiplied on the way to RGBA
	}
	pal := image.NewPaletted(image.Rect(0, 0, 20, 10), color.Palette{color.Black, color.White})
	for _, tt := range []struct {
		name, format string
		data         []byte
		size         image.Point
	}{
		{"png with alpha", "png", encoded(t, "png", nrgba), image.Pt(8, 4)},
		{"jpeg", "jpeg", encoded(t, "jpeg", nrgba), image.Pt(8, 4)},
		{"gif", "gif", encoded(t, "gif", pal), image.Pt(20, 10)},
		{"webp lossy", "webp", mustBase64(t, webpLossy), image.Pt(1, 1)},
		{"webp lossless", "webp", mustBase64(t, webpLossless), image.Pt(1, 1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, format, err := DecodeRGBA(tt.data, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if format != tt.format || m.Rect != (image.Rectangle{Max: tt.size}) {
				t.Errorf("got %s %v, want %s %v", format, m.Rect, tt.format, tt.size)
			}
		})
	}
	m, _, err := DecodeRGBA(encoded(t, "png", nrgba), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.RGBAAt(0, 0); got != (color.RGBA{0x40, 0x40, 0x40, 0x80}) {
		t.Errorf("NRGBA 0x80 pixel = %v, want premultiplied 0x40 0x40 0x40 0x80", got)
	}
	if _, _, err := DecodeRGBA([]byte("nope"), 0); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("got %v, want ErrUnknownFormat", err)
	}
}
