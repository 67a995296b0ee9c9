package ir

import "strings"

// Key joins the names that identify something (a workspace's name, then
// the folders and program a list is declared in and the list's own name;
// or a workspace's name and a program's or campaign's name) into one
// string that no other sequence of names gives. Names may contain any
// character, so joining them with "/" as they are would make workspace
// "A" with campaign "Y/Z" the same as workspace "A/Y" with campaign "Z".
// Each name is therefore escaped ("\" as `\\`, "/" as `\/`) before the
// names are joined with "/"; a name without either character is written
// as it is, so list "Hot" of program "P" of workspace "W" is "W/P/Hot".
// People's lists, program statuses and qualification history are kept,
// and stored, under these keys.
func Key(names ...string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(KeyPart(n))
	}
	return b.String()
}

var keyEscaper = strings.NewReplacer(`\`, `\\`, `/`, `\/`)

// KeyPart escapes one name as Key does, for a key built from a path of
// names already escaped.
func KeyPart(name string) string {
	if !strings.ContainsAny(name, `\/`) {
		return name
	}
	return keyEscaper.Replace(name)
}
