package poster

import (
	"errors"
	"fmt"
	"image/color"
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

// stopPositions resolves the colour stops of a gradient line glen px long
// (k output px per rpx) to fractions of the line, CSS's way: a missing first
// or last stop is 0 or 1, a stop never goes before an earlier one, and runs
// of unset stops are spread evenly.
func (g *gradient) stopPositions(glen, k float64) []float64 {
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
	return pos
}
