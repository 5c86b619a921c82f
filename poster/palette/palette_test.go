package palette

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParsePaletteErrors(t *testing.T) {
	long := strings.Repeat("字", MaxTextRunes+1)
	many := strings.TrimSuffix(strings.Repeat(`{"type":"rect","css":{"width":1,"height":1}},`, MaxViews+1), ",")
	tests := []struct {
		name, json, path, rule string
	}{
		{"not JSON", `{`, "palette", "not valid JSON"},
		{"not an object", `[]`, "palette", "must be an object"},
		{"no width", `{"height":"1rpx"}`, "width", "required"},
		{"bad width", `{"width":"wide","height":"1rpx"}`, "width", "bad length"},
		{"width in %", `{"width":"50%","height":"1rpx"}`, "width", "percentages are not allowed"},
		{"zero height", `{"width":"750rpx","height":"0rpx"}`, "height", "at least 1rpx"},
		{"too wide", `{"width":"5000rpx","height":"10rpx"}`, "width", "more than 4096"},
		{"too tall at widthPixels", `{"width":"750rpx","height":"1334rpx","widthPixels":3000}`, "height", "more than 4096"},
		{"widthPixels", `{"width":"750rpx","height":"1rpx","widthPixels":5000}`, "widthPixels", "integer from 1 to 4096"},
		{"unknown field", `{"compat":"css","width":"1rpx","height":"1rpx","colour":"red"}`, "palette.colour", "unknown field"},
		{"bad background", `{"width":"1rpx","height":"1rpx","background":"#12"}`, "background", "want a colour, a gradient or an image URL"},
		{"views not array", `{"width":"1rpx","height":"1rpx","views":{}}`, "views", "must be an array"},
		{"too many views", `{"width":"1rpx","height":"1rpx","views":[` + many + `]}`, "views", "more than 200"},
		{"no type", `{"compat":"css","width":"1rpx","height":"1rpx","views":[{}]}`, "views[0].type", "is required"},
		{"bad type", `{"compat":"css","width":"1rpx","height":"1rpx","views":[{"type":"circle"}]}`, "views[0].type", `unknown type "circle"`},
		{"unknown view field", `{"compat":"css","width":"1rpx","height":"1rpx","views":[{"type":"text","txt":"x"}]}`, "views[0].txt", "unknown field"},
		{"unknown css field", `{"compat":"css","width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"fontsize":"1rpx"}}]}`, "views[0].css.fontsize", "unknown field"},
		{"rect without size", `{"compat":"css","width":"1rpx","height":"1rpx","views":[{"type":"rect","css":{"width":"1rpx"}}]}`, "views[0].css", "needs width and height"},
		{"long text", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","text":"` + long + `"}]}`, "views[0].text", "more than 4000"},
		{"bad colour", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"color":"#ggg"}}]}`, "views[0].css.color", "bad hex colour"},
		{"gradient on text", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"color":"linear-gradient(red, blue)"}}]}`, "views[0].css.color", "only a colour"},
		{"bad gradient", `{"width":"1rpx","height":"1rpx","views":[{"type":"rect","css":{"width":1,"height":1,"color":"linear-gradient(red)"}}]}`, "views[0].css.color", "at least two colour stops"},
		{"radius values", `{"width":"1rpx","height":"1rpx","views":[{"type":"rect","css":{"width":1,"height":1,"borderRadius":"1rpx 2rpx"}}]}`, "views[0].css.borderRadius", "want 1 or 4 values"},
		{"negative radius", `{"width":"1rpx","height":"1rpx","views":[{"type":"rect","css":{"width":1,"height":1,"borderRadius":"-1rpx"}}]}`, "views[0].css.borderRadius", "negative"},
		{"bad align", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"align":"middle"}}]}`, "views[0].css.align", "want one of center, left, right"},
		{"bad border style", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"borderStyle":"double"}}]}`, "views[0].css.borderStyle", "unknown value"},
		{"shadow spread", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"shadow":"1px 1px 2px 3px #000"}}]}`, "views[0].css.shadow", "spread is not supported"},
		{"shadow garbage", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"shadow":"big"}}]}`, "views[0].css.shadow", "offX offY blur color"},
		{"maxLines", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"maxLines":1.5}}]}`, "views[0].css.maxLines", "whole number"},
		{"fontWeight", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"fontWeight":"heavy"}}]}`, "views[0].css.fontWeight", "normal, bold or a number"},
		{"fontSize zero", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"fontSize":"0rpx"}}]}`, "views[0].css.fontSize", "more than 0"},
		{"fontSize %", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"fontSize":"50%"}}]}`, "views[0].css.fontSize", "percentages are not allowed"},
		{"auto on rect", `{"width":"1rpx","height":"1rpx","views":[{"type":"rect","css":{"width":"auto","height":1}}]}`, "views[0].css.width", "only for images"},
		{"textDecoration", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"textDecoration":"blink"}}]}`, "views[0].css.textDecoration", `unknown decoration "blink"`},
		{"padding", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"padding":"1rpx 2rpx 3rpx 4rpx 5rpx"}}]}`, "views[0].css.padding", "1 to 4 lengths"},
		{"legacy array", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":{"left":["1rpx","nope"]}}]}`, "views[0].css.left[1]", `no earlier view has id "nope"`},
		{"css array item", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","css":[{},3]}]}`, "views[0].css[1]", "must be an object"},
		{"textList item", `{"width":"1rpx","height":"1rpx","views":[{"type":"inlineText","textList":[{"text":"a","css":{"fontSize":-1}}]}]}`, "views[0].textList[0].css.fontSize", "negative"},
		{"qr too long", `{"width":"1rpx","height":"1rpx","views":[{"type":"qrcode","content":"` + strings.Repeat("x", 3000) + `","css":{"width":1,"height":1}}]}`, "views[0].content", "more than a QR code holds"},
		{"text not string", `{"width":"1rpx","height":"1rpx","views":[{"type":"text","text":{}}]}`, "views[0].text", "must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.json))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, %v; want a *Error", p, err)
			}
			if pe.Path != tt.path || !strings.Contains(pe.Rule, tt.rule) {
				t.Errorf("error %q; want path %q and a rule containing %q", err, tt.path, tt.rule)
			}
			if pe.Error() != pe.Path+": "+pe.Rule {
				t.Errorf("Error() = %q", pe.Error())
			}
		})
	}
}

func TestParsePaletteAccepts(t *testing.T) {
	for _, js := range []string{
		// Painter's own examples (README, palette/*.js), as JSON.
		`{"width":"654rpx","height":"1000rpx","background":"#eee","views":[
			{"type":"image","url":"/palette/avatar.jpg","css":{"top":"48rpx","right":"48rpx","width":"192rpx","height":"192rpx","borderRadius":"96rpx","borderWidth":"2rpx","borderColor":"#000000"}},
			{"type":"text","text":"未公开的自我介绍","css":{"top":"296rpx","left":"327rpx","align":"center","fontSize":"38rpx","color":"#3c3c3c"}},
			{"type":"text","id":"one","text":"我是一个会跳舞的宇航员","css":[{"top":"50rpx","left":"10rpx","fontSize":"30rpx"},{"color":"blue"}]},
			{"type":"rect","css":{"top":"calc(one.top + one.height / 2 - 50rpx)","left":"calc(one.right + 20rpx)","width":"100rpx","height":"100rpx","color":"linear-gradient(-135deg, #fedcba 0%, rgba(18, 52, 86, 1) 20%, #987 80%)"}},
			{"type":"qrcode","content":"https://github.com/Kujiale-Mobile/Painter","css":{"bottom":"40rpx","left":"180rpx","color":"red","width":"120rpx","height":"120rpx"}},
			{"type":"inlineText","textList":[{"text":"大","css":{"fontSize":"40rpx","color":"red"}},{"text":"小","css":{"fontSize":"20rpx"}}],"css":{"top":"600rpx","width":"300rpx"}}
		]}`,
		`{"width":"750rpx","height":"750rpx","background":"radial-gradient(rgba(0, 0, 0, 0) 5%, #0ff 15%, #f0f 60%)","borderRadius":"20rpx 0 20rpx 0"}`,
		`{"width":375,"height":"100px","background":"white"}`,
		`{"width":"750rpx","height":"100rpx","background":"rgb(255, 0, 0)"}`,
		`{"width":"750rpx","height":"100rpx","background":"https://cdn.example.com/bg.jpg"}`,
		`{"width":"750rpx","height":"100rpx","background":"{{bg}}"}`,
		`{"width":"750rpx","height":"100rpx","views":[{"type":"text","text":"x","css":{"fontWeight":600,"lineHeight":"1.5","maxLines":"2","rotate":"0.25turn","shadow":"rgba(0, 0, 0, .3) 0 2rpx 4rpx","textStyle":"stroke","fontFamily":"PingFang SC","padding":10}}]}`,
		`{"width":"750rpx","height":"100rpx","views":[{"type":"text","text":123,"css":{"scalable":true,"deletable":false}}]}`,
		`{"width":"750rpx","height":"100rpx","views":[{"type":"wxacode","css":{"width":"430rpx","height":"430rpx","background":"#fff"}}]}`,
	} {
		if _, err := Parse([]byte(js)); err != nil {
			t.Errorf("Parse(%.60s…): %v", js, err)
		}
	}
}

func TestVariables(t *testing.T) {
	p, err := Parse([]byte(`{"width":"750rpx","height":"100rpx","background":"{{ bg }}","views":[
		{"type":"text","text":"你好 {{nickname}}，{{nickname}} {{ user.level }}"},
		{"type":"image","url":"https://cdn.example.com/{{avatar}}.png"},
		{"type":"qrcode","content":"{{url}}","css":{"width":1,"height":1}},
		{"type":"inlineText","textList":[{"text":"{{price}}"},{"text":"{not} {{ }} {{1x}}"}]}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"avatar", "bg", "nickname", "price", "url", "user.level"}
	if got := p.Variables(); !slices.Equal(got, want) {
		t.Errorf("Variables() = %q, want %q", got, want)
	}
	data := map[string]string{"avatar": "a1", "bg": "#ff0000", "nickname": "小明{{url}}", "price": "¥9", "url": "https://x.test/", "user.level": "VIP"}
	q, err := p.Fill(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := q.views[0].Text; got != "你好 小明{{url}}，小明{{url}} VIP" {
		t.Errorf("filled text = %q (values are not searched for placeholders)", got)
	}
	if got := q.views[1].URL; got != "https://cdn.example.com/a1.png" {
		t.Errorf("filled url = %q", got)
	}
	if q.background.Paint.Kind != PaintColor || q.background.Paint.Color.R != 0xff {
		t.Errorf("filled background not parsed as a colour: %+v", q.background)
	}
	if got := q.views[3].TextList[1].Text; got != "{not} {{ }} {{1x}}" {
		t.Errorf("non-placeholders changed: %q", got)
	}
	// The original is untouched: templates are shared.
	if p.views[0].Text != "你好 {{nickname}}，{{nickname}} {{ user.level }}" || p.views[3].TextList[0].Text != "{{price}}" {
		t.Error("Fill changed the palette it was called on")
	}
	if got := q.Variables(); len(got) != 1 || got[0] != "url" {
		t.Errorf("filled palette variables = %q, want only the one a value brought in", got)
	}

	delete(data, "nickname")
	delete(data, "avatar")
	_, err = p.Fill(data)
	var me *MissingVariableError
	if !errors.As(err, &me) || me.Name != "avatar" {
		t.Errorf("Fill without avatar, nickname: %v, want MissingVariableError{avatar}", err)
	}
	data["avatar"], data["nickname"] = "", ""
	data["bg"] = "not a colour"
	_, err = p.Fill(data)
	var pe *Error
	if !errors.As(err, &pe) || pe.Path != "background" {
		t.Errorf("Fill with a bad background: %v, want an Error on background", err)
	}
}

func TestFillWithoutVariables(t *testing.T) {
	p, err := Parse([]byte(`{"width":"10rpx","height":"10rpx","views":[{"type":"text","text":"plain"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if vars := p.Variables(); len(vars) != 0 {
		t.Errorf("Variables() = %q", vars)
	}
	q, err := p.Fill(nil)
	if err != nil || q.views[0].Text != "plain" {
		t.Errorf("Fill(nil) = %v, %v", q, err)
	}
}

func ExampleError() {
	_, err := Parse([]byte(`{"width":"750rpx","height":"100rpx","views":[{"type":"text","css":{"left":"calc(title.right + 8rpx)"}}]}`))
	fmt.Println(err)
	// Output: views[0].css.left: calc(): no earlier view has id "title"
}
