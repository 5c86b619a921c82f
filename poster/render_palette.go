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

	"github.com/wxposter/wxposter/poster/budget"
	"github.com/wxposter/wxposter/poster/palette"
	"github.com/wxposter/wxposter/poster/text"
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

// PaletteInput is what a render needs besides the palette. Images (the
// code, the loader's) must not be changed once drawn: the renderer keeps
// them prepared, by identity (scalecache.go).
type PaletteInput struct {
	Code        image.Image // the job's mini-program code, drawn by views of type "wxacode"
	Images      ImageLoader // may be nil if the palette has no images
	WidthPixels int         // output width in px; 0 → the palette's own "widthPixels" field, else its width in rpx (a 750rpx design → 750 px)
}

// RenderPalette renders p into a new image owned by the caller. The canvas
// starts transparent (Painter's default background): the JPEG encoder
// flattens it onto white. Images are loaded first, concurrently, through
// in.Images; a failed load fails the render (errors wrap the loader's).
// Limits broken at this scale (sizes, fonts, shadows) are *palette.Error.
//
// The render has a budget (package budget: the one in ctx, else a fresh one
// with the defaults): decoded image pixels, pixels of canvas and layers,
// and time, checked inside the heavy loops (blur, text lines) as well as
// between views. Exceeding it is a *budget.Error naming the view and the
// limit; once ctx is done otherwise, ctx.Err() is returned.
func (r *Renderer) RenderPalette(ctx context.Context, p *palette.Palette, in PaletteInput) (*image.RGBA, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if budget.From(ctx) == nil {
		var cancel context.CancelFunc
		ctx, cancel = budget.With(ctx, budget.New(budget.Limits{}))
		defer cancel()
	}
	if p == nil {
		return nil, errors.New("poster: RenderPalette: nil palette")
	}
	size, k, err := p.OutputSize(max(in.WidthPixels, 0))
	if err != nil {
		return nil, err
	}
	if err := budget.From(ctx).TakeDraw(int64(size.X)*int64(size.Y), "the canvas"); err != nil {
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
		ctx: ctx,
		r:   r, fs: sc.faces, sc: sc, p: p, in: in, k: k, images: images,
		w: float64(size.X), h: float64(size.Y),
		rects: make([]palette.Rect, 0, len(p.Views())),
	}
	dst := image.NewRGBA(image.Rect(0, 0, size.X, size.Y))
	rc.background(dst)
	for i, v := range p.Views() {
		if err := budget.Check(ctx, v.Path); err != nil {
			return nil, err
		}
		if err := rc.drawView(dst, i, v); err != nil {
			return nil, err
		}
	}
	if len(p.BorderRadius()) > 0 {
		env := &palette.Env{K: k, Base: min(rc.w, rc.h)}
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
	ctx    context.Context // carries the render's budget
	r      *Renderer
	fs     *text.Faces
	sc     *scratch
	p      *palette.Palette
	in     PaletteInput
	k      float64 // output px per rpx
	w, h   float64 // canvas size
	rects  []palette.Rect
	images map[string]image.Image
}

func (rc *renderCtx) raster() *vector.Rasterizer { return &rc.sc.raster }

func (rc *renderCtx) env(base float64) *palette.Env {
	return &palette.Env{K: rc.k, Base: base, Rects: rc.rects}
}

// Length resolves l, naming path.field in errors.
func (rc *renderCtx) length(l palette.Length, base float64, path string) (float64, error) {
	v, err := l.Resolve(rc.env(base))
	if err != nil {
		return 0, &palette.Error{Path: path, Rule: err.Error()}
	}
	return v, nil
}

func (rc *renderCtx) radii(ls []palette.Length, env *palette.Env, path string, w, h float64) (radii, error) {
	var r radii
	for i, l := range ls {
		v, err := l.Resolve(env)
		if err != nil {
			return r, &palette.Error{Path: path, Rule: err.Error()}
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
	case bg.URL != "":
		if img := rc.images[bg.URL]; img != nil {
			drawScaled(dst, b, img, img.Bounds(), draw.Src)
		}
	case bg.Paint.Kind == palette.PaintColor:
		fillUniform(dst, b, palette.Premul(bg.Paint.Color))
	case bg.Paint.Kind == palette.PaintGradient:
		renderGradient(bg.Paint.Grad, dst, b, rectFOf(b), rc.k)
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
func (rc *renderCtx) drawView(dst *image.RGBA, i int, v *palette.View) error {
	vd, err := rc.layoutView(v)
	if err != nil {
		return err
	}
	rc.rects = append(rc.rects, palette.Rect{
		Left: vd.outer.x, Top: vd.outer.y,
		Right: vd.outer.x + vd.outer.w, Bottom: vd.outer.y + vd.outer.h,
		Width: vd.natural, Height: vd.box.h,
	})
	if vd.paint == nil {
		return nil
	}
	c := v.CSS
	if c.Rotate == 0 && vd.shadow == nil {
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
	if c.Rotate == 0 {
		L = L.Intersect(canvas.Inset(-margin))
	} else {
		L = L.Intersect(rotatedBounds(canvas, cx, cy, -c.Rotate).Inset(-margin))
	}
	if L.Empty() {
		return nil
	}
	// A layer, and for a shadow its silhouette and blurred copy, are the
	// memory of this view: taken from the render's budget first.
	cost := int64(L.Dx()) * int64(L.Dy())
	if vd.shadow != nil {
		cost *= 3
	}
	if err := budget.From(rc.ctx).TakeDraw(cost, v.Path); err != nil {
		return err
	}
	layer := image.NewRGBA(L)
	if err := vd.paint(layer); err != nil {
		return err
	}
	if err := budget.Check(rc.ctx, v.Path); err != nil {
		return err
	}
	if s := vd.shadow; s != nil {
		var err error
		if layer, err = withShadow(rc.ctx, layer, s); err != nil {
			return budget.Check(rc.ctx, v.Path)
		}
	}
	if err := budget.Check(rc.ctx, v.Path); err != nil {
		return err
	}
	if c.Rotate == 0 {
		draw.Draw(dst, L, layer, L.Min, draw.Over)
		return nil
	}
	drawRotated(dst, layer, cx, cy, c.Rotate)
	return nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// layoutView resolves the view's size, position and decorations.
func (rc *renderCtx) layoutView(v *palette.View) (*viewDraw, error) {
	c := v.CSS
	path := v.Path + ".css."
	vd := &viewDraw{}
	var pads [4]float64
	for i, l := range c.Padding {
		p, err := rc.length(l, 0, path+"padding")
		if err != nil {
			return nil, err
		}
		pads[i] = max(p, 0)
	}
	var w, h float64
	var err error
	var tb *textBox
	switch v.Type {
	case palette.TypeText, palette.TypeInlineText:
		if tb, err = rc.layoutTextView(v, pads); err != nil {
			return nil, err
		}
		w, h = tb.w, tb.h
	case palette.TypeImage:
		if w, h, err = rc.imageSize(v); err != nil {
			return nil, err
		}
	default:
		if w, err = rc.length(c.Width, rc.w, path+"width"); err != nil {
			return nil, err
		}
		if h, err = rc.length(c.Height, rc.h, path+"height"); err != nil {
			return nil, err
		}
	}
	w, h = max(w, 0), max(h, 0)
	if w > palette.MaxViewSidePx || h > palette.MaxViewSidePx {
		return nil, &palette.Error{Path: v.Path + ".css", Rule: fmt.Sprintf("the view is %.0f×%.0f px, more than %d px on a side", w, h, palette.MaxViewSidePx)}
	}
	if vd.box, err = rc.place(v, w, h); err != nil {
		return nil, err
	}
	vd.natural = w
	if tb != nil {
		vd.natural = tb.natural
		// Descenders below Painter's box, wide emoji, strokes and shadows of
		// glyphs stay within about half an em of the box.
		vd.inkPad = 0.6*tb.lay.MaxSize() + 2
	}
	vd.outer = rectF{vd.box.x - pads[3], vd.box.y - pads[0], w + pads[1] + pads[3], h + pads[0] + pads[2]}
	base := min(vd.outer.w, vd.outer.h)
	if vd.rad, err = rc.radii(c.BorderRadius, rc.env(base), path+"borderRadius", vd.outer.w, vd.outer.h); err != nil {
		return nil, err
	}
	if c.BorderWidth.Set() {
		if vd.bw, err = rc.length(c.BorderWidth, base, path+"borderWidth"); err != nil {
			return nil, err
		}
		if vd.bw > palette.MaxBorderPx {
			return nil, &palette.Error{Path: path + "borderWidth", Rule: fmt.Sprintf("is %.0f px at this scale, more than %d", vd.bw, palette.MaxBorderPx)}
		}
		vd.bw = max(vd.bw, 0)
	}
	if c.Shadow != nil {
		if vd.shadow, err = rc.shadow(c.Shadow, path+"shadow"); err != nil {
			return nil, err
		}
	}
	vd.paint, err = rc.painter(v, vd, tb)
	return vd, err
}

// place positions a w×h box: x from right (anchored at W − right, aligned
// right by default), else left, else 0; y likewise from bottom or top.
// align and verticalAlign say which part of the box sits at the anchor.
func (rc *renderCtx) place(v *palette.View, w, h float64) (rectF, error) {
	c := v.CSS
	path := v.Path + ".css."
	axis := func(nearL, farL palette.Length, near, far string, size, extent float64, al palette.Align) (float64, error) {
		var anchor float64
		switch {
		case farL.Set():
			d, err := rc.length(farL, size, path+far)
			if err != nil {
				return 0, err
			}
			anchor = size - d
			if al == palette.AlignDefault {
				al = palette.AlignEnd
			}
		case nearL.Set():
			d, err := rc.length(nearL, size, path+near)
			if err != nil {
				return 0, err
			}
			anchor = d
		}
		switch al {
		case palette.AlignMiddle:
			return anchor - extent/2, nil
		case palette.AlignEnd:
			return anchor - extent, nil
		}
		return anchor, nil
	}
	x, err := axis(c.Left, c.Right, "left", "right", rc.w, w, c.Align)
	if err != nil {
		return rectF{}, err
	}
	y, err := axis(c.Top, c.Bottom, "top", "bottom", rc.h, h, c.VerticalAlign)
	if err != nil {
		return rectF{}, err
	}
	if math.Abs(x) > palette.MaxViewSidePx*4 || math.Abs(y) > palette.MaxViewSidePx*4 {
		return rectF{}, &palette.Error{Path: v.Path + ".css", Rule: "the view is placed too far off the canvas"}
	}
	return rectF{x, y, w, h}, nil
}

func (rc *renderCtx) shadow(s *palette.Shadow, path string) (*resolvedShadow, error) {
	var out resolvedShadow
	for _, f := range []struct {
		l   palette.Length
		dst *float64
	}{{s.X, &out.dx}, {s.Y, &out.dy}, {s.Blur, &out.blur}} {
		v, err := rc.length(f.l, 0, path)
		if err != nil {
			return nil, err
		}
		*f.dst = v
	}
	switch {
	case out.blur > palette.MaxBlurPx:
		return nil, &palette.Error{Path: path, Rule: fmt.Sprintf("blur is %.0f px at this scale, more than %d", out.blur, palette.MaxBlurPx)}
	case math.Abs(out.dx) > palette.MaxShadowOffsetPx || math.Abs(out.dy) > palette.MaxShadowOffsetPx:
		return nil, &palette.Error{Path: path, Rule: fmt.Sprintf("offset is more than %d px at this scale", palette.MaxShadowOffsetPx)}
	case s.Color.A == 0:
		return nil, nil
	}
	out.blur = max(out.blur, 0)
	out.color = s.Color
	return &out, nil
}

// imageSize is the box of an image view: css width and height, or the
// natural size for "auto" (or unset) sides. The natural size counts image
// pixels as device pixels at 2×: N px wide is N/2 px, that is N rpx.
func (rc *renderCtx) imageSize(v *palette.View) (float64, float64, error) {
	c := v.CSS
	path := v.Path + ".css."
	var nat image.Point
	if img := rc.images[v.URL]; img != nil {
		nat = img.Bounds().Size()
	}
	autoW := c.WidthAuto || !c.Width.Set() || c.Mode == palette.ModeAuto
	autoH := c.HeightAuto || !c.Height.Set() || c.Mode == palette.ModeAuto
	var w, h float64
	var err error
	if !autoW {
		if w, err = rc.length(c.Width, rc.w, path+"width"); err != nil {
			return 0, 0, err
		}
	}
	if !autoH {
		if h, err = rc.length(c.Height, rc.h, path+"height"); err != nil {
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
func (rc *renderCtx) painter(v *palette.View, vd *viewDraw, tb *textBox) (func(*image.RGBA) error, error) {
	c := v.CSS
	z := rc.raster()
	box, outer := snap(vd.box), snap(vd.outer)
	border := func(dst *image.RGBA) {
		drawBorder(dst, z, outer, vd.rad, vd.bw, c.BorderColor, c.BorderStyle)
	}
	switch v.Type {
	case palette.TypeRect:
		fill := c.Color
		if !fill.IsSet() {
			fill = c.Background
		}
		if !fill.IsSet() && rc.p.Compat() == palette.CompatPainter {
			// Painter sets fillStyle to the unset colour, which leaves the
			// canvas default: black.
			fill = palette.Paint{Kind: palette.PaintColor, Color: color.NRGBA{0, 0, 0, 0xff}}
		}
		return func(dst *image.RGBA) error {
			fillShape(dst, z, outer, vd.rad, fill, rc.k)
			border(dst)
			return nil
		}, nil
	case palette.TypeText, palette.TypeInlineText:
		return func(dst *image.RGBA) error {
			fillShape(dst, z, outer, vd.rad, c.Background, rc.k)
			if err := rc.r.drawText(rc.ctx, dst, rc.fs, tb.lay, vd.box.x, vd.box.y, vd.box.w, tb.lineH, c.TextAlign); err != nil {
				return budget.Check(rc.ctx, v.Path)
			}
			border(dst)
			return nil
		}, nil
	case palette.TypeImage:
		img := rc.images[v.URL]
		if img == nil {
			return nil, nil
		}
		return func(dst *image.RGBA) error {
			fillShape(dst, z, box, vd.rad, c.Background, rc.k) // shows around aspectFit and through transparency
			drawImageBox(dst, z, box, vd.rad, img, c.Mode)
			border(dst)
			return nil
		}, nil
	case palette.TypeQRCode:
		if v.Content == "" {
			return nil, nil
		}
		if len(v.Content) > palette.MaxQRBytes {
			return nil, &palette.Error{Path: v.Path + ".content", Rule: fmt.Sprintf("is %d bytes, more than a QR code holds (%d)", len(v.Content), palette.MaxQRBytes)}
		}
		fg := c.Color
		if !fg.IsSet() {
			fg = palette.Paint{Kind: palette.PaintColor, Color: color.NRGBA{0, 0, 0, 0xff}}
		}
		return func(dst *image.RGBA) error {
			fillShape(dst, z, box, vd.rad, c.Background, rc.k)
			if err := drawQR(dst, box, v.Content, fg); err != nil {
				return &palette.Error{Path: v.Path + ".content", Rule: "cannot be encoded as a QR code: " + err.Error()}
			}
			border(dst)
			return nil
		}, nil
	case palette.TypeWxacode:
		code := rc.in.Code
		if code == nil || code.Bounds().Empty() {
			return nil, fmt.Errorf("poster: %s draws the mini-program code: %w", v.Path, ErrNoCode)
		}
		return func(dst *image.RGBA) error {
			fillShape(dst, z, box, vd.rad, c.Background, rc.k)
			drawImageBox(dst, z, box, vd.rad, code, palette.ModeAspectFit)
			border(dst)
			return nil
		}, nil
	}
	return nil, nil
}
