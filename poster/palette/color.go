package palette

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"golang.org/x/image/colornames"
)

// parseColor parses a CSS colour: #rgb, #rgba, #rrggbb, #rrggbbaa,
// rgb()/rgba() (commas or spaces, numbers or percentages, "/ alpha"),
// hsl()/hsla() (hue in deg, grad, rad or turn), the 148 named colours and
// "transparent". The result is not premultiplied.
func parseColor(s string) (color.NRGBA, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return color.NRGBA{}, errors.New("empty colour")
	case s[0] == '#':
		return parseHexColor(s[1:])
	case s == "transparent":
		return color.NRGBA{}, nil
	case strings.HasSuffix(s, ")"):
		name, args, ok := strings.Cut(s[:len(s)-1], "(")
		if !ok {
			break
		}
		switch strings.TrimSpace(name) {
		case "rgb", "rgba":
			return parseRGBFunc(args)
		case "hsl", "hsla":
			return parseHSLFunc(args)
		}
		return color.NRGBA{}, fmt.Errorf("unknown colour function %q", strings.TrimSpace(name))
	}
	if c, ok := namedColor(s); ok {
		return c, nil
	}
	return color.NRGBA{}, fmt.Errorf("unknown colour %q", s)
}

// namedColor looks up the CSS named colours: the SVG 1.1 list that
// x/image/colornames holds plus CSS Color 4's rebeccapurple.
func namedColor(s string) (color.NRGBA, bool) {
	if s == "rebeccapurple" {
		return color.NRGBA{0x66, 0x33, 0x99, 0xff}, true
	}
	c, ok := colornames.Map[s]
	return color.NRGBA{c.R, c.G, c.B, 0xff}, ok
}

func parseHexColor(h string) (color.NRGBA, error) {
	nib := func(i int) (uint8, bool) {
		switch c := h[i]; {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		}
		return 0, false
	}
	var v [8]uint8
	for i := range len(h) {
		if i >= len(v) {
			break
		}
		n, ok := nib(i)
		if !ok {
			return color.NRGBA{}, fmt.Errorf("bad hex colour #%s", h)
		}
		v[i] = n
	}
	switch len(h) {
	case 3, 4:
		c := color.NRGBA{v[0] * 17, v[1] * 17, v[2] * 17, 0xff}
		if len(h) == 4 {
			c.A = v[3] * 17
		}
		return c, nil
	case 6, 8:
		c := color.NRGBA{v[0]<<4 | v[1], v[2]<<4 | v[3], v[4]<<4 | v[5], 0xff}
		if len(h) == 8 {
			c.A = v[6]<<4 | v[7]
		}
		return c, nil
	}
	return color.NRGBA{}, fmt.Errorf("bad hex colour #%s: want 3, 4, 6 or 8 digits", h)
}

// colorArgs splits the arguments of rgb()/hsl(): the legacy comma form
// "a, b, c[, d]" or the modern "a b c[ / d]".
func colorArgs(args string) ([]string, error) {
	var parts []string
	if strings.Contains(args, ",") {
		for p := range strings.SplitSeq(args, ",") {
			parts = append(parts, strings.TrimSpace(p))
		}
	} else {
		main, alpha, slash := strings.Cut(args, "/")
		parts = strings.Fields(main)
		if slash {
			parts = append(parts, strings.TrimSpace(alpha))
		}
	}
	if len(parts) != 3 && len(parts) != 4 {
		return nil, fmt.Errorf("want 3 or 4 colour arguments, got %d", len(parts))
	}
	for _, p := range parts {
		if p == "" {
			return nil, errors.New("empty colour argument")
		}
	}
	return parts, nil
}

// parseNumber parses a finite float that is not absurdly large.
func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > maxNumber {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return v, nil
}

// maxNumber bounds every number in a palette: no sane poster needs more, and
// it keeps arithmetic on them finite.
const maxNumber = 1e6

// channel parses an rgb() channel: 0..255 or a percentage, clamped.
func channel(s string) (uint8, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := parseNumber(p)
		if err != nil {
			return 0, err
		}
		return ClampByte(v / 100 * 255), nil
	}
	v, err := parseNumber(s)
	if err != nil {
		return 0, err
	}
	return ClampByte(v), nil
}

// alphaValue parses an alpha: 0..1 or a percentage, clamped.
func alphaValue(s string) (uint8, error) {
	scale := 1.0
	if p, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = p, 0.01
	}
	v, err := parseNumber(s)
	if err != nil {
		return 0, err
	}
	return ClampByte(v * scale * 255), nil
}

func ClampByte(v float64) uint8 { return uint8(math.Round(min(max(v, 0), 255))) }

func parseRGBFunc(args string) (color.NRGBA, error) {
	parts, err := colorArgs(args)
	if err != nil {
		return color.NRGBA{}, err
	}
	var c color.NRGBA
	c.A = 0xff
	for i, dst := range []*uint8{&c.R, &c.G, &c.B} {
		if *dst, err = channel(parts[i]); err != nil {
			return color.NRGBA{}, err
		}
	}
	if len(parts) == 4 {
		if c.A, err = alphaValue(parts[3]); err != nil {
			return color.NRGBA{}, err
		}
	}
	return c, nil
}

func parseHSLFunc(args string) (color.NRGBA, error) {
	parts, err := colorArgs(args)
	if err != nil {
		return color.NRGBA{}, err
	}
	h, err := parseAngle(parts[0], true)
	if err != nil {
		return color.NRGBA{}, err
	}
	var sl [2]float64
	for i := range sl {
		p := strings.TrimSuffix(parts[i+1], "%") // CSS 4 allows bare numbers here
		if sl[i], err = parseNumber(p); err != nil {
			return color.NRGBA{}, err
		}
		sl[i] = min(max(sl[i]/100, 0), 1)
	}
	r, g, b := hslToRGB(h/360, sl[0], sl[1])
	c := color.NRGBA{ClampByte(r * 255), ClampByte(g * 255), ClampByte(b * 255), 0xff}
	if len(parts) == 4 {
		if c.A, err = alphaValue(parts[3]); err != nil {
			return color.NRGBA{}, err
		}
	}
	return c, nil
}

// hslToRGB converts with the CSS Color 4 algorithm; h is in turns.
func hslToRGB(h, s, l float64) (r, g, b float64) {
	h -= math.Floor(h)
	f := func(n float64) float64 {
		k := math.Mod(n+h*12, 12)
		a := s * min(l, 1-l)
		return l - a*max(-1, min(k-3, 9-k, 1))
	}
	return f(0), f(8), f(4)
}

// parseAngle parses a CSS angle and returns degrees: deg, grad, rad, turn, or
// a bare number if unitless is allowed (hsl hues; "0" is always allowed).
func parseAngle(s string, unitless bool) (float64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		deg    float64
	}{{"deg", 1}, {"grad", 0.9}, {"rad", 180 / math.Pi}, {"turn", 360}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := parseNumber(n)
			if err != nil {
				return 0, fmt.Errorf("bad angle %q", s)
			}
			return v * u.deg, nil
		}
	}
	v, err := parseNumber(s)
	if err != nil || (!unitless && v != 0) {
		return 0, fmt.Errorf("bad angle %q: want deg, grad, rad or turn", s)
	}
	return v, nil
}

// Premul converts to the premultiplied colour image/draw works with.
func Premul(c color.NRGBA) color.RGBA {
	a := uint32(c.A)
	return color.RGBA{
		uint8((uint32(c.R)*a + 127) / 255),
		uint8((uint32(c.G)*a + 127) / 255),
		uint8((uint32(c.B)*a + 127) / 255),
		c.A,
	}
}
