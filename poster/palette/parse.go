package palette

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Parse parses and validates a Painter palette. Every problem found is
// reported at once: the error is a *Error when there is one, an Errors
// listing them all (in document order) when there are more. What renders
// but not as its author may think is in Palette.Warnings.
//
// Painter's own reading is the default (see Compat): "" is unset
// everywhere, as it is for Painter's JavaScript, and fields Painter does not
// read are ignored with a warning.
func Parse(data []byte) (*Palette, error) {
	ps := &parser{}
	p := ps.palette(data)
	switch len(ps.errs) {
	case 0:
		p.warnings = ps.warns
		return p, nil
	case 1:
		return nil, ps.errs[0]
	}
	return nil, ps.errs
}

// parser collects the problems of one palette.
type parser struct {
	compat Compat
	errs   Errors
	warns  []*Error
}

// note records err: a *Error, an Errors, or anything else as a problem of
// the palette as a whole.
func (ps *parser) note(err error) {
	switch e := err.(type) {
	case nil:
	case *Error:
		ps.errs = append(ps.errs, e)
	case Errors:
		ps.errs = append(ps.errs, e...)
	default:
		ps.errs = append(ps.errs, &Error{"palette", err.Error()})
	}
}

func (ps *parser) fail(path, rule string) { ps.errs = append(ps.errs, &Error{path, rule}) }
func (ps *parser) warn(path, rule string) { ps.warns = append(ps.warns, &Error{path, rule}) }

// unknown handles the fields of o that are not in known: an error in
// CompatCSS, ignored with a warning in CompatPainter (Painter reads only the
// fields it knows). quiet fields are accepted without a word.
func (ps *parser) unknown(o jsonObject, path string, known, quiet []string) {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case slices.Contains(known, k):
		case slices.Contains(quiet, k):
			delete(o, k)
		case ps.compat == CompatCSS:
			ps.fail(path+"."+k, "unknown field")
			delete(o, k)
		default:
			ps.warn(path+"."+k, "ignored: Painter does not read this field")
			delete(o, k)
		}
	}
}

// dropUnset deletes the fields Painter's JavaScript treats as unset: "" and
// null, which are falsy, and, in css, the strings "undefined" and "null"
// that editors write for a missing value (`${undefined}`), which the canvas
// ignores.
func (ps *parser) dropUnset(o jsonObject, path string, css bool) {
	for k, raw := range o {
		r := bytes.TrimSpace(raw)
		if string(r) == "null" {
			delete(o, k)
			continue
		}
		s, ok := jsonString(r)
		if !ok {
			continue
		}
		switch t := strings.TrimSpace(s); {
		case t == "":
			delete(o, k)
		case css && (t == "undefined" || t == "null"):
			delete(o, k)
			ps.warn(path+"."+k, fmt.Sprintf("%q is taken as unset", t))
		}
	}
}

// paletteKeys are the top-level fields.
var paletteKeys = []string{"width", "height", "background", "borderRadius", "views", "widthPixels", "compat"}

func (ps *parser) palette(data []byte) *Palette {
	root, err := decodeObject(data, "palette")
	if err != nil {
		ps.note(err)
		return nil
	}
	p := &Palette{}
	ps.dropUnset(root, "palette", false)
	if raw, ok := root["compat"]; ok {
		switch s, _ := jsonString(raw); s {
		case "painter":
		case "css":
			ps.compat = CompatCSS
		default:
			ps.fail("compat", `must be "painter" (the default) or "css"`)
		}
	}
	p.compat = ps.compat
	ps.unknown(root, "palette", paletteKeys, nil)
	abs := &lengthScope{}
	sized := true
	for _, f := range []struct {
		name string
		dst  *Length
		rpx  *float64
	}{{"width", &p.width, &p.widthRpx}, {"height", &p.height, &p.heightRpx}} {
		raw, ok := root[f.name]
		if !ok {
			ps.fail(f.name, "is required")
			sized = false
			continue
		}
		l, err := parseLength(raw, abs)
		if err != nil {
			ps.fail(f.name, err.Error())
			sized = false
			continue
		}
		*f.dst = l
		*f.rpx, _ = l.Resolve(&Env{K: 1}) // in rpx: k = 1
		if *f.rpx < 1 {
			ps.fail(f.name, "must be at least 1rpx")
			sized = false
		}
	}
	if raw, ok := root["widthPixels"]; ok {
		v, ok := jsonNumber(raw)
		if s, isStr := jsonString(raw); isStr { // Painter's widthPixels is often written as a string
			if n, err := parseNumber(strings.TrimSpace(s)); err == nil {
				v, ok = n, true
			}
		}
		if !ok || v != math.Trunc(v) || v < 1 || v > MaxSide {
			ps.fail("widthPixels", fmt.Sprintf("must be an integer from 1 to %d", MaxSide))
		} else {
			p.widthPixels = int(v)
		}
	}
	if sized {
		if _, _, err := p.OutputSize(0); err != nil {
			ps.note(err)
		}
	}
	if raw, ok := root["background"]; ok {
		if s, ok := jsonString(raw); !ok {
			ps.fail("background", "must be a string")
		} else if p.background, err = parseBackground(s, ps.compat, func(w string) { ps.warn("background", w) }); err != nil {
			ps.fail("background", err.Error())
		}
	}
	if why := serverUnreadable(p.background.URL); why != "" {
		ps.warn("background", why)
	}
	if raw, ok := root["borderRadius"]; ok {
		if p.borderRadius, err = parseRadii(raw, &lengthScope{percent: true, allowCalc: true}); err != nil {
			ps.fail("borderRadius", err.Error())
		}
	}
	raw, ok := root["views"]
	if !ok {
		return p
	}
	var views []json.RawMessage
	if err := json.Unmarshal(raw, &views); err != nil {
		ps.fail("views", "must be an array")
		return p
	}
	if len(views) > MaxViews {
		ps.fail("views", fmt.Sprintf("has %d views, more than %d", len(views), MaxViews))
		return p
	}
	ids := map[string]int{}
	for i, rv := range views {
		v := ps.view(rv, fmt.Sprintf("views[%d]", i), ids)
		if v == nil {
			continue
		}
		p.views = append(p.views, v)
		if v.id != "" {
			ids[v.id] = len(p.views) - 1
		}
	}
	return p
}

// OutputSize returns the output size in px for a requested width (0: the
// palette's own widthPixels, else its width in rpx) and the scale k in
// output px per rpx.
func (p *Palette) OutputSize(widthPixels int) (image.Point, float64, error) {
	w := widthPixels
	if w <= 0 {
		w = p.widthPixels
	}
	if w <= 0 {
		w = int(math.Round(p.widthRpx))
	}
	if w > MaxSide {
		return image.Point{}, 0, &Error{"width", fmt.Sprintf("is %d px at this scale, more than %d", w, MaxSide)}
	}
	k := float64(w) / p.widthRpx
	h := int(math.Round(p.heightRpx * k))
	if h > MaxSide {
		return image.Point{}, 0, &Error{"height", fmt.Sprintf("is %d px at this scale, more than %d", h, MaxSide)}
	}
	return image.Pt(max(w, 1), max(h, 1)), k, nil
}

// parseBackground reads the palette background: a colour, a gradient, or
// else an image URL. A background with {{placeholders}} is kept raw and
// parsed again by Fill.
func parseBackground(s string, compat Compat, warn func(string)) (Background, error) {
	bg := Background{raw: s}
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return bg, nil
	case hasPlaceholder(t):
		return bg, nil
	case looksLikeURL(t):
		bg.URL = t
		return bg, nil
	}
	pt, err := parsePaint(t, true, compat, warn)
	if err != nil {
		return bg, fmt.Errorf("%w (want a colour, a gradient or an image URL)", err)
	}
	bg.Paint = pt
	return bg, nil
}

// serverUnreadable says why an image URL can never be loaded by a server, or
// "" if it may be: a mini-program package path or a temporary file exists only
// on the phone, a cloud:// file id only inside WeChat's cloud.
func serverUnreadable(u string) string {
	lu := strings.ToLower(strings.TrimSpace(u))
	switch {
	case lu == "" || hasPlaceholder(lu):
		return ""
	case strings.HasPrefix(lu, "cloud://"):
		return "a cloud:// file id cannot be read by a server: give its https download URL (wx.cloud.getTempFileURL, or the file's CDN URL)"
	case strings.HasPrefix(lu, "wxfile://"), strings.HasPrefix(lu, "http://tmp/"), strings.HasPrefix(lu, "http://usr/"):
		return "a temporary file of the phone cannot be read by a server: upload it and give its https URL"
	case strings.HasPrefix(lu, "//"):
		return "" // scheme-relative: the loader decides
	case strings.HasPrefix(lu, "/"), !strings.Contains(lu, ":"):
		return "a mini-program package path cannot be read by a server: put the image on your CDN or bucket and give its https URL"
	}
	return ""
}

// looksLikeURL tells an image URL or path from a colour.
func looksLikeURL(s string) bool {
	ls := strings.ToLower(s)
	for _, p := range []string{"http://", "https://", "data:", "cloud://", "wxfile://", "//", "/"} {
		if strings.HasPrefix(ls, p) {
			return true
		}
	}
	return false
}

// jsonObject is a JSON object with its fields still raw.
type jsonObject map[string]json.RawMessage

func decodeObject(data []byte, path string) (jsonObject, error) {
	var o jsonObject
	if err := json.Unmarshal(data, &o); err != nil || o == nil {
		if !json.Valid(data) {
			return nil, &Error{path, "is not valid JSON"}
		}
		return nil, &Error{path, "must be an object"}
	}
	return o, nil
}

func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func jsonNumber(raw json.RawMessage) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil || math.Abs(v) > maxNumber {
		return 0, false
	}
	return v, true
}

// jsonText reads a string, or a number as written (Painter does String(x)).
func jsonText(raw json.RawMessage) (string, bool) {
	if s, ok := jsonString(raw); ok {
		return s, true
	}
	if _, ok := jsonNumber(raw); ok {
		return string(bytes.TrimSpace(raw)), true
	}
	return "", false
}

// parseLength reads a length given as a JSON number (px) or string.
func parseLength(raw json.RawMessage, sc *lengthScope) (Length, error) {
	if v, ok := jsonNumber(raw); ok {
		if sc.nonNegative && v < 0 {
			return Length{}, fmt.Errorf("must not be negative")
		}
		return numberLength(v)
	}
	s, ok := jsonString(raw)
	if !ok {
		return Length{}, fmt.Errorf("must be a number or a string such as \"20rpx\"")
	}
	return parseLengthString(s, sc)
}

// parseRadii reads a border radius: one value, or four (TL TR BR BL).
func parseRadii(raw json.RawMessage, sc *lengthScope) ([]Length, error) {
	var parts []string
	if v, ok := jsonNumber(raw); ok {
		parts = []string{strconv.FormatFloat(v, 'f', -1, 64)}
	} else if s, ok := jsonString(raw); ok {
		parts = fields(s)
	} else {
		return nil, fmt.Errorf("must be a number or a string such as \"16rpx\"")
	}
	if len(parts) != 1 && len(parts) != 4 {
		return nil, fmt.Errorf("want 1 or 4 values, got %d", len(parts))
	}
	sc.nonNegative = true
	out := make([]Length, len(parts))
	for i, s := range parts {
		l, err := parseLengthString(s, sc)
		if err != nil {
			return nil, err
		}
		out[i] = l
	}
	return out, nil
}

// viewKeys are the fields a view may have; quietViewKeys are written back
// by Painter or its editors and mean nothing to a render.
var (
	viewKeys      = []string{"type", "id", "text", "url", "content", "textList", "css"}
	quietViewKeys = []string{"rect", "sWidth", "sHeight", "originUrl"}
)

// view parses one view, recording its problems; nil means it is left out.
func (ps *parser) view(raw json.RawMessage, path string, ids map[string]int) *View {
	o, err := decodeObject(raw, path)
	if err != nil {
		ps.note(err)
		return nil
	}
	ps.dropUnset(o, path, false)
	before := len(ps.errs)
	v := &View{Path: path}
	if r, ok := o["id"]; ok {
		if v.id, ok = jsonText(r); !ok {
			ps.fail(path+".id", "must be a string")
		}
	}
	t, ok := jsonString(o["type"])
	switch {
	case !ok && ps.compat == CompatCSS:
		ps.fail(path+".type", "is required: rect, text, image, qrcode, inlineText or wxacode")
		return nil
	case !ok:
		ps.warn(path, "left out: a view without a type draws nothing in Painter")
		return nil
	}
	if v.Type, ok = viewTypes[t]; !ok {
		rule := fmt.Sprintf("unknown type %q: want rect, text, image, qrcode, inlineText or wxacode", t)
		if ps.compat == CompatCSS {
			ps.fail(path+".type", rule)
		} else {
			ps.warn(path+".type", rule+"; left out, as Painter does")
		}
		return nil
	}
	ps.unknown(o, path, viewKeys, quietViewKeys)
	for _, f := range []struct {
		name string
		dst  *string
	}{{"text", &v.Text}, {"url", &v.URL}, {"content", &v.Content}} {
		r, ok := o[f.name]
		if !ok {
			continue
		}
		if *f.dst, ok = jsonText(r); !ok {
			ps.fail(path+"."+f.name, "must be a string")
		}
	}
	runes := utf8.RuneCountInString(v.Text)
	if r, ok := o["textList"]; ok {
		var items []json.RawMessage
		if err := json.Unmarshal(r, &items); err != nil {
			ps.fail(path+".textList", "must be an array")
		} else if len(items) > maxInlineItems {
			ps.fail(path+".textList", fmt.Sprintf("has more than %d items", maxInlineItems))
		} else {
			for i, ir := range items {
				ip := fmt.Sprintf("%s.textList[%d]", path, i)
				io, err := decodeObject(ir, ip)
				if err != nil {
					ps.note(err)
					continue
				}
				ps.dropUnset(io, ip, false)
				ps.unknown(io, ip, []string{"text", "css"}, nil)
				var it InlineItem
				if tr, ok := io["text"]; ok {
					if it.Text, ok = jsonText(tr); !ok {
						ps.fail(ip+".text", "must be a string")
					}
				}
				runes += utf8.RuneCountInString(it.Text)
				it.CSS = ps.css(io["css"], ip+".css", TypeText, ids)
				v.TextList = append(v.TextList, it)
			}
		}
	}
	if runes > MaxTextRunes {
		ps.fail(path+".text", fmt.Sprintf("has %d characters, more than %d", runes, MaxTextRunes))
	}
	v.CSS = ps.css(o["css"], path+".css", v.Type, ids)
	switch v.Type {
	case TypeRect, TypeQRCode, TypeWxacode:
		if !v.CSS.Width.Set() || !v.CSS.Height.Set() {
			rule := "a " + t + " view needs width and height"
			if ps.compat == CompatCSS || v.Type == TypeWxacode {
				ps.fail(path+".css", rule)
			} else {
				ps.warn(path+".css", rule+"; left out, as Painter does")
				return nil
			}
		}
	}
	if v.Type == TypeQRCode && !hasPlaceholder(v.Content) && len(v.Content) > MaxQRBytes {
		ps.fail(path+".content", fmt.Sprintf("is %d bytes, more than a QR code holds (%d)", len(v.Content), MaxQRBytes))
	}
	if v.Type == TypeImage {
		if why := serverUnreadable(v.URL); why != "" {
			ps.warn(path+".url", why)
		}
	}
	if v.Type == TypeQRCode {
		ps.warn(path, "a plain QR code: WeChat refuses images with QR codes when shared to Moments; a wxacode view (the mini-program code) is fine")
	}
	if len(ps.errs) > before {
		return nil
	}
	return v
}

// cssKeys are the css fields understood; quietCSSKeys are accepted and have
// no effect on a render (Painter's editing flags and minWidth, which only its
// editor's resize handle reads).
var (
	cssKeys = []string{
		"left", "right", "top", "bottom", "width", "height", "rotate", "align", "verticalAlign",
		"borderRadius", "borderWidth", "borderColor", "borderStyle", "shadow", "color", "background",
		"fontSize", "fontWeight", "fontFamily", "lineHeight", "maxLines", "textAlign",
		"textDecoration", "textStyle", "padding", "mode",
	}
	quietCSSKeys = []string{"scalable", "deletable", "minWidth"}
)

// css reads a css object, or an array of them merged in order (later fields
// win, as Painter's Object.assign does), recording its problems.
func (ps *parser) css(raw json.RawMessage, path string, typ viewType, ids map[string]int) *CSS {
	c := &CSS{BorderColor: color.NRGBA{0, 0, 0, 0xff}}
	o := jsonObject{}
	if r := bytes.TrimSpace(raw); len(r) > 0 && string(r) != "null" {
		if r[0] == '[' {
			var list []json.RawMessage
			if err := json.Unmarshal(r, &list); err != nil {
				ps.fail(path, "must be an object or an array of objects")
				return c
			}
			for i, item := range list {
				m, err := decodeObject(item, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					ps.note(err)
					continue
				}
				for k, v := range m {
					o[k] = v
				}
			}
		} else {
			m, err := decodeObject(r, path)
			if err != nil {
				ps.note(err)
				return c
			}
			o = m
		}
	}
	ps.dropUnset(o, path, true)
	ps.unknown(o, path, cssKeys, quietCSSKeys)
	if s, ok := jsonString(o["fontFamily"]); ok && strings.TrimSpace(s) != "" {
		ps.warn(path+".fontFamily", "ignored: every text is drawn in Noto Sans CJK SC")
	}
	cp := cssParser{o: o, path: path, c: c, ids: ids, typ: typ, ps: ps}
	cp.parse()
	return c
}

type cssParser struct {
	o    jsonObject
	path string
	c    *CSS
	ids  map[string]int
	typ  viewType
	ps   *parser
}

// note records a field's error; parsing goes on with the next field.
func (p *cssParser) note(err error) { p.ps.note(err) }

func (p *cssParser) fail(field, rule string) error {
	return &Error{p.path + "." + field, rule}
}

func (p *cssParser) str(field string) (string, bool, error) {
	raw, ok := p.o[field]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return "", false, nil
	}
	s, ok := jsonText(raw)
	if !ok {
		return "", false, p.fail(field, "must be a string")
	}
	return s, true, nil
}

func (p *cssParser) length(field string, dst *Length, sc lengthScope) error {
	raw, ok := p.o[field]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	sc.ids = p.ids
	l, err := parseLength(raw, &sc)
	if err != nil {
		return p.fail(field, err.Error())
	}
	*dst = l
	return nil
}

// position reads left/right/top, which also take Painter's legacy array
// form [offset, id, multiplier]: offset + (id's width, or height for top) × multiplier.
func (p *cssParser) position(field string, dst *Length, sc lengthScope) error {
	raw := bytes.TrimSpace(p.o[field])
	if len(raw) == 0 || raw[0] != '[' {
		return p.length(field, dst, sc)
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(raw, &arr); err != nil || len(arr) < 2 || len(arr) > 3 {
		return p.fail(field, "the array form is [offset, id, multiplier]")
	}
	sc.ids = p.ids
	off, err := parseLength(arr[0], &sc)
	if err != nil {
		return p.fail(field+"[0]", err.Error())
	}
	id, ok := jsonText(arr[1])
	if !ok {
		return p.fail(field+"[1]", "must be the id of an earlier view")
	}
	idx, ok := p.ids[id]
	if !ok {
		return p.fail(field+"[1]", fmt.Sprintf("no earlier view has id %q", id))
	}
	mult := 1.0
	if len(arr) == 3 {
		if mult, ok = jsonNumber(arr[2]); !ok {
			return p.fail(field+"[2]", "must be a number")
		}
	}
	prop := propWidth
	if field == "top" {
		prop = propHeight
	}
	ref := &expr{op: opMul, l: &expr{op: opRef, ref: idx, prop: prop}, r: &expr{op: opNum, v: mult}}
	*dst = Length{&expr{op: opAdd, l: off.e, r: ref}}
	return nil
}

func (p *cssParser) parse() {
	c := p.c
	pos := lengthScope{percent: true, allowCalc: true, allowRefs: true}
	for _, f := range []struct {
		name string
		dst  *Length
	}{{"left", &c.Left}, {"right", &c.Right}, {"top", &c.Top}, {"bottom", &c.Bottom}} {
		p.note(p.position(f.name, f.dst, pos))
	}
	size := pos
	size.nonNegative = true
	for _, f := range []struct {
		name string
		dst  *Length
		auto *bool
	}{{"width", &c.Width, &c.WidthAuto}, {"height", &c.Height, &c.HeightAuto}} {
		if s, ok := jsonString(p.o[f.name]); ok && strings.TrimSpace(s) == "auto" {
			if p.typ != TypeImage {
				p.note(p.fail(f.name, "auto is only for images"))
				continue
			}
			*f.auto = true
			continue
		}
		p.note(p.length(f.name, f.dst, size))
	}
	if raw, ok := p.o["rotate"]; ok {
		v, ok := jsonNumber(raw)
		if !ok {
			s, isStr := jsonString(raw)
			a, err := parseAngle(s, true)
			if !isStr || err != nil {
				p.note(p.fail("rotate", "must be a number of degrees"))
			}
			v = a
		}
		c.Rotate = math.Mod(v, 360)
	}
	var err error
	c.Align, err = p.keyword("align", map[string]Align{"left": alignStart, "center": AlignMiddle, "right": AlignEnd})
	p.note(err)
	c.VerticalAlign, err = p.keyword("verticalAlign", map[string]Align{"top": alignStart, "center": AlignMiddle, "middle": AlignMiddle, "bottom": AlignEnd})
	p.note(err)
	c.TextAlign, err = p.keyword("textAlign", map[string]Align{"left": alignStart, "start": alignStart, "center": AlignMiddle, "right": AlignEnd, "end": AlignEnd})
	p.note(err)
	bs, err := p.keyword("borderStyle", map[string]Align{"solid": 1, "dashed": 2, "dotted": 3})
	p.note(err)
	c.BorderStyle = BorderStyle(max(bs, 1) - 1)
	mode, err := p.keyword("mode", map[string]Align{"aspectFill": 1, "scaleToFill": 2, "aspectFit": 3, "auto": 4})
	p.note(err)
	c.Mode = ImageMode(max(mode, 1) - 1)
	if raw, ok := p.o["borderRadius"]; ok {
		if c.BorderRadius, err = parseRadii(raw, &lengthScope{percent: true, allowCalc: true, allowRefs: true, ids: p.ids}); err != nil {
			p.note(p.fail("borderRadius", err.Error()))
		}
	}
	bw := lengthScope{percent: true, allowCalc: true, allowRefs: true, nonNegative: true}
	p.note(p.length("borderWidth", &c.BorderWidth, bw))
	if s, ok, err := p.str("borderColor"); err != nil {
		p.note(err)
	} else if ok {
		if c.BorderColor, err = parseColor(s); err != nil {
			p.note(p.fail("borderColor", err.Error()))
		}
	}
	if s, ok, err := p.str("shadow"); err != nil {
		p.note(err)
	} else if ok {
		if c.Shadow, err = parseShadow(s); err != nil {
			p.note(p.fail("shadow", err.Error()))
		} else if c.Shadow != nil && p.ps.compat == CompatPainter && c.Shadow.painterPx() {
			p.ps.warn(p.path+".shadow", "Painter reads shadow lengths as px whatever their unit (parseInt), so rpx is drawn as px here too; write px to say so, or use \"compat\": \"css\"")
		}
	}
	for _, f := range []struct {
		name string
		dst  *Paint
		grad bool
	}{
		{"color", &c.Color, p.typ == TypeRect},
		{"background", &c.Background, true},
	} {
		s, ok, err := p.str(f.name)
		if err != nil {
			p.note(err)
			continue
		}
		if !ok || strings.TrimSpace(s) == "" {
			continue
		}
		field := f.name
		warn := func(w string) { p.ps.warn(p.path+"."+field, w) }
		if *f.dst, err = parsePaint(s, f.grad, p.ps.compat, warn); err != nil {
			p.note(p.fail(f.name, err.Error()))
		}
	}
	font := lengthScope{allowCalc: true, allowRefs: true, nonNegative: true}
	p.note(p.length("fontSize", &c.FontSize, font))
	if c.FontSize.Set() && c.FontSize.isStatic() {
		if v, _ := c.FontSize.Resolve(&Env{K: 1}); v <= 0 || v > 4*MaxFontPx {
			p.note(p.fail("fontSize", fmt.Sprintf("must be more than 0 and at most %drpx", 4*MaxFontPx)))
		}
	}
	p.note(p.fontWeight())
	p.note(p.lineHeight())
	if raw, ok := p.o["maxLines"]; ok {
		v, ok := jsonNumber(raw)
		if !ok {
			if s, isStr := jsonString(raw); isStr {
				v, err = parseNumber(strings.TrimSpace(s))
				ok = err == nil
			}
		}
		if !ok || v != math.Trunc(v) || v < 0 {
			p.note(p.fail("maxLines", "must be a whole number, 0 for no limit"))
		} else {
			c.MaxLines = int(min(v, 1e6))
		}
	}
	if s, ok, err := p.str("textDecoration"); err != nil {
		p.note(err)
	} else if ok {
		for _, w := range strings.Fields(s) {
			switch w {
			case "underline":
				c.TextDecoration |= DecoUnderline
			case "overline":
				c.TextDecoration |= DecoOverline
			case "line-through":
				c.TextDecoration |= DecoLineThrough
			case "none":
			default:
				p.note(p.fail("textDecoration", fmt.Sprintf("unknown decoration %q: want underline, overline, line-through or none", w)))
			}
		}
	}
	ts, err := p.keyword("textStyle", map[string]Align{"fill": 1, "normal": 1, "stroke": 2})
	p.note(err)
	c.Stroke = ts == 2
	p.note(p.padding())
}

func (p *cssParser) keyword(field string, words map[string]Align) (Align, error) {
	s, ok, err := p.str(field)
	if err != nil || !ok {
		return 0, err
	}
	v, ok := words[strings.TrimSpace(s)]
	if !ok {
		names := make([]string, 0, len(words))
		for k := range words {
			names = append(names, k)
		}
		slices.Sort(names)
		return 0, p.fail(field, fmt.Sprintf("unknown value %q: want one of %s", s, strings.Join(names, ", ")))
	}
	return v, nil
}

// fontWeight: bold, bolder or a weight of 600 and more draw the bold face.
func (p *cssParser) fontWeight() error {
	raw, ok := p.o["fontWeight"]
	if !ok {
		return nil
	}
	v, ok := jsonNumber(raw)
	if !ok {
		s, isStr := jsonString(raw)
		if !isStr {
			return p.fail("fontWeight", "must be normal, bold or a number")
		}
		switch s = strings.TrimSpace(s); s {
		case "bold", "bolder":
			v = 700
		case "normal", "lighter", "":
			v = 400
		default:
			var err error
			if v, err = parseNumber(s); err != nil {
				return p.fail("fontWeight", "must be normal, bold or a number from 1 to 1000")
			}
		}
	}
	if v < 1 || v > 1000 {
		return p.fail("fontWeight", "must be normal, bold or a number from 1 to 1000")
	}
	p.c.Bold = v >= 600
	return nil
}

// lineHeight: a length, or a unitless multiple of fontSize ("1.5" or 1.5),
// or a percentage of fontSize, as in CSS.
func (p *cssParser) lineHeight() error {
	raw, ok := p.o["lineHeight"]
	if !ok {
		return nil
	}
	if v, ok := jsonNumber(raw); ok {
		if v < 0 {
			return p.fail("lineHeight", "must not be negative")
		}
		p.c.LineHeightMult = v
		return nil
	}
	s, ok := jsonString(raw)
	if !ok {
		return p.fail("lineHeight", "must be a number or a string such as \"40rpx\"")
	}
	s = strings.TrimSpace(s)
	if v, err := parseNumber(s); err == nil && !strings.ContainsAny(s, "+_") {
		if v < 0 {
			return p.fail("lineHeight", "must not be negative")
		}
		p.c.LineHeightMult = v
		return nil
	}
	if n, ok := strings.CutSuffix(s, "%"); ok {
		v, err := parseNumber(n)
		if err != nil || v < 0 {
			return p.fail("lineHeight", "bad percentage")
		}
		p.c.LineHeightMult = v / 100
		return nil
	}
	sc := lengthScope{allowCalc: true, allowRefs: true, nonNegative: true}
	return p.length("lineHeight", &p.c.LineHeight, sc)
}

// padding is the CSS shorthand: 1 to 4 lengths, top right bottom left.
func (p *cssParser) padding() error {
	raw, ok := p.o["padding"]
	if !ok {
		return nil
	}
	var parts []string
	if v, ok := jsonNumber(raw); ok {
		parts = []string{strconv.FormatFloat(v, 'f', -1, 64)}
	} else if s, ok := jsonString(raw); ok {
		parts = fields(s)
	}
	if len(parts) < 1 || len(parts) > 4 {
		return p.fail("padding", "want 1 to 4 lengths")
	}
	sc := &lengthScope{allowCalc: true, allowRefs: true, nonNegative: true, ids: p.ids}
	var v [4]Length
	for i, s := range parts {
		l, err := parseLengthString(s, sc)
		if err != nil {
			return p.fail("padding", err.Error())
		}
		v[i] = l
	}
	switch len(parts) {
	case 1:
		v[1], v[2], v[3] = v[0], v[0], v[0]
	case 2:
		v[2], v[3] = v[0], v[1]
	case 3:
		v[3] = v[1]
	}
	p.c.Padding = v
	return nil
}

// painterPx turns the shadow's rpx lengths into px, as Painter reads them
// (_doShadow: parseInt("10rpx") is 10 canvas px, that is 10px), and
// reports whether there were any.
func (sh *Shadow) painterPx() bool {
	changed := false
	for _, l := range []*Length{&sh.X, &sh.Y, &sh.Blur} {
		if l.e != nil && l.e.op == opNum && l.e.unit == unitRpx {
			l.e = &expr{op: opNum, v: l.e.v, unit: unitPx}
			changed = true
		}
	}
	return changed
}

// parseShadow reads "offX offY blur color" (the colour may come first, as
// CSS allows). Lengths take units like any other length; a bare number is px.
func parseShadow(s string) (*Shadow, error) {
	f := fields(strings.TrimSpace(s))
	if len(f) == 1 && f[0] == "none" {
		return nil, nil
	}
	sh := &Shadow{Color: color.NRGBA{0, 0, 0, 0xff}}
	var lens []string
	colorSet := false
	for _, w := range f {
		if c, err := parseColor(w); err == nil && !startsNumeric(w) && !strings.HasPrefix(w, "-") {
			if colorSet {
				return nil, fmt.Errorf("two colours in %q", s)
			}
			sh.Color, colorSet = c, true
			continue
		}
		lens = append(lens, w)
	}
	switch {
	case len(lens) == 4:
		return nil, fmt.Errorf("spread is not supported: want \"offX offY blur color\"")
	case len(lens) < 2 || len(lens) > 3:
		return nil, fmt.Errorf("want \"offX offY blur color\", got %q", s)
	}
	sc := &lengthScope{}
	dst := []*Length{&sh.X, &sh.Y, &sh.Blur}
	for i, w := range lens {
		l, err := parseLengthString(w, sc)
		if err != nil {
			return nil, err
		}
		*dst[i] = l
	}
	if b, _ := sh.Blur.Resolve(&Env{K: 1}); b < 0 {
		return nil, fmt.Errorf("blur must not be negative")
	}
	return sh, nil
}
