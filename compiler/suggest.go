package compiler

import "github.com/campc/campc/internal/textutil"

// Nearest returns the candidate closest to name by edit distance (case
// folded), or "" when none is close enough to be a likely typo; see
// textutil.Nearest, which the engine shares.
func Nearest(name string, candidates []string) string { return textutil.Nearest(name, candidates) }

func nearest(name string, candidates []string) string { return textutil.Nearest(name, candidates) }

// didYouMean formats a suggestion suffix for a quoted name.
func didYouMean(s string, quoted bool) string {
	if s == "" {
		return ""
	}
	if quoted {
		return "; did you mean \"" + s + "\"?"
	}
	return "; did you mean " + s + "?"
}
