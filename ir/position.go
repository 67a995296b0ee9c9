package ir

import (
	"fmt"

	"github.com/campc/campc/internal/textutil"
)

// Position is a point in a source file: 1-based line, and 1-based column
// counted in characters (runes), as the parser counts them. lang.Position
// is this type.
type Position struct {
	Filename string
	Offset   int
	Line     int
	Column   int
}

// Advance returns the position n characters further on the same line.
func (p Position) Advance(n int) Position {
	p.Column += n
	p.Offset += n
	return p
}

// String is file:line:col, the file name escaped (it comes from the file
// system, and a terminal shows it).
func (p Position) String() string {
	return fmt.Sprintf("%s:%d:%d", textutil.Escape(p.Filename), p.Line, p.Column)
}

// Range is the text between two positions, End included.
type Range struct {
	Start, End Position
}
