package lang

import "testing"

func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`send email "A"`, `send email "A"`},
		{"send   email\n\t\"A\"", `send email "A"`},
		{"wait 1 day // soon\n  on weekdays Mon-Fri", `wait 1 day on weekdays Mon - Fri`},
		{"if Score>=10", `if Score >= 10`},
		{"if Score >= 10", `if Score >= 10`},
		{`send email "a  b"`, `send email "a  b"`},
	} {
		if got := Canonical(tc.in); got != tc.want {
			t.Errorf("Canonical(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
