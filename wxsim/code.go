package wxsim

import (
	"image/color"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Limits of the code endpoints, from WeChat's documentation.
const (
	minWidth     = 280
	maxWidth     = 1280
	defaultWidth = 430
	maxSceneLen  = 32
	maxPathLen   = 128
	quotaWindow  = time.Minute
)

// sceneChars are the characters WeChat accepts in scene.
const sceneChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$&'()*+,/:;=?@-._~"

// codeSpec is a validated code request: what to encode and how to draw it.
type codeSpec struct {
	text  string
	width int
	fg    color.NRGBA
	png   bool // transparent PNG (is_hyaline) instead of JPEG
}

// serveUnlimitedCode is POST /wxa/getwxacodeunlimit.
func (s *Sim) serveUnlimitedCode(r *http.Request) reply {
	return s.serveCodeCall(r, s.parseUnlimited)
}

// serveCode is POST /wxa/getwxacode, the limited "A" interface.
func (s *Sim) serveCode(r *http.Request) reply {
	return s.serveCodeCall(r, parsePathCode(true))
}

// serveQRCode is POST /cgi-bin/wxaapp/createwxaqrcode, always a JPEG.
func (s *Sim) serveQRCode(r *http.Request) reply {
	return s.serveCodeCall(r, parsePathCode(false))
}

// serveCodeCall runs the checks shared by the code endpoints, in the order:
// method, token, minute quota, injected failure, body, then draws the code.
func (s *Sim) serveCodeCall(r *http.Request, parse func(fields) (codeSpec, *apiError)) reply {
	if r.Method != http.MethodPost {
		return errReply(errRequirePOST)
	}
	a, e := s.checkToken(r)
	if e != nil {
		return errReply(e)
	}
	if e := s.admitCode(a); e != nil {
		return errReply(e)
	}
	f, e := readFields(r)
	if e != nil {
		return errReply(e)
	}
	spec, e := parse(f)
	if e != nil {
		return errReply(e)
	}
	ctype, body, err := renderCode(spec)
	if err != nil {
		s.log.Error("wxsim: drawing code", "text", spec.text, "err", err)
		return errReply(errSystem)
	}
	return reply{ctype: ctype, body: body}
}

// admitCode applies the minute quota and the error ratio to a call that
// passed the token check. The quota uses fixed 60-second windows per app,
// each starting at the first call after the previous one ended, so a test
// never straddles a wall-clock minute boundary by bad luck.
func (s *Sim) admitCode(a *app) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quota > 0 {
		now := s.now()
		if a.quotaStart.IsZero() || now.Sub(a.quotaStart) >= quotaWindow || now.Before(a.quotaStart) {
			a.quotaStart, a.quotaUsed = now, 0
		}
		a.quotaUsed++
		if a.quotaUsed > s.quota {
			return errMinuteQuota
		}
	}
	if s.ratio > 0 && rand.Float64() < s.ratio {
		return errSystem
	}
	return nil
}

// parseUnlimited validates a getwxacodeunlimit body.
func (s *Sim) parseUnlimited(f fields) (codeSpec, *apiError) {
	scene, _, e1 := f.str("scene")
	page, _, e2 := f.str("page")
	checkPath, hasCheck, e3 := f.boolean("check_path")
	env, hasEnv, e4 := f.str("env_version")
	spec, e5 := parseLook(f, true)
	for _, e := range []*apiError{e1, e2, e3, e4, e5} {
		if e != nil {
			return codeSpec{}, e
		}
	}
	if scene == "" || len(scene) > maxSceneLen {
		return codeSpec{}, errInvalidSceneLen
	}
	for _, c := range scene {
		if !strings.ContainsRune(sceneChars, c) {
			return codeSpec{}, errInvalidScene
		}
	}
	if hasEnv && !validEnv(env) {
		return codeSpec{}, errInvalidArgs
	}
	// Parameters go in scene: WeChat refuses a page with a query or a
	// leading slash whatever check_path says.
	if strings.HasPrefix(page, "/") || strings.Contains(page, "?") {
		return codeSpec{}, errInvalidPage
	}
	if (checkPath || !hasCheck) && page != "" {
		s.mu.Lock()
		ok := s.pages[page]
		s.mu.Unlock()
		if !ok {
			return codeSpec{}, errInvalidPage
		}
	}
	spec.text = page + "?scene=" + scene
	return spec, nil
}

// parsePathCode returns the parser for the path-based endpoints; styled is
// false for createwxaqrcode, which only knows path and width.
func parsePathCode(styled bool) func(fields) (codeSpec, *apiError) {
	return func(f fields) (codeSpec, *apiError) {
		path, _, e := f.str("path")
		if e != nil {
			return codeSpec{}, e
		}
		spec, e := parseLook(f, styled)
		if e != nil {
			return codeSpec{}, e
		}
		if styled {
			env, hasEnv, e := f.str("env_version")
			if e != nil {
				return codeSpec{}, e
			}
			if hasEnv && !validEnv(env) {
				return codeSpec{}, errInvalidArgs
			}
		}
		if path == "" || len(path) > maxPathLen {
			return codeSpec{}, errInvalidPathLen
		}
		spec.text = path
		return spec, nil
	}
}

// parseLook reads width and, when styled, auto_color, line_color and
// is_hyaline.
func parseLook(f fields, styled bool) (codeSpec, *apiError) {
	spec := codeSpec{width: defaultWidth, fg: color.NRGBA{A: 255}}
	w, hasW, e := f.number("width")
	if e != nil {
		return codeSpec{}, e
	}
	if hasW {
		spec.width = int(math.Round(max(minWidth, min(maxWidth, w))))
	}
	if !styled {
		return spec, nil
	}
	auto, _, e1 := f.boolean("auto_color")
	hyaline, _, e2 := f.boolean("is_hyaline")
	line, hasLine, e3 := f.object("line_color")
	for _, e := range []*apiError{e1, e2, e3} {
		if e != nil {
			return codeSpec{}, e
		}
	}
	spec.png = hyaline
	if hasLine {
		var rgb [3]uint8
		for i, name := range []string{"r", "g", "b"} {
			n, _, e := line.number(name)
			if e != nil {
				return codeSpec{}, e
			}
			rgb[i] = uint8(math.Round(max(0, min(255, n))))
		}
		// auto_color wins over line_color, as in WeChat; the automatic
		// colour is simply black here.
		if !auto {
			spec.fg = color.NRGBA{R: rgb[0], G: rgb[1], B: rgb[2], A: 255}
		}
	}
	return spec, nil
}

func validEnv(env string) bool {
	return env == "release" || env == "trial" || env == "develop"
}
