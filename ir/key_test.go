package ir

import (
	"slices"
	"strings"
	"testing"
)

func TestKeyUnambiguous(t *testing.T) {
	cases := [][]string{
		{"A", "Y/Z"}, {"A/Y", "Z"}, {"A", "Y", "Z"}, {`A\`, "Z"}, {`A\/`, "Z"}, {`A`, `\/Z`}, {"A/", "/Z"}, {"", ""}, {"W", "P", "Hot"},
	}
	seen := map[string][]string{}
	for _, names := range cases {
		k := Key(names...)
		if other, dup := seen[k]; dup {
			t.Errorf("Key(%q) = Key(%q) = %q", names, other, k)
		}
		seen[k] = names
		back, ok := splitKey(k)
		if !ok || !slices.Equal(back, names) {
			t.Errorf("splitKey(%q) = %q, %v; want %q", k, back, ok, names)
		}
	}
	if k := Key("W", "P", "Hot"); k != "W/P/Hot" {
		t.Errorf("plain names are written as they are: %q", k)
	}
}

func FuzzKey(f *testing.F) {
	f.Add("A", "Y/Z", "A/Y", "Z")
	f.Add(`\`, `/`, `\/`, ``)
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		if Key(a, b) == Key(c, d) && (a != c || b != d) {
			t.Fatalf("Key(%q, %q) = Key(%q, %q)", a, b, c, d)
		}
		if back, ok := splitKey(Key(a, b)); !ok || !slices.Equal(back, []string{a, b}) {
			t.Fatalf("splitKey(Key(%q, %q)) = %q", a, b, back)
		}
	})
}

// splitKey returns the names a key was made of; false when key is not
// one Key makes (a lone "\" or one before another character than "\" or
// "/").
func splitKey(key string) ([]string, bool) {
	var names []string
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case '\\':
			if i+1 == len(key) || (key[i+1] != '\\' && key[i+1] != '/') {
				return nil, false
			}
			i++
			b.WriteByte(key[i])
		case '/':
			names = append(names, b.String())
			b.Reset()
		default:
			b.WriteByte(key[i])
		}
	}
	return append(names, b.String()), true
}
