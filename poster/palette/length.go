package palette

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Units of a length. Lengths are resolved to output pixels at render time:
// 1rpx is k output px, where k = output width / palette width in rpx, and 1px
// is 2rpx (Painter's 375-point reference screen, on which 750rpx = 375px).
// So a 750rpx palette renders 750 px wide by default, and 1px = 2 output px.
type lengthUnit uint8

const (
	unitNone lengthUnit = iota // a bare number
	unitPx
	unitRpx
	unitPct
)

// exprOp is the kind of a node of a length expression.
type exprOp uint8

const (
	opNum exprOp = iota // a number with a unit
	opRef               // an edge or size of an earlier view
	opAdd
	opSub
	opMul
	opDiv
	opNeg
)

// refProp names what a reference reads from a view's box.
type refProp uint8

const (
	propLeft refProp = iota
	propRight
	propTop
	propBottom
	propWidth
	propHeight
)

var refProps = map[string]refProp{
	"left": propLeft, "right": propRight, "top": propTop,
	"bottom": propBottom, "width": propWidth, "height": propHeight,
}

// expr is a node of a parsed length: a plain "20rpx" is a single opNum node,
// calc() gives a tree. Number-only subtrees are folded when parsed, so a tree
// holds only length-typed nodes above its leaves.
type expr struct {
	op   exprOp
	v    float64
	unit lengthUnit
	ref  int // index of the referenced view
	prop refProp
	l, r *expr
}

// Length is a parsed CSS length. The zero value (nil expr) means "unset".
type Length struct{ e *expr }

func (l Length) Set() bool { return l.e != nil }

// isStatic reports whether l needs no reference to other views.
func (l Length) isStatic() bool { return l.e != nil && l.e.static() }

func (e *expr) static() bool {
	switch e.op {
	case opNum:
		return true
	case opRef:
		return false
	case opNeg:
		return e.l.static()
	}
	return e.l.static() && e.r.static()
}

// Rect is the box of a drawn view, in output px, as calc() sees it.
type Rect struct {
	Left, Top, Right, Bottom, Width, Height float64
}

// Env is what resolving a length needs.
type Env struct {
	K     float64 // output px per rpx
	Base  float64 // what 100% is
	Rects []Rect  // boxes of the views drawn so far
}

var errNotFinite = errors.New("value is not finite")

// Resolve returns l in output px (0 if unset).
func (l Length) Resolve(env *Env) (float64, error) {
	if l.e == nil {
		return 0, nil
	}
	v := l.e.eval(env)
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e9 {
		return 0, errNotFinite
	}
	return v, nil
}

func (e *expr) eval(env *Env) float64 {
	switch e.op {
	case opNum:
		switch e.unit {
		case unitRpx:
			return e.v * env.K
		case unitPct:
			return e.v * env.Base / 100
		case unitPx:
			return e.v * 2 * env.K
		}
		return e.v // a factor of * or /
	case opRef:
		if e.ref < 0 || e.ref >= len(env.Rects) {
			return math.NaN() // cannot happen for a parsed palette
		}
		r := env.Rects[e.ref]
		return [...]float64{r.Left, r.Right, r.Top, r.Bottom, r.Width, r.Height}[e.prop]
	case opNeg:
		return -e.l.eval(env)
	case opAdd:
		return e.l.eval(env) + e.r.eval(env)
	case opSub:
		return e.l.eval(env) - e.r.eval(env)
	case opMul:
		return e.l.eval(env) * e.r.eval(env)
	case opDiv:
		return e.l.eval(env) / e.r.eval(env)
	}
	return math.NaN()
}

// lengthScope tells the parser which units and references a field allows.
type lengthScope struct {
	ids         map[string]int // id → index of the latest earlier view with it
	percent     bool           // % has a base in this field
	allowCalc   bool
	allowRefs   bool
	nonNegative bool
}

// parseLengthString parses "20rpx", "10px", "50%", "12" (px), "0" or
// "calc(...)".
func parseLengthString(s string, sc *lengthScope) (Length, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Length{}, errors.New("empty length")
	}
	var e *expr
	var err error
	if strings.HasPrefix(strings.ToLower(s), "calc(") {
		if !sc.allowCalc {
			return Length{}, errors.New("calc() is not allowed here")
		}
		e, err = parseCalc(s, sc)
	} else {
		e, err = parseLengthToken(s, sc)
	}
	if err != nil {
		return Length{}, err
	}
	if sc.nonNegative && e.op == opNum && e.v < 0 {
		return Length{}, errors.New("must not be negative")
	}
	return Length{e}, nil
}

// parseLengthToken parses a single number with an optional unit.
func parseLengthToken(s string, sc *lengthScope) (*expr, error) {
	u := unitNone
	num := s
	switch ls := strings.ToLower(s); {
	case strings.HasSuffix(ls, "rpx"):
		u, num = unitRpx, s[:len(s)-3]
	case strings.HasSuffix(ls, "px"):
		u, num = unitPx, s[:len(s)-2]
	case strings.HasSuffix(ls, "%"):
		if !sc.percent {
			return nil, errors.New("percentages are not allowed here")
		}
		u, num = unitPct, s[:len(s)-1]
	}
	if num == "" || strings.ContainsAny(num, "eEinfINF+ _") {
		return nil, fmt.Errorf("bad length %q: want a number with rpx, px or %%", s)
	}
	v, err := parseNumber(num)
	if err != nil {
		return nil, fmt.Errorf("bad length %q: want a number with rpx, px or %%", s)
	}
	if u == unitNone {
		u = unitPx // Painter rejects unitless lengths; we read them as px
	}
	return &expr{op: opNum, v: v, unit: u}, nil
}

// numberLength is a length given as a JSON number: px.
func numberLength(v float64) (Length, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > maxNumber {
		return Length{}, fmt.Errorf("bad length %v", v)
	}
	return Length{&expr{op: opNum, v: v, unit: unitPx}}, nil
}
