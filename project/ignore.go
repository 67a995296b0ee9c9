package project

import (
	"fmt"
	"regexp"
	"strings"
)

// IgnoreFile is the name of the file that lists paths a load skips, in
// gitignore syntax, relative to the directory that holds it.
const IgnoreFile = ".campignore"

// ignoreRule is one pattern line of a .campignore file.
type ignoreRule struct {
	re      *regexp.Regexp
	negate  bool
	dirOnly bool
	base    string // the directory of the .campignore file, slash-separated, "" for the root
}

// parseIgnore reads the rules of one .campignore file whose directory is
// base (relative to the walk's root). name is for messages.
func parseIgnore(name, base, text string) ([]ignoreRule, error) {
	var rules []ignoreRule
	for i, line := range strings.Split(strings.TrimPrefix(text, "\uFEFF"), "\n") {
		line = strings.TrimSuffix(line, "\r")
		line = trimTrailingSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{base: base}
		switch {
		case strings.HasPrefix(line, "!"):
			r.negate = true
			line = line[1:]
		case strings.HasPrefix(line, `\!`), strings.HasPrefix(line, `\#`):
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly = true
			line = strings.TrimRight(line, "/")
		}
		if line == "" {
			continue
		}
		// A slash at the start or in the middle anchors the pattern to the
		// file's directory; otherwise it matches a name at any depth.
		anchored := strings.Contains(line, "/")
		line = strings.TrimPrefix(line, "/")
		expr, err := globRegexp(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, i+1, err)
		}
		if !anchored {
			expr = "(?:.*/)?" + expr
		}
		r.re, err = regexp.Compile("^" + expr + "$")
		if err != nil {
			return nil, fmt.Errorf("%s:%d: bad pattern %q: %v", name, i+1, line, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// trimTrailingSpace drops trailing spaces unless escaped with a backslash.
func trimTrailingSpace(s string) string {
	for strings.HasSuffix(s, " ") && !strings.HasSuffix(s, `\ `) {
		s = s[:len(s)-1]
	}
	return s
}

// globRegexp turns a gitignore glob into a regular expression over a
// slash-separated path: * and ? stay within a path element, ** crosses them.
func globRegexp(g string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch {
		case strings.HasPrefix(g[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(g[i:], "/**") && i+3 == len(g):
			b.WriteString("/.*")
			i += 2
		case strings.HasPrefix(g[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '\\' && i+1 < len(g):
			i++
			b.WriteString(regexp.QuoteMeta(string(g[i])))
		case c == '[':
			j := strings.IndexByte(g[i+1:], ']')
			if j < 0 {
				return "", fmt.Errorf("unclosed [ in pattern %q", g)
			}
			class := g[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String(), nil
}

// ignored reports whether rel (slash-separated, relative to the walk's
// root) is ignored by rules: the last rule that matches decides.
func ignored(rules []ignoreRule, rel string, isDir bool) bool {
	out := false
	for _, r := range rules {
		if r.dirOnly && !isDir {
			continue
		}
		p := rel
		if r.base != "" {
			if !strings.HasPrefix(rel, r.base+"/") {
				continue
			}
			p = strings.TrimPrefix(rel, r.base+"/")
		}
		if r.re.MatchString(p) {
			out = !r.negate
		}
	}
	return out
}
