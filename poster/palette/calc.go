package palette

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Bounds of a calc() expression: deep nesting and long expressions are
// refused rather than walked.
const (
	maxCalcDepth  = 16
	maxCalcTokens = 128
)

// calc() grammar, a recursive-descent parser with the usual precedence:
//
//	sum     = product { ("+" | "-") product }
//	product = unary { ("*" | "/") unary }
//	unary   = ("-" | "+") unary | primary
//	primary = NUMBER [ "rpx" | "px" | "%" ] | ID "." PROP | "(" sum ")" | "calc(" sum ")"
//
// PROP is left, right, top, bottom, width or height of an earlier view with
// that id. Types follow CSS: lengths add to lengths, a bare number added to a
// length is read as px (Painter's habit), only numbers multiply or divide.

type calcTok struct {
	kind byte // 'n' number/length, 'r' reference, or the operator/paren itself
	text string
}

func tokenizeCalc(s string) ([]calcTok, error) {
	var toks []calcTok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case strings.IndexByte("+-*/()", c) >= 0:
			toks = append(toks, calcTok{kind: c, text: s[i : i+1]})
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte("+-*/() \t\n\r", s[j]) < 0 {
				j++
			}
			w := s[i:j]
			kind := byte('n')
			if strings.EqualFold(w, "calc") && j < len(s) && s[j] == '(' {
				kind = 'c' // nested calc( is a plain parenthesis
			} else if dot := strings.LastIndexByte(w, '.'); dot > 0 && !startsNumeric(w) {
				kind = 'r'
			}
			toks = append(toks, calcTok{kind: kind, text: w})
			i = j
		}
		if len(toks) > maxCalcTokens {
			return nil, fmt.Errorf("calc() has more than %d tokens", maxCalcTokens)
		}
	}
	return toks, nil
}

func startsNumeric(w string) bool {
	return w != "" && (w[0] >= '0' && w[0] <= '9' || w[0] == '.')
}

type calcParser struct {
	toks  []calcTok
	pos   int
	depth int
	sc    *lengthScope
}

// parseCalc parses "calc(...)" into a typed expression tree.
func parseCalc(s string, sc *lengthScope) (*expr, error) {
	toks, err := tokenizeCalc(s)
	if err != nil {
		return nil, err
	}
	p := &calcParser{toks: toks, sc: sc}
	n, err := p.primary() // the outer calc(...)
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("calc(): unexpected %q after the closing parenthesis", p.toks[p.pos].text)
	}
	return n.asLength(), nil
}

// typed is a node and whether it is a length (else a plain number).
type typed struct {
	e     *expr
	isLen bool
}

// asLength reads a bare number as px.
func (t typed) asLength() *expr {
	if !t.isLen && t.e.op == opNum {
		return &expr{op: opNum, v: t.e.v, unit: unitPx}
	}
	return t.e
}

func (p *calcParser) peek() byte {
	if p.pos < len(p.toks) {
		return p.toks[p.pos].kind
	}
	return 0
}

func (p *calcParser) sum() (typed, error) {
	l, err := p.product()
	if err != nil {
		return typed{}, err
	}
	for k := p.peek(); k == '+' || k == '-'; k = p.peek() {
		p.pos++
		r, err := p.product()
		if err != nil {
			return typed{}, err
		}
		op := opAdd
		if k == '-' {
			op = opSub
		}
		if !l.isLen && !r.isLen {
			l = num(fold(op, l.e.v, r.e.v))
			continue
		}
		l = typed{&expr{op: op, l: l.asLength(), r: r.asLength()}, true}
	}
	return l, nil
}

func (p *calcParser) product() (typed, error) {
	l, err := p.unary()
	if err != nil {
		return typed{}, err
	}
	for k := p.peek(); k == '*' || k == '/'; k = p.peek() {
		p.pos++
		r, err := p.unary()
		if err != nil {
			return typed{}, err
		}
		switch {
		case k == '*' && l.isLen && r.isLen:
			return typed{}, errors.New("calc(): cannot multiply two lengths")
		case k == '/' && r.isLen:
			return typed{}, errors.New("calc(): can only divide by a number")
		case k == '/' && r.e.v == 0:
			return typed{}, errors.New("calc(): division by zero")
		}
		op := opMul
		if k == '/' {
			op = opDiv
		}
		if !l.isLen && !r.isLen {
			l = num(fold(op, l.e.v, r.e.v))
			continue
		}
		l = typed{&expr{op: op, l: l.e, r: r.e}, true}
	}
	return l, nil
}

func num(v float64) typed { return typed{&expr{op: opNum, v: v}, false} }

func fold(op exprOp, a, b float64) float64 {
	switch op {
	case opAdd:
		return a + b
	case opSub:
		return a - b
	case opMul:
		return a * b
	}
	return a / b
}

func (p *calcParser) unary() (typed, error) {
	switch p.peek() {
	case '-':
		p.pos++
		if err := p.enter(); err != nil {
			return typed{}, err
		}
		defer p.leave()
		t, err := p.unary()
		if err != nil {
			return typed{}, err
		}
		if !t.isLen {
			return num(-t.e.v), nil
		}
		return typed{&expr{op: opNeg, l: t.e}, true}, nil
	case '+':
		p.pos++
		if err := p.enter(); err != nil {
			return typed{}, err
		}
		defer p.leave()
		return p.unary()
	}
	return p.primary()
}

func (p *calcParser) enter() error {
	if p.depth++; p.depth > maxCalcDepth {
		return fmt.Errorf("calc() is nested more than %d deep", maxCalcDepth)
	}
	return nil
}

func (p *calcParser) leave() { p.depth-- }

func (p *calcParser) primary() (typed, error) {
	if p.pos >= len(p.toks) {
		return typed{}, errors.New("calc(): unexpected end")
	}
	t := p.toks[p.pos]
	p.pos++
	switch t.kind {
	case 'c', '(':
		if t.kind == 'c' {
			if p.peek() != '(' {
				return typed{}, errors.New("calc(): want ( after calc")
			}
			p.pos++
		}
		if err := p.enter(); err != nil {
			return typed{}, err
		}
		defer p.leave()
		n, err := p.sum()
		if err != nil {
			return typed{}, err
		}
		if p.peek() != ')' {
			return typed{}, errors.New("calc(): missing )")
		}
		p.pos++
		return n, nil
	case 'n':
		if strings.EqualFold(t.text, "calc") {
			return typed{}, errors.New("calc(): want ( after calc")
		}
		e, err := parseCalcNumber(t.text, p.sc)
		if err != nil {
			return typed{}, err
		}
		return typed{e, e.unit != unitNone}, nil
	case 'r':
		return p.ref(t.text)
	}
	return typed{}, fmt.Errorf("calc(): unexpected %q", t.text)
}

// parseCalcNumber is parseLengthToken that keeps bare numbers unitless.
func parseCalcNumber(s string, sc *lengthScope) (*expr, error) {
	if !strings.ContainsFunc(s, unicode.IsLetter) && !strings.HasSuffix(s, "%") {
		v, err := parseNumber(s)
		if err != nil || strings.ContainsAny(s, "+-_") {
			return nil, fmt.Errorf("calc(): bad number %q", s)
		}
		return &expr{op: opNum, v: v}, nil
	}
	e, err := parseLengthToken(s, sc)
	if err != nil {
		return nil, fmt.Errorf("calc(): %w", err)
	}
	return e, nil
}

func (p *calcParser) ref(w string) (typed, error) {
	dot := strings.LastIndexByte(w, '.')
	id, prop := w[:dot], w[dot+1:]
	pr, ok := refProps[strings.ToLower(prop)]
	if !ok {
		return typed{}, fmt.Errorf("calc(): %q: want %s.left, .right, .top, .bottom, .width or .height", w, id)
	}
	if !p.sc.allowRefs {
		return typed{}, fmt.Errorf("calc(): %q: references to views are not allowed here", w)
	}
	idx, ok := p.sc.ids[id]
	if !ok {
		return typed{}, fmt.Errorf("calc(): no earlier view has id %q", id)
	}
	return typed{&expr{op: opRef, ref: idx, prop: pr}, true}, nil
}
