package textutil

import "strings"

// Nearest returns the candidate closest to name by edit distance (case
// folded), or "" when none is close enough to be a likely typo. Every "did
// you mean" of campc comes from here.
func Nearest(name string, candidates []string) string {
	best, bestD := "", -1
	ln := strings.ToLower(name)
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := distance(ln, strings.ToLower(c))
		// On a tie prefer the candidate of the same length ("hourz" is
		// "hours", not "hour"), then the first in order.
		tie := d == bestD && (len(c) == len(name)) != (len(best) == len(name))
		if bestD < 0 || d < bestD || (tie && len(c) == len(name)) || (d == bestD && !tie && c < best) {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	// A short name has few likely typos: one letter off a one-letter name
	// is just another name.
	limit := (len([]rune(name)) + 1) / 3
	if limit > 4 {
		limit = 4
	}
	if bestD > limit {
		return ""
	}
	return best
}

// distance is the optimal-string-alignment edit distance over runes: a
// swap of two neighbours ("dyas" for "days") counts as one edit.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
