package lsp

import (
	"fmt"
	"strings"
	"unicode/utf8"

	protocol "github.com/tliron/glsp/protocol_3_16"
)

// Positions. LSP counts lines from 0 and characters in UTF-16 code units;
// the compiler counts lines from 1 and columns in characters (runes) from
// 1. Byte offsets are ours only: the compiler's Offset is not used, since a
// token reference's offset inside a string is counted in characters.

// lineStart returns the byte offset where 0-based line n starts, or -1
// when the text has fewer lines.
func lineStart(text string, n int) int {
	off := 0
	for i := 0; i < n; i++ {
		j := strings.IndexByte(text[off:], '\n')
		if j < 0 {
			return -1
		}
		off += j + 1
	}
	return off
}

// lineAt is the text of the line starting at off, without its line break.
func lineAt(text string, off int) string {
	line := text[off:]
	if j := strings.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	return strings.TrimSuffix(line, "\r")
}

// offsetOf converts an LSP position to a byte offset. A line past the end
// is an error; a character past the end of its line means the line's end,
// as the protocol says; a character inside a surrogate pair means the
// character it belongs to.
func offsetOf(text string, p protocol.Position) (int, error) {
	off := lineStart(text, int(p.Line))
	if off < 0 {
		return 0, fmt.Errorf("line %d is past the end of the document (%d lines)", p.Line+1, strings.Count(text, "\n")+1)
	}
	line := lineAt(text, off)
	units := 0
	for i, r := range line {
		n := utf16Len(r)
		if units+n > int(p.Character) {
			return off + i, nil
		}
		units += n
	}
	return off + len(line), nil
}

func utf16Len(r rune) int {
	if r >= 0x10000 && r <= utf8.MaxRune {
		return 2
	}
	return 1
}

// posOf converts a byte offset to an LSP position.
func posOf(text string, off int) protocol.Position {
	off = max(0, min(off, len(text)))
	line := strings.Count(text[:off], "\n")
	start := strings.LastIndexByte(text[:off], '\n') + 1
	units := 0
	for _, r := range text[start:off] {
		units += utf16Len(r)
	}
	return protocol.Position{Line: protocol.UInteger(line), Character: protocol.UInteger(units)}
}

// applyChange applies one content change to text.
func applyChange(text string, ch any) (string, error) {
	switch c := ch.(type) {
	case protocol.TextDocumentContentChangeEventWhole:
		return c.Text, nil
	case protocol.TextDocumentContentChangeEvent:
		if c.Range == nil {
			return c.Text, nil
		}
		start, err := offsetOf(text, c.Range.Start)
		if err != nil {
			return "", fmt.Errorf("change starts outside the document: %v", err)
		}
		end, err := offsetOf(text, c.Range.End)
		if err != nil {
			return "", fmt.Errorf("change ends outside the document: %v", err)
		}
		if end < start {
			return "", fmt.Errorf("change range ends (%d:%d) before it starts (%d:%d)", c.Range.End.Line+1, c.Range.End.Character+1, c.Range.Start.Line+1, c.Range.Start.Character+1)
		}
		return text[:start] + c.Text + text[end:], nil
	}
	return "", fmt.Errorf("unknown kind of content change %T", ch)
}
