package textutil

import (
	"bufio"
	"fmt"
	"io"
)

// DidYouMean is "; did you mean X?" for the candidate nearest to name
// (Nearest), or "" when none is near: the tail of an "unknown" message.
func DidYouMean(name string, candidates []string) string {
	if best := Nearest(name, candidates); best != "" {
		return fmt.Sprintf("; did you mean %s?", best)
	}
	return ""
}

const bom = "\ufeff"

// SkipBOM buffers r and skips a UTF-8 byte order mark at its start,
// returning how many bytes it skipped (for byte offsets in messages).
func SkipBOM(r io.Reader) (*bufio.Reader, int64) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(len(bom)); string(b) == bom {
		br.Discard(len(bom))
		return br, int64(len(bom))
	}
	return br, 0
}
