package storage

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzAttrJSON keeps the hand-written JSON of attribute values equal to
// encoding/json's (without HTML escaping).
func FuzzAttrJSON(f *testing.F) {
	f.Add("plain", 1.5)
	f.Add("quote \" back \\ \n\t\r \x01 \u2028 \xff é <&>", 1e21)
	f.Add("", 1e-7)
	f.Add("x", -0.000001)
	f.Fuzz(func(t *testing.T, s string, n float64) {
		for _, v := range []AttrValue{AttrStr(s), AttrNum(n)} {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v.Any()); err != nil {
				continue // NaN and infinities have no JSON
			}
			got := v.String()
			if got+"\n" != want.String() {
				t.Fatalf("%#v: got %s, want %s", v.Any(), got, want.String())
			}
		}
	})
}
