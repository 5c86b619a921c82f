package wechat

import (
	"fmt"
	"regexp"
	"strings"
)

// Limits of wxa/getwxacodeunlimit, from WeChat's documentation.
const (
	MinWidth     = 280
	MaxWidth     = 1280
	DefaultWidth = 430
	MaxSceneLen  = 32
)

// Env versions accepted by env_version.
const (
	EnvRelease = "release"
	EnvTrial   = "trial"
	EnvDevelop = "develop"
)

var sceneRE = regexp.MustCompile(`^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]*$`)

// Color is line_color: decimal RGB components sent as JSON numbers.
type Color struct {
	R int `json:"r"`
	G int `json:"g"`
	B int `json:"b"`
}

// UnlimitedCode is the body of POST /wxa/getwxacodeunlimit. Every field is sent
// with its real JSON type: WeChat answers 47001 to "430" or "true" strings.
type UnlimitedCode struct {
	Scene      string `json:"scene"`
	Page       string `json:"page,omitempty"`
	CheckPath  *bool  `json:"check_path,omitempty"`
	EnvVersion string `json:"env_version,omitempty"`
	Width      int    `json:"width,omitempty"`
	AutoColor  bool   `json:"auto_color"`
	LineColor  *Color `json:"line_color,omitempty"`
	IsHyaline  bool   `json:"is_hyaline"`
}

// FieldError is a request that breaks one of WeChat's documented rules.
type FieldError struct {
	Field string
	Rule  string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Rule }

// Normalize fills in WeChat's defaults so that two requests for the same code
// compare (and hash) equal: width 430, env_version release, check_path true
// for release and false for trial/develop (unpublished pages only exist there).
func (c UnlimitedCode) Normalize() UnlimitedCode {
	if c.Width == 0 {
		c.Width = DefaultWidth
	}
	if c.EnvVersion == "" {
		c.EnvVersion = EnvRelease
	}
	if c.CheckPath == nil {
		v := c.EnvVersion == EnvRelease
		c.CheckPath = &v
	}
	if c.AutoColor {
		c.LineColor = nil // ignored by WeChat when auto_color is set
	}
	return c
}

// Validate checks the request against WeChat's rules before a call is spent on it.
func (c UnlimitedCode) Validate() error {
	switch {
	case c.Scene == "":
		return &FieldError{"scene", "is required (1-32 characters)"}
	case len(c.Scene) > MaxSceneLen:
		return &FieldError{"scene", fmt.Sprintf("must be at most %d characters, got %d", MaxSceneLen, len(c.Scene))}
	case !sceneRE.MatchString(c.Scene):
		return &FieldError{"scene", "may only contain 0-9 A-Z a-z and !#$&'()*+,/:;=?@-._~"}
	}
	if err := ValidatePage(c.Page); err != nil {
		return err
	}
	switch c.EnvVersion {
	case "", EnvRelease, EnvTrial, EnvDevelop:
	default:
		return &FieldError{"env_version", "must be one of release, trial, develop"}
	}
	if c.Width != 0 && (c.Width < MinWidth || c.Width > MaxWidth) {
		return &FieldError{"width", fmt.Sprintf("must be between %d and %d", MinWidth, MaxWidth)}
	}
	if lc := c.LineColor; lc != nil {
		for _, v := range []int{lc.R, lc.G, lc.B} {
			if v < 0 || v > 255 {
				return &FieldError{"line_color", "components must be between 0 and 255"}
			}
		}
	}
	return nil
}

// ValidatePage checks a mini-program page path: no leading slash, no query
// (parameters travel in scene).
func ValidatePage(page string) error {
	switch {
	case strings.HasPrefix(page, "/"):
		return &FieldError{"page", "must not start with '/' (use pages/index/index)"}
	case strings.ContainsAny(page, "?#"):
		return &FieldError{"page", "must not contain a query or fragment; pass parameters in scene"}
	case len(page) > 256:
		return &FieldError{"page", "must be at most 256 characters"}
	case strings.ContainsFunc(page, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return &FieldError{"page", "must not contain spaces or control characters"}
	}
	return nil
}
