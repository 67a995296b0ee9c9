package lsp

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	protocol "github.com/tliron/glsp/protocol_3_16"
)

// refOffset is offsetOf written another way, over the text as UTF-16: the
// fuzzer compares the two.
func refOffset(text string, p protocol.Position) (int, bool) {
	lines := strings.Split(text, "\n")
	if int(p.Line) >= len(lines) {
		return 0, false
	}
	off := 0
	for _, l := range lines[:p.Line] {
		off += len(l) + 1
	}
	line := strings.TrimSuffix(lines[p.Line], "\r")
	units := 0
	for i, r := range line {
		u := len(utf16.Encode([]rune{r}))
		if r == utf8.RuneError {
			u = 1
		}
		if units+u > int(p.Character) {
			return off + i, true
		}
		units += u
	}
	return off + len(line), true
}

// FuzzEdits applies incremental edits as an editor sends them, then
// analyzes the result and asks for what is under every cursor: positions
// must convert as UTF-16 says, a bad range must be refused, not crash, and
// no text must make the analysis or the features panic.
func FuzzEdits(f *testing.F) {
	f.Add(fileA, uint32(13), uint32(8), uint32(13), uint32(20), "Hot 😀", uint32(3))
	f.Add(fileC, uint32(6), uint32(25), uint32(6), uint32(27), "x", uint32(1000))
	f.Add("workspace \"W\"\r\nlist \"é\"\r\n", uint32(1), uint32(7), uint32(1), uint32(6), "", uint32(0))
	f.Add(fileB, uint32(0), uint32(0), uint32(40), uint32(0), "{{", uint32(7))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string, l1, c1, l2, c2 uint32, insert string, probe uint32) {
		if len(text) > 1<<16 || len(insert) > 1<<10 {
			return
		}
		from := protocol.Position{Line: l1 % 64, Character: c1 % 256}
		to := protocol.Position{Line: l2 % 64, Character: c2 % 256}
		got, err := applyChange(text, protocol.TextDocumentContentChangeEvent{Range: &protocol.Range{Start: from, End: to}, Text: insert})
		s, okS := refOffset(text, from)
		e, okE := refOffset(text, to)
		switch {
		case !okS || !okE || e < s:
			if err == nil {
				t.Fatalf("edit %v-%v of %q accepted, want refused", from, to, text)
			}
			return
		case err != nil:
			t.Fatalf("edit %v-%v of %q refused: %v", from, to, text, err)
		case got != text[:s]+insert+text[e:]:
			t.Fatalf("edit %v-%v of %q gave %q, want %q", from, to, text, got, text[:s]+insert+text[e:])
		}
		// Round trip: the position of an offset converts back to it.
		l := newLines(got)
		for _, off := range []int{0, len(got) / 2, len(got), int(probe) % (len(got) + 1)} {
			for off > 0 && off < len(got) && !utf8.RuneStart(got[off]) {
				off--
			}
			if back, err := l.offset(l.pos(off)); err != nil || (back != off && !(back < off && strings.TrimSuffix(got[back:off], "\r") == "")) {
				t.Fatalf("offset %d -> %+v -> %d (%v) in %q", off, l.pos(off), back, err, got)
			}
		}
		// Analysis and the features at a cursor: no panic.
		a := NewAnalyzer(dir, nil)
		file := dir + "/f.camp"
		a.SetOverlay(file, got)
		an := a.Analyze()
		ix := an.idx()
		cur := int(probe) % (len(got) + 1)
		if o := ix.at(file, cur); o != nil {
			describe(an, o)
			checkNewName(an, o.target, "New Name")
		}
		pl := an.placeAt(file, cur)
		complete(an, pl, got, cur, got[strings.LastIndexByte(got[:cur], '\n')+1:cur])
		keywordsAt(got[:cur])
	})
}
