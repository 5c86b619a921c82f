package poster

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
)

// paint is what fills a shape: nothing, a colour or a gradient.
type paint struct {
	kind  paintKind
	color color.NRGBA
	grad  *gradient
}

type paintKind uint8

const (
	paintNone paintKind = iota
	paintColor
	paintGradient
)

func (p paint) isSet() bool { return p.kind != paintNone }

// gradient is a CSS linear-gradient() or radial-gradient().
type gradient struct {
	radial bool
	// linear: CSS angle in degrees (0 = to top, 90 = to right), or a corner
	// keyword, whose angle depends on the box.
	angle  float64
	corner [2]int8 // {x, y}: -1 left/top, +1 right/bottom; {0,0} = use angle
	// radial
	circle bool
	size   radialSize
	atX    float64 // centre, fraction of the box
	atY    float64
	stops  []gradStop
}

type radialSize uint8

const (
	farthestCorner radialSize = iota
	farthestSide
	closestCorner
	closestSide
)

// gradStop is a colour stop; pos is unset (nil expr) or a length or %.
type gradStop struct {
	color color.NRGBA
	pos   length
}

// parsePaint parses a colour or, if allowGradient, a gradient.
func parsePaint(s string, allowGradient bool) (paint, error) {
	ls := strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(ls, "linear-gradient(") || strings.HasPrefix(ls, "radial-gradient(") {
		if !allowGradient {
			return paint{}, errors.New("a gradient is not allowed here, only a colour")
		}
		g, err := parseGradient(ls)
		if err != nil {
			return paint{}, err
		}
		return paint{kind: paintGradient, grad: g}, nil
	}
	c, err := parseColor(ls)
	if err != nil {
		return paint{}, err
	}
	return paint{kind: paintColor, color: c}, nil
}

// splitTop splits s at sep outside parentheses.
func splitTop(s string, sep func(rune) bool) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')':
			depth--
		case depth == 0 && sep(r):
			out = append(out, s[start:i])
			start = i + len(string(r))
		}
	}
	return append(out, s[start:])
}

func isComma(r rune) bool { return r == ',' }
func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// fields splits on whitespace outside parentheses, dropping empty fields.
func fields(s string) []string {
	var out []string
	for _, f := range splitTop(s, isSpace) {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

const maxGradientStops = 32

func parseGradient(s string) (*gradient, error) {
	open := strings.IndexByte(s, '(')
	if !strings.HasSuffix(s, ")") {
		return nil, errors.New("gradient: missing )")
	}
	g := &gradient{radial: strings.HasPrefix(s, "radial"), angle: 180, atX: 0.5, atY: 0.5}
	args := splitTop(s[open+1:len(s)-1], isComma)
	if len(args) > maxGradientStops+1 {
		return nil, fmt.Errorf("gradient: more than %d colour stops", maxGradientStops)
	}
	first := strings.TrimSpace(args[0])
	var err error
	if g.radial {
		if isRadialShape(first) {
			err = g.parseRadialShape(first)
			args = args[1:]
		}
	} else if strings.HasPrefix(first, "to ") || startsAngle(first) {
		err = g.parseDirection(first)
		args = args[1:]
	}
	if err != nil {
		return nil, err
	}
	sc := &lengthScope{percent: true}
	for _, a := range args {
		f := fields(a)
		if len(f) < 1 || len(f) > 3 {
			return nil, fmt.Errorf("gradient: bad colour stop %q", strings.TrimSpace(a))
		}
		c, err := parseColor(f[0])
		if err != nil {
			return nil, fmt.Errorf("gradient: %w", err)
		}
		if len(f) == 1 {
			g.stops = append(g.stops, gradStop{color: c})
		}
		for _, p := range f[1:] { // "red 10% 20%" is two stops
			l, err := parseLengthString(p, sc)
			if err != nil {
				return nil, fmt.Errorf("gradient: stop %q: %w", strings.TrimSpace(a), err)
			}
			g.stops = append(g.stops, gradStop{color: c, pos: l})
		}
	}
	if len(g.stops) < 2 {
		return nil, errors.New("gradient: want at least two colour stops")
	}
	return g, nil
}

func startsAngle(s string) bool {
	if s == "" {
		return false
	}
	_, err := parseAngle(s, false)
	return err == nil
}

// parseDirection reads "<angle>" or "to <side> [<side>]".
func (g *gradient) parseDirection(s string) error {
	if !strings.HasPrefix(s, "to ") {
		a, err := parseAngle(s, false)
		if err != nil {
			return fmt.Errorf("gradient: %w", err)
		}
		g.angle = a
		return nil
	}
	var x, y int8
	words := strings.Fields(s[3:])
	if len(words) == 0 || len(words) > 2 {
		return fmt.Errorf("gradient: bad direction %q", s)
	}
	for _, w := range words {
		switch {
		case w == "left" && x == 0:
			x = -1
		case w == "right" && x == 0:
			x = 1
		case w == "top" && y == 0:
			y = -1
		case w == "bottom" && y == 0:
			y = 1
		default:
			return fmt.Errorf("gradient: bad direction %q", s)
		}
	}
	switch {
	case x != 0 && y != 0:
		g.corner = [2]int8{x, y}
	case x != 0:
		g.angle = 90 * float64(x) // right 90, left -90
	default:
		g.angle = 90 + 90*float64(y) // bottom 180, top 0
	}
	return nil
}

func isRadialShape(s string) bool {
	for _, w := range strings.Fields(s) {
		switch w {
		case "circle", "ellipse", "closest-side", "closest-corner", "farthest-side", "farthest-corner", "at":
			return true
		}
	}
	return false
}

// parseRadialShape reads "[circle|ellipse] [size keyword] [at <x> <y>]".
func (g *gradient) parseRadialShape(s string) error {
	shape, at, hasAt := strings.Cut(" "+s+" ", " at ")
	for _, w := range strings.Fields(shape) {
		switch w {
		case "circle":
			g.circle = true
		case "ellipse":
		case "farthest-corner":
			g.size = farthestCorner
		case "farthest-side":
			g.size = farthestSide
		case "closest-corner":
			g.size = closestCorner
		case "closest-side":
			g.size = closestSide
		default:
			return fmt.Errorf("gradient: unsupported radial shape %q", w)
		}
	}
	if !hasAt {
		return nil
	}
	pos := strings.Fields(at)
	if len(pos) == 0 || len(pos) > 2 {
		return fmt.Errorf("gradient: bad position %q", strings.TrimSpace(at))
	}
	// One keyword or percentage sets x (or y, for top/bottom); the other stays centred.
	for i, p := range pos {
		v, axis, err := positionValue(p)
		if err != nil {
			return err
		}
		if axis == 'y' || (axis == 0 && i == 1) {
			g.atY = v
		} else {
			g.atX = v
		}
	}
	return nil
}

func positionValue(p string) (float64, byte, error) {
	switch p {
	case "left":
		return 0, 'x', nil
	case "right":
		return 1, 'x', nil
	case "top":
		return 0, 'y', nil
	case "bottom":
		return 1, 'y', nil
	case "center":
		return 0.5, 0, nil
	}
	if n, ok := strings.CutSuffix(p, "%"); ok {
		v, err := parseNumber(n)
		if err == nil {
			return v / 100, 0, nil
		}
	}
	return 0, 0, fmt.Errorf("gradient: bad position %q: want a keyword or a percentage", p)
}

// rectF is a box in output px.
type rectF struct{ x, y, w, h float64 }

// gradientLUT has the premultiplied colours of t in [0, 1], interpolated in
// premultiplied space as CSS does.
type gradientLUT [lutSize]color.RGBA

const lutSize = 1024

// lut resolves the stops for a gradient line of length glen px and builds the
// colour table.
func (g *gradient) lut(glen, k float64) *gradientLUT {
	n := len(g.stops)
	pos := make([]float64, n)
	known := make([]bool, n)
	env := &lengthEnv{k: k, base: 1}
	for i, s := range g.stops {
		if !s.pos.set() {
			continue
		}
		known[i] = true
		if s.pos.e.unit == unitPct {
			pos[i] = s.pos.e.v / 100
		} else if glen > 0 {
			v, _ := s.pos.resolve(env)
			pos[i] = v / glen
		}
	}
	if !known[0] {
		pos[0], known[0] = 0, true
	}
	if !known[n-1] {
		pos[n-1], known[n-1] = 1, true
	}
	// A stop never goes before an earlier one; unset runs are spread evenly.
	for i := 1; i < n; i++ {
		if known[i] {
			pos[i] = max(pos[i], pos[i-1])
		}
	}
	for i := 1; i < n; i++ {
		if known[i] {
			continue
		}
		j := i
		for !known[j] {
			j++
		}
		for m := i; m < j; m++ {
			pos[m] = pos[i-1] + (pos[j]-pos[i-1])*float64(m-i+1)/float64(j-i+1)
		}
		i = j
	}
	var t gradientLUT
	pm := make([]color.RGBA, n)
	for i, s := range g.stops {
		pm[i] = premul(s.color)
	}
	si := 0
	for i := range t {
		x := float64(i) / (lutSize - 1)
		for si < n-1 && pos[si+1] < x {
			si++
		}
		switch {
		case x <= pos[0]:
			t[i] = pm[0]
		case x >= pos[n-1]:
			t[i] = pm[n-1]
		default:
			a, b := pos[si], pos[si+1]
			f := 0.0
			if b > a {
				f = (x - a) / (b - a)
			}
			t[i] = lerpRGBA(pm[si], pm[si+1], f)
		}
	}
	return &t
}

// render paints the gradient for box into dst over r (which dst's bounds
// contain), replacing what was there.
func (g *gradient) render(dst *image.RGBA, r image.Rectangle, box rectF, k float64) {
	if g.radial {
		g.renderRadial(dst, r, box, k)
		return
	}
	angle := g.angle
	if g.corner != [2]int8{} {
		// The gradient line is perpendicular to the diagonal that does not
		// touch the named corner (CSS Images 3, "magic corners").
		a := math.Atan2(box.h, box.w) * 180 / math.Pi
		switch g.corner {
		case [2]int8{1, -1}:
			angle = a
		case [2]int8{1, 1}:
			angle = 180 - a
		case [2]int8{-1, 1}:
			angle = 180 + a
		default:
			angle = 360 - a
		}
	}
	rad := angle * math.Pi / 180
	dx, dy := math.Sin(rad), -math.Cos(rad)
	glen := math.Abs(box.w*dx) + math.Abs(box.h*dy)
	lut := g.lut(glen, k)
	cx, cy := box.x+box.w/2, box.y+box.h/2
	if glen <= 0 {
		fillUniform(dst, r, lut[lutSize-1])
		return
	}
	// t = ((p - c) · d) / glen + 0.5, stepped by dx/glen per pixel.
	step := dx / glen * (lutSize - 1)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		py := float64(y) + 0.5
		t0 := (((float64(r.Min.X)+0.5-cx)*dx+(py-cy)*dy)/glen + 0.5) * (lutSize - 1)
		i := dst.PixOffset(r.Min.X, y)
		pix := dst.Pix[i : i+4*r.Dx() : i+4*r.Dx()]
		for x := 0; x < len(pix); x += 4 {
			c := lut[lutIndex(t0+step*float64(x/4))]
			pix[x], pix[x+1], pix[x+2], pix[x+3] = c.R, c.G, c.B, c.A
		}
	}
}

func lutIndex(f float64) int {
	switch {
	case f <= 0:
		return 0
	case f >= lutSize-1:
		return lutSize - 1
	}
	return int(f + 0.5)
}

func (g *gradient) renderRadial(dst *image.RGBA, r image.Rectangle, box rectF, k float64) {
	cx, cy := box.x+box.w*g.atX, box.y+box.h*g.atY
	// Distances from the centre to the sides.
	l, rt := math.Abs(cx-box.x), math.Abs(box.x+box.w-cx)
	t, b := math.Abs(cy-box.y), math.Abs(box.y+box.h-cy)
	var rx, ry float64
	switch g.size {
	case closestSide:
		rx, ry = min(l, rt), min(t, b)
		if g.circle {
			rx = min(rx, ry)
			ry = rx
		}
	case farthestSide:
		rx, ry = max(l, rt), max(t, b)
		if g.circle {
			rx = max(rx, ry)
			ry = rx
		}
	case closestCorner, farthestCorner:
		sx, sy := min(l, rt), min(t, b)
		if g.size == farthestCorner {
			sx, sy = max(l, rt), max(t, b)
		}
		if g.circle {
			rx = math.Hypot(sx, sy)
			ry = rx
		} else {
			// The ellipse keeps the side ratio and passes through the corner.
			rx, ry = sx*math.Sqrt2, sy*math.Sqrt2
		}
	}
	lut := g.lut(rx, k)
	if rx <= 0 || ry <= 0 {
		fillUniform(dst, r, lut[lutSize-1])
		return
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		fy := (float64(y) + 0.5 - cy) / ry
		fy2 := fy * fy
		i := dst.PixOffset(r.Min.X, y)
		pix := dst.Pix[i : i+4*r.Dx() : i+4*r.Dx()]
		for x := 0; x < len(pix); x += 4 {
			fx := (float64(r.Min.X+x/4) + 0.5 - cx) / rx
			c := lut[lutIndex(math.Sqrt(fx*fx+fy2)*(lutSize-1))]
			pix[x], pix[x+1], pix[x+2], pix[x+3] = c.R, c.G, c.B, c.A
		}
	}
}

// fillUniform sets every pixel of r to c.
func fillUniform(dst *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(dst.Bounds())
	if r.Empty() {
		return
	}
	i := dst.PixOffset(r.Min.X, r.Min.Y)
	row := dst.Pix[i : i+4*r.Dx()]
	for x := 0; x < len(row); x += 4 {
		row[x], row[x+1], row[x+2], row[x+3] = c.R, c.G, c.B, c.A
	}
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		j := dst.PixOffset(r.Min.X, y)
		copy(dst.Pix[j:j+len(row)], row)
	}
}
