package poster

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"time"

	"golang.org/x/image/vector"
)

// defaultFontRpx is Painter's default fontSize.
const defaultFontRpx = 20

// ImageLoader loads the images a palette names: remote URLs and data: URIs.
// RenderPalette calls it concurrently, once per distinct URL. The returned
// image is only read, so a loader may return the same cached image to many
// renders.
type ImageLoader interface {
	Load(ctx context.Context, url string) (image.Image, error)
}

// PaletteInput is what a render needs besides the palette.
type PaletteInput struct {
	Code        image.Image // the job's mini-program code, drawn by views of type "wxacode"
	Images      ImageLoader // may be nil if the palette has no images
	WidthPixels int         // output width in px; 0 → the palette's own "widthPixels" field, else its width in rpx (a 750rpx design → 750 px)
}

// RenderPalette renders p into a new image owned by the caller. The canvas
// starts transparent (Painter's default background): the JPEG encoder
// flattens it onto white. Images are loaded first, concurrently, through
// in.Images; a failed load fails the render (errors wrap the loader's).
// ctx is checked between views; once it is done, ctx.Err() is returned.
// Limits broken at this scale (sizes, fonts, shadows) are *PaletteError.
func (r *Renderer) RenderPalette(ctx context.Context, p *Palette, in PaletteInput) (*image.RGBA, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errors.New("poster: RenderPalette: nil palette")
	}
	size, k, err := p.outputSize(max(in.WidthPixels, 0))
	if err != nil {
		return nil, err
	}
	images, err := loadPaletteImages(ctx, p, in.Images)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	sc := r.getScratch()
	defer r.putScratch(sc)
	rc := &renderCtx{
		r: r, fs: sc.faces, sc: sc, p: p, in: in, k: k, images: images,
		w: float64(size.X), h: float64(size.Y),
		rects: make([]viewRect, 0, len(p.Views())),
	}
	dst := image.NewRGBA(image.Rect(0, 0, size.X, size.Y))
	rc.background(dst)
	for i, v := range p.Views() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := rc.drawView(dst, i, v); err != nil {
			return nil, err
		}
	}
	if len(p.BorderRadius()) > 0 {
		env := &lengthEnv{k: k, base: min(rc.w, rc.h)}
		rad, err := rc.radii(p.BorderRadius(), env, "borderRadius", rc.w, rc.h)
		if err != nil {
			return nil, err
		}
		clipCorners(dst, &sc.raster, rad)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.log.Debug("poster: rendered palette", "views", len(p.Views()), "size", size, "took", time.Since(start))
	return dst, nil
}

// renderCtx is the state of one RenderPalette.
type renderCtx struct {
	r      *Renderer
	fs     *faceSet
	sc     *scratch
	p      *Palette
	in     PaletteInput
	k      float64 // output px per rpx
	w, h   float64 // canvas size
	rects  []viewRect
	images map[string]image.Image
}

func (rc *renderCtx) raster() *vector.Rasterizer { return &rc.sc.raster }

func (rc *renderCtx) env(base float64) *lengthEnv {
	return &lengthEnv{k: rc.k, base: base, rects: rc.rects}
}

// length resolves l, naming path.field in errors.
func (rc *renderCtx) length(l length, base float64, path string) (float64, error) {
	v, err := l.resolve(rc.env(base))
	if err != nil {
		return 0, &PaletteError{path, err.Error()}
	}
	return v, nil
}

func (rc *renderCtx) radii(ls []length, env *lengthEnv, path string, w, h float64) (radii, error) {
	var r radii
	for i, l := range ls {
		v, err := l.resolve(env)
		if err != nil {
			return r, &PaletteError{path, err.Error()}
		}
		r[i] = v
	}
	if len(ls) == 1 {
		r = radii{r[0], r[0], r[0], r[0]}
	}
	return clampRadii(r, w, h), nil
}

// background paints the palette background: a colour, a gradient, or an
// image stretched over the canvas. The canvas is blank, so Src is Over.
func (rc *renderCtx) background(dst *image.RGBA) {
	bg := rc.p.Background()
	b := dst.Bounds()
	switch {
	case bg.url != "":
		if img := rc.images[bg.url]; img != nil {
			drawScaled(dst, b, img, img.Bounds(), draw.Src)
		}
	case bg.paint.kind == paintColor:
		fillUniform(dst, b, premul(bg.paint.color))
	case bg.paint.kind == paintGradient:
		renderGradient(bg.paint.grad, dst, b, rectFOf(b), rc.k)
	}
}

// viewDraw is what one view resolved to: its boxes and how to paint it.
type viewDraw struct {
	box     rectF // content box
	outer   rectF // box plus padding: what background, border and radius apply to
	rad     radii
	bw      float64
	shadow  *resolvedShadow
	paint   func(dst *image.RGBA) error
	natural float64 // text: the measured width calc() sees as .width
	inkPad  float64 // how far glyphs may reach out of the box
}

type resolvedShadow struct {
	dx, dy, blur float64
	color        color.NRGBA
}

// drawView lays out view i, records its box for later calc() references,
// and paints it.
func (rc *renderCtx) drawView(dst *image.RGBA, i int, v *view) error {
	vd, err := rc.layoutView(v)
	if err != nil {
		return err
	}
	rc.rects = append(rc.rects, viewRect{
		left: vd.outer.x, top: vd.outer.y,
		right: vd.outer.x + vd.outer.w, bottom: vd.outer.y + vd.outer.h,
		width: vd.natural, height: vd.box.h,
	})
	if vd.paint == nil {
		return nil
	}
	c := v.css
	if c.rotate == 0 && vd.shadow == nil {
		return vd.paint(dst)
	}
	// Rotated or shadowed views are painted into a layer first, big enough
	// for the border and for glyphs reaching out of the text box.
	ext, pad := vd.outer, vd.bw+vd.inkPad
	ext = rectF{ext.x - pad, ext.y - pad, ext.w + 2*pad, ext.h + 2*pad}
	L := image.Rect(int(math.Floor(ext.x))-2, int(math.Floor(ext.y))-2,
		int(math.Ceil(ext.x+ext.w))+2, int(math.Ceil(ext.y+ext.h))+2)
	canvas := dst.Bounds()
	margin := 4
	if s := vd.shadow; s != nil {
		spread := int(math.Ceil(1.5*s.blur)) + 2
		off := image.Pt(int(math.Round(s.dx)), int(math.Round(s.dy)))
		L = L.Union(L.Add(off).Inset(-spread))
		margin += spread + max(abs(off.X), abs(off.Y))
	}
	// The pivot is the centre of the padded box (CSS's border box).
	cx, cy := vd.outer.x+vd.outer.w/2, vd.outer.y+vd.outer.h/2
	if c.rotate == 0 {
		L = L.Intersect(canvas.Inset(-margin))
	} else {
		L = L.Intersect(rotatedBounds(canvas, cx, cy, -c.rotate).Inset(-margin))
	}
	if L.Empty() {
		return nil
	}
	layer := image.NewRGBA(L)
	if err := vd.paint(layer); err != nil {
		return err
	}
	if s := vd.shadow; s != nil {
		layer = withShadow(layer, s)
	}
	if c.rotate == 0 {
		draw.Draw(dst, L, layer, L.Min, draw.Over)
		return nil
	}
	drawRotated(dst, layer, cx, cy, c.rotate)
	return nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// layoutView resolves the view's size, position and decorations.
func (rc *renderCtx) layoutView(v *view) (*viewDraw, error) {
	c := v.css
	path := v.path + ".css."
	vd := &viewDraw{}
	var pads [4]float64
	for i, l := range c.padding {
		p, err := rc.length(l, 0, path+"padding")
		if err != nil {
			return nil, err
		}
		pads[i] = max(p, 0)
	}
	var w, h float64
	var err error
	var text *textBox
	switch v.typ {
	case typeText, typeInlineText:
		if text, err = rc.layoutTextView(v, pads); err != nil {
			return nil, err
		}
		w, h = text.w, text.h
	case typeImage:
		if w, h, err = rc.imageSize(v); err != nil {
			return nil, err
		}
	default:
		if w, err = rc.length(c.width, rc.w, path+"width"); err != nil {
			return nil, err
		}
		if h, err = rc.length(c.height, rc.h, path+"height"); err != nil {
			return nil, err
		}
	}
	w, h = max(w, 0), max(h, 0)
	if w > maxViewSidePx || h > maxViewSidePx {
		return nil, &PaletteError{v.path + ".css", fmt.Sprintf("the view is %.0f×%.0f px, more than %d px on a side", w, h, maxViewSidePx)}
	}
	if vd.box, err = rc.place(v, w, h); err != nil {
		return nil, err
	}
	vd.natural = w
	if text != nil {
		vd.natural = text.natural
		// Descenders below Painter's box, wide emoji, strokes and shadows of
		// glyphs stay within about half an em of the box.
		vd.inkPad = 0.6*text.lay.maxSize() + 2
	}
	vd.outer = rectF{vd.box.x - pads[3], vd.box.y - pads[0], w + pads[1] + pads[3], h + pads[0] + pads[2]}
	base := min(vd.outer.w, vd.outer.h)
	if vd.rad, err = rc.radii(c.borderRadius, rc.env(base), path+"borderRadius", vd.outer.w, vd.outer.h); err != nil {
		return nil, err
	}
	if c.borderWidth.set() {
		if vd.bw, err = rc.length(c.borderWidth, base, path+"borderWidth"); err != nil {
			return nil, err
		}
		if vd.bw > maxBorderPx {
			return nil, &PaletteError{path + "borderWidth", fmt.Sprintf("is %.0f px at this scale, more than %d", vd.bw, maxBorderPx)}
		}
		vd.bw = max(vd.bw, 0)
	}
	if c.shadow != nil {
		if vd.shadow, err = rc.shadow(c.shadow, path+"shadow"); err != nil {
			return nil, err
		}
	}
	vd.paint, err = rc.painter(v, vd, text)
	return vd, err
}

// place positions a w×h box: x from right (anchored at W − right, aligned
// right by default), else left, else 0; y likewise from bottom or top.
// align and verticalAlign say which part of the box sits at the anchor.
func (rc *renderCtx) place(v *view, w, h float64) (rectF, error) {
	c := v.css
	path := v.path + ".css."
	axis := func(nearL, farL length, near, far string, size, extent float64, al hAlign) (float64, error) {
		var anchor float64
		switch {
		case farL.set():
			d, err := rc.length(farL, size, path+far)
			if err != nil {
				return 0, err
			}
			anchor = size - d
			if al == alignDefault {
				al = alignEnd
			}
		case nearL.set():
			d, err := rc.length(nearL, size, path+near)
			if err != nil {
				return 0, err
			}
			anchor = d
		}
		switch al {
		case alignMiddle:
			return anchor - extent/2, nil
		case alignEnd:
			return anchor - extent, nil
		}
		return anchor, nil
	}
	x, err := axis(c.left, c.right, "left", "right", rc.w, w, c.align)
	if err != nil {
		return rectF{}, err
	}
	y, err := axis(c.top, c.bottom, "top", "bottom", rc.h, h, c.verticalAlign)
	if err != nil {
		return rectF{}, err
	}
	if math.Abs(x) > maxViewSidePx*4 || math.Abs(y) > maxViewSidePx*4 {
		return rectF{}, &PaletteError{v.path + ".css", "the view is placed too far off the canvas"}
	}
	return rectF{x, y, w, h}, nil
}

func (rc *renderCtx) shadow(s *shadowSpec, path string) (*resolvedShadow, error) {
	var out resolvedShadow
	for _, f := range []struct {
		l   length
		dst *float64
	}{{s.x, &out.dx}, {s.y, &out.dy}, {s.blur, &out.blur}} {
		v, err := rc.length(f.l, 0, path)
		if err != nil {
			return nil, err
		}
		*f.dst = v
	}
	switch {
	case out.blur > maxBlurPx:
		return nil, &PaletteError{path, fmt.Sprintf("blur is %.0f px at this scale, more than %d", out.blur, maxBlurPx)}
	case math.Abs(out.dx) > maxShadowOffsetPx || math.Abs(out.dy) > maxShadowOffsetPx:
		return nil, &PaletteError{path, fmt.Sprintf("offset is more than %d px at this scale", maxShadowOffsetPx)}
	case s.color.A == 0:
		return nil, nil
	}
	out.blur = max(out.blur, 0)
	out.color = s.color
	return &out, nil
}

// imageSize is the box of an image view: css width and height, or the
// natural size for "auto" (or unset) sides. The natural size counts image
// pixels as device pixels at 2×: N px wide is N/2 px, that is N rpx.
func (rc *renderCtx) imageSize(v *view) (float64, float64, error) {
	c := v.css
	path := v.path + ".css."
	var nat image.Point
	if img := rc.images[v.url]; img != nil {
		nat = img.Bounds().Size()
	}
	autoW := c.widthAuto || !c.width.set() || c.mode == modeAuto
	autoH := c.heightAuto || !c.height.set() || c.mode == modeAuto
	var w, h float64
	var err error
	if !autoW {
		if w, err = rc.length(c.width, rc.w, path+"width"); err != nil {
			return 0, 0, err
		}
	}
	if !autoH {
		if h, err = rc.length(c.height, rc.h, path+"height"); err != nil {
			return 0, 0, err
		}
	}
	switch {
	case autoW && autoH:
		w, h = float64(nat.X)*rc.k, float64(nat.Y)*rc.k
	case autoW && nat.Y > 0:
		w = h * float64(nat.X) / float64(nat.Y)
	case autoH && nat.X > 0:
		h = w * float64(nat.Y) / float64(nat.X)
	}
	return w, h, nil
}

// painter returns what draws the view, or nil if it draws nothing.
func (rc *renderCtx) painter(v *view, vd *viewDraw, text *textBox) (func(*image.RGBA) error, error) {
	c := v.css
	z := rc.raster()
	box, outer := snap(vd.box), snap(vd.outer)
	border := func(dst *image.RGBA) {
		drawBorder(dst, z, outer, vd.rad, vd.bw, c.borderColor, c.borderStyle)
	}
	switch v.typ {
	case typeRect:
		fill := c.color
		if !fill.isSet() {
			fill = c.background
		}
		return func(dst *image.RGBA) error {
			fillShape(dst, z, outer, vd.rad, fill, rc.k)
			border(dst)
			return nil
		}, nil
	case typeText, typeInlineText:
		return func(dst *image.RGBA) error {
			fillShape(dst, z, outer, vd.rad, c.background, rc.k)
			rc.r.drawText(dst, rc.fs, text.lay, vd.box.x, vd.box.y, vd.box.w, text.lineH, c.textAlign)
			border(dst)
			return nil
		}, nil
	case typeImage:
		img := rc.images[v.url]
		if img == nil {
			return nil, nil
		}
		return func(dst *image.RGBA) error {
			fillShape(dst, z, box, vd.rad, c.background, rc.k) // shows around aspectFit and through transparency
			drawImageBox(dst, z, box, vd.rad, img, c.mode)
			border(dst)
			return nil
		}, nil
	case typeQRCode:
		if v.content == "" {
			return nil, nil
		}
		if len(v.content) > maxQRBytes {
			return nil, &PaletteError{v.path + ".content", fmt.Sprintf("is %d bytes, more than a QR code holds (%d)", len(v.content), maxQRBytes)}
		}
		fg := c.color
		if !fg.isSet() {
			fg = paint{kind: paintColor, color: color.NRGBA{0, 0, 0, 0xff}}
		}
		return func(dst *image.RGBA) error {
			fillShape(dst, z, box, vd.rad, c.background, rc.k)
			if err := drawQR(dst, box, v.content, fg); err != nil {
				return &PaletteError{v.path + ".content", "cannot be encoded as a QR code: " + err.Error()}
			}
			border(dst)
			return nil
		}, nil
	case typeWxacode:
		code := rc.in.Code
		if code == nil || code.Bounds().Empty() {
			return nil, fmt.Errorf("poster: %s draws the mini-program code: %w", v.path, ErrNoCode)
		}
		return func(dst *image.RGBA) error {
			fillShape(dst, z, box, vd.rad, c.background, rc.k)
			drawImageBox(dst, z, box, vd.rad, code, modeAspectFit)
			border(dst)
			return nil
		}, nil
	}
	return nil, nil
}
