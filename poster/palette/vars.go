package palette

import (
	"regexp"
	"slices"
	"strings"
)

// placeholderRE matches {{name}}, spaces inside the braces allowed. Names
// are identifiers, dots and dashes allowed after the first character.
var placeholderRE = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}`)

func hasPlaceholder(s string) bool {
	return strings.Contains(s, "{{") && placeholderRE.MatchString(s)
}

// fields returns pointers to every string that may hold placeholders.
func (p *Palette) varFields() []*string {
	out := []*string{&p.background.raw}
	for _, v := range p.views {
		out = append(out, &v.Text, &v.URL, &v.Content)
		for i := range v.TextList {
			out = append(out, &v.TextList[i].Text)
		}
	}
	return out
}

// Variables lists the {{name}} placeholders used in text, textList[].text,
// url and content fields and the palette background, sorted, unique.
func (p *Palette) Variables() []string {
	var names []string
	for _, f := range p.varFields() {
		if !strings.Contains(*f, "{{") {
			continue
		}
		for _, m := range placeholderRE.FindAllStringSubmatch(*f, -1) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Fill returns a copy with every {{name}} replaced from data, in one pass
// (values are not searched for placeholders). A name missing from data is a
// *MissingVariableError (the first missing one in sorted order); a filled
// background that is no colour, gradient or URL is a *Error.
func (p *Palette) Fill(data map[string]string) (*Palette, error) {
	for _, name := range p.Variables() {
		if _, ok := data[name]; !ok {
			return nil, &MissingVariableError{Name: name}
		}
	}
	q := *p
	q.views = make([]*View, len(p.views))
	for i, v := range p.views {
		c := *v
		if len(v.TextList) > 0 {
			c.TextList = slices.Clone(v.TextList)
		}
		q.views[i] = &c
	}
	replace := func(s string) string {
		return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
			return data[placeholderRE.FindStringSubmatch(m)[1]]
		})
	}
	for _, f := range q.varFields() {
		if strings.Contains(*f, "{{") {
			*f = replace(*f)
		}
	}
	if hasPlaceholder(p.background.raw) {
		bg, err := parseBackground(q.background.raw, p.compat, func(string) {})
		if err != nil {
			return nil, &Error{"background", err.Error()}
		}
		q.background = bg
	}
	return &q, nil
}
