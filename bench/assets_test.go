package bench

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
)

// The reference poster's inputs, made deterministically so that both
// renderers get the same bytes:
//
//   - background: 750×1334 photo-like JPEG (q90): a colour field with soft
//     blobs and noise (σ≈6, so encoders work as hard as on a photo) and a
//     white panel at the bottom;
//   - code: the 430 px round mini-program code as WeChat sends it with
//     is_hyaline=true: a transparent PNG of 10 px modules;
//   - avatar: a 132 px JPEG, the size of a WeChat /132 avatar.
type assets struct {
	background, code, avatar []byte // encoded
}

var (
	assetsOnce sync.Once
	theAssets  assets
	assetsErr  error
)

func referenceAssets() (assets, error) {
	assetsOnce.Do(func() { theAssets, assetsErr = makeAssets() })
	return theAssets, assetsErr
}

func makeAssets() (assets, error) {
	var a assets
	var err error
	if a.background, err = encodeJPEG(background(750, 1334), 90); err != nil {
		return a, err
	}
	if a.code, err = encodePNG(code(430)); err != nil {
		return a, err
	}
	if a.avatar, err = encodeJPEG(avatar(132), 90); err != nil {
		return a, err
	}
	return a, nil
}

func background(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(7, 11))
	blobs := [][3]float64{{200, 300, 260}, {560, 520, 220}, {380, 860, 300}}
	panel := h - 420
	for y := range h {
		for x := range w {
			var r, g, b float64
			if y >= panel {
				r, g, b = 255, 255, 255
			} else {
				r = 70 + 100*float64(x)/float64(w)
				g = 120 + 60*float64(y)/float64(panel)
				b = 190 - 50*float64(x+y)/float64(w+h)
				for i, bl := range blobs {
					d := math.Hypot(float64(x)-bl[0], float64(y)-bl[1]) / bl[2]
					k := 60 * math.Exp(-d*d)
					switch i {
					case 0:
						r += k
					case 1:
						g += k
					default:
						r, b = r+k/2, b+k
					}
				}
				n := rng.NormFloat64() * 6
				r, g, b = r+n, g+n, b+n
			}
			o := m.PixOffset(x, y)
			m.Pix[o], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = clamp(r), clamp(g), clamp(b), 0xff
		}
	}
	return m
}

// code draws a round code: dark modules on a transparent disc, with the
// three finder-like rings of a wxacode.
func code(d int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, d, d))
	rng := rand.New(rand.NewPCG(3, 5))
	c := float64(d) / 2
	const mod = 10
	for my := 0; my < d; my += mod {
		for mx := 0; mx < d; mx += mod {
			if math.Hypot(float64(mx+mod/2)-c, float64(my+mod/2)-c) > c-4 || rng.IntN(2) == 0 {
				continue
			}
			for y := my; y < min(my+mod, d); y++ {
				for x := mx; x < min(mx+mod, d); x++ {
					m.SetNRGBA(x, y, color.NRGBA{0x1a, 0x1a, 0x1a, 0xff})
				}
			}
		}
	}
	return m
}

func avatar(d int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, d, d))
	for y := range d {
		for x := range d {
			t := float64(x+y) / float64(2*d)
			c := color.RGBA{clamp(240 - 120*t), clamp(120 + 80*t), clamp(60 + 180*t), 0xff}
			if math.Hypot(float64(x-d/2), float64(y-d*2/5)) < float64(d)/5 {
				c = color.RGBA{0xff, 0xd3, 0x9b, 0xff}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func clamp(v float64) uint8 { return uint8(min(max(v, 0), 255)) }

func encodeJPEG(m image.Image, q int) ([]byte, error) {
	var b bytes.Buffer
	err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q})
	return b.Bytes(), err
}

func encodePNG(m image.Image) ([]byte, error) {
	var b bytes.Buffer
	err := png.Encode(&b, m)
	return b.Bytes(), err
}

// Noto Sans CJK SC, face 2 of Debian's fonts-noto-cjk collections (the
// same files wxposter's renderer finds).
var fontDirs = []string{"/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk", "/usr/share/fonts/google-noto-cjk"}

func loadNotoSC(file string) (*sfnt.Font, error) {
	if d := os.Getenv("WXPOSTER_FONT_DIR"); d != "" {
		fontDirs = append([]string{d}, fontDirs...)
	}
	for _, dir := range fontDirs {
		data, err := os.ReadFile(dir + "/" + file)
		if err != nil {
			continue
		}
		coll, err := opentype.ParseCollection(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for i := range coll.NumFonts() {
			f, err := coll.Font(i)
			if err != nil {
				return nil, err
			}
			if name, _ := f.Name(nil, sfnt.NameIDFamily); name == "Noto Sans CJK SC" {
				return f, nil
			}
		}
		return nil, fmt.Errorf("%s has no Noto Sans CJK SC face", file)
	}
	return nil, fmt.Errorf("%s not found in %v (install fonts-noto-cjk)", file, fontDirs)
}

func newFace(f *sfnt.Font, px float64) (font.Face, error) {
	return opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingNone})
}
