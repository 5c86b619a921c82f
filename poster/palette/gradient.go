package palette

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strings"
)

// Paint is what fills a shape: nothing, a colour or a gradient.
type Paint struct {
	Kind  paintKind
	Color color.NRGBA
	Grad  *Gradient
}

type paintKind uint8

const (
	paintNone paintKind = iota
	PaintColor
	PaintGradient
)

func (p Paint) IsSet() bool { return p.Kind != paintNone }

// Gradient is a CSS linear-gradient() or radial-gradient().
type Gradient struct {
	Radial bool
	// Painter: a radial gradient drawn Painter's way, a circle of radius
	// max(w, h)/2 about the centre of the box (Size and At are ignored).
	Painter bool
	// linear: CSS angle in degrees (0 = to top, 90 = to right), or a corner
	// keyword, whose angle depends on the box.
	Angle  float64
	Corner [2]int8 // {x, y}: -1 left/top, +1 right/bottom; {0,0} = use angle
	// radial
	Circle bool
	Size   radialSize
	AtX    float64 // centre, fraction of the box
	AtY    float64
	Stops  []Stop
}

type radialSize uint8

const (
	FarthestCorner radialSize = iota
	FarthestSide
	ClosestCorner
	ClosestSide
)

// Stop is a colour stop; pos is unset (nil expr) or a length or %.
type Stop struct {
	Color color.NRGBA
	pos   Length
}

// parsePaint parses a colour or, if allowGradient, a gradient read the
// compat way; warn receives what Painter would draw differently.
func parsePaint(s string, allowGradient bool, compat Compat, warn func(string)) (Paint, error) {
	ls := strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(ls, "linear-gradient(") || strings.HasPrefix(ls, "radial-gradient(") {
		if !allowGradient {
			return Paint{}, errors.New("a gradient is not allowed here, only a colour")
		}
		g, err := parseGradient(ls, compat, warn)
		if err != nil {
			return Paint{}, err
		}
		return Paint{Kind: PaintGradient, Grad: g}, nil
	}
	c, err := parseColor(ls)
	if err != nil {
		return Paint{}, err
	}
	return Paint{Kind: PaintColor, Color: c}, nil
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

// parseGradient reads a CSS gradient. With CompatPainter, what Painter can
// express is drawn Painter's way (lib/gradient.js): an explicit linear angle
// points the opposite way to CSS (Painter's 90deg starts on the right), and
// a radial gradient without a shape is a circle of radius max(w, h)/2 about
// the centre. What Painter cannot express (to <side>, radial shapes, stops
// without a position) is drawn as CSS, with a warning.
func parseGradient(s string, compat Compat, warn func(string)) (*Gradient, error) {
	open := strings.IndexByte(s, '(')
	if !strings.HasSuffix(s, ")") {
		return nil, errors.New("gradient: missing )")
	}
	g := &Gradient{Radial: strings.HasPrefix(s, "radial"), Angle: 180, AtX: 0.5, AtY: 0.5}
	args := splitTop(s[open+1:len(s)-1], isComma)
	if len(args) > maxGradientStops+1 {
		return nil, fmt.Errorf("gradient: more than %d colour stops", maxGradientStops)
	}
	first := strings.TrimSpace(args[0])
	painter := compat == CompatPainter
	var err error
	switch {
	case g.Radial && isRadialShape(first):
		err = g.parseRadialShape(first)
		args = args[1:]
		if painter {
			warn("Painter draws every radial gradient as a circle of radius max(width, height)/2 about the centre; this shape is drawn as CSS")
		}
	case g.Radial:
		g.Painter = painter
	case strings.HasPrefix(first, "to "):
		err = g.parseDirection(first)
		args = args[1:]
		if painter {
			warn("Painter does not read \"" + first + "\" (it draws top to bottom); drawn as CSS")
		}
	case startsAngle(first):
		err = g.parseDirection(first)
		args = args[1:]
		if painter {
			g.Angle = math.Mod(g.Angle+180, 360) // Painter's θ is CSS's θ+180°
		}
	case painter:
		warn("Painter takes the first argument as the angle and drops the first colour stop; give an angle, e.g. \"linear-gradient(0deg, ...)\" for top to bottom")
	}
	if err != nil {
		return nil, err
	}
	sc := &lengthScope{percent: true}
	warnedStop := false
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
			g.Stops = append(g.Stops, Stop{Color: c})
			if painter && !warnedStop {
				warn("Painter needs a % after every colour stop")
				warnedStop = true
			}
		}
		for _, p := range f[1:] { // "red 10% 20%" is two stops
			l, err := parseLengthString(p, sc)
			if err != nil {
				return nil, fmt.Errorf("gradient: stop %q: %w", strings.TrimSpace(a), err)
			}
			g.Stops = append(g.Stops, Stop{Color: c, pos: l})
		}
	}
	if len(g.Stops) < 2 {
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
func (g *Gradient) parseDirection(s string) error {
	if !strings.HasPrefix(s, "to ") {
		a, err := parseAngle(s, false)
		if err != nil {
			return fmt.Errorf("gradient: %w", err)
		}
		g.Angle = a
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
		g.Corner = [2]int8{x, y}
	case x != 0:
		g.Angle = 90 * float64(x) // right 90, left -90
	default:
		g.Angle = 90 + 90*float64(y) // bottom 180, top 0
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
func (g *Gradient) parseRadialShape(s string) error {
	shape, at, hasAt := strings.Cut(" "+s+" ", " at ")
	for _, w := range strings.Fields(shape) {
		switch w {
		case "circle":
			g.Circle = true
		case "ellipse":
		case "farthest-corner":
			g.Size = FarthestCorner
		case "farthest-side":
			g.Size = FarthestSide
		case "closest-corner":
			g.Size = ClosestCorner
		case "closest-side":
			g.Size = ClosestSide
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
			g.AtY = v
		} else {
			g.AtX = v
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

// StopPositions resolves the colour stops of a gradient line glen px long
// (k output px per rpx) to fractions of the line, CSS's way: a missing first
// or last stop is 0 or 1, a stop never goes before an earlier one, and runs
// of unset stops are spread evenly.
func (g *Gradient) StopPositions(glen, k float64) []float64 {
	n := len(g.Stops)
	pos := make([]float64, n)
	known := make([]bool, n)
	env := &Env{K: k, Base: 1}
	for i, s := range g.Stops {
		if !s.pos.Set() {
			continue
		}
		known[i] = true
		if s.pos.e.unit == unitPct {
			pos[i] = s.pos.e.v / 100
		} else if glen > 0 {
			v, _ := s.pos.Resolve(env)
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
