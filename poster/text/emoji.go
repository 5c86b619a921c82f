package text

import "unicode"

// emojiPresentationBMP are the code points below U+1F000 that are emoji by
// default (Emoji_Presentation=Yes in Unicode's emoji-data.txt). Above
// U+1F000 every code point the emoji font covers is treated as an emoji.
var emojiPresentationBMP = [][2]rune{
	{0x231A, 0x231B}, {0x23E9, 0x23EC}, {0x23F0, 0x23F0}, {0x23F3, 0x23F3},
	{0x25FD, 0x25FE}, {0x2614, 0x2615}, {0x2648, 0x2653}, {0x267F, 0x267F},
	{0x2693, 0x2693}, {0x26A1, 0x26A1}, {0x26AA, 0x26AB}, {0x26BD, 0x26BE},
	{0x26C4, 0x26C5}, {0x26CE, 0x26CE}, {0x26D4, 0x26D4}, {0x26EA, 0x26EA},
	{0x26F2, 0x26F3}, {0x26F5, 0x26F5}, {0x26FA, 0x26FA}, {0x26FD, 0x26FD},
	{0x2705, 0x2705}, {0x270A, 0x270B}, {0x2728, 0x2728}, {0x274C, 0x274C},
	{0x274E, 0x274E}, {0x2753, 0x2755}, {0x2757, 0x2757}, {0x2795, 0x2797},
	{0x27B0, 0x27B0}, {0x27BF, 0x27BF}, {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50},
	{0x2B55, 0x2B55},
}

// isEmojiPresentation reports whether r is drawn as an emoji without a
// variation selector.
func isEmojiPresentation(r rune) bool {
	if r >= 0x1F000 && r <= 0x1FAFF {
		return true
	}
	if r < 0x231A || r > 0x2B55 {
		return false
	}
	for _, rg := range emojiPresentationBMP {
		if r >= rg[0] && r <= rg[1] {
			return true
		}
	}
	return false
}

const (
	zwj           = 0x200D
	vs15          = 0xFE0E // text presentation
	vs16          = 0xFE0F // emoji presentation
	keycap        = 0x20E3
	riFirst       = 0x1F1E6 // regional indicators: flags are pairs of them
	riLast        = 0x1F1FF
	modifierFirst = 0x1F3FB // skin tones
	modifierLast  = 0x1F3FF
)

func isRegionalIndicator(r rune) bool { return r >= riFirst && r <= riLast }

// isExtend reports runes that belong to the cluster before them: combining
// marks, variation selectors, skin tones, emoji tags, the keycap.
func isExtend(r rune) bool {
	switch {
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF:
		return true
	case r >= modifierFirst && r <= modifierLast:
		return true
	case r >= 0xE0020 && r <= 0xE007F, r == keycap:
		return true
	case r < 0x300:
		return false
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc)
}

// clusterEnd returns where the user-perceived character starting at rs[i]
// ends: a simplified UAX #29 grapheme cluster that keeps emoji sequences
// (ZWJ sequences, flags, keycaps, skin tones, tags) and combining marks
// whole, so that no line break or font change splits them.
func clusterEnd(rs []rune, i int) int {
	j := i + 1
	if isRegionalIndicator(rs[i]) && j < len(rs) && isRegionalIndicator(rs[j]) {
		j++
	}
	for j < len(rs) {
		switch r := rs[j]; {
		case isExtend(r):
			j++
		case r == zwj:
			j++
			if j < len(rs) {
				j++ // ZWJ joins the next character
			}
		default:
			return j
		}
	}
	return j
}

// wantsEmoji reports whether a cluster asks for the emoji font: an emoji
// presentation base, or any emoji sequence mark, and no text selector.
func wantsEmoji(cl []rune) bool {
	if isEmojiPresentation(cl[0]) || isRegionalIndicator(cl[0]) {
		for _, r := range cl[1:] {
			if r == vs15 {
				return false
			}
		}
		return true
	}
	for _, r := range cl[1:] {
		switch {
		case r == vs15:
			return false
		case r == vs16, r == keycap, r == zwj, r >= modifierFirst && r <= modifierLast:
			return true
		}
	}
	return false
}
