package config

import (
	"reflect"
	"strings"
)

// Variables are the names of every WXPOSTER_ variable Config and SimConfig
// read (others, like WXPOSTER_FONT_DIR, are read by their own packages).
func Variables() []string {
	out := []string{"WXPOSTER_METRICS_LISTEN"} // env:"-": LoadFrom reads it itself
	for _, v := range []any{Config{}, SimConfig{}} {
		t := reflect.TypeOf(v)
		for i := range t.NumField() {
			if name := strings.Split(t.Field(i).Tag.Get("env"), ",")[0]; name != "" && name != "-" {
				out = append(out, name)
			}
		}
	}
	return out
}
