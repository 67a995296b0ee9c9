package store

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestRedactDSN(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"campc.db", "campc.db"},
		{"/tmp/a b/c.db", "/tmp/a b/c.db"},
		{"postgres://u@host/x", "postgres://u@host/x"},
		{"postgres://u:pw@host/x", "postgres://u:xxxxx@host/x"},
		{"postgres://u:@host/x", "postgres://u:@host/x"},
		{"postgres://u@host/x?password=s3cr3tpw", "postgres://u@host/x?password=xxxxx"},
		{"postgresql://u@host/x?sslmode=require&PassWord=a&sslpassword=b", "postgresql://u@host/x?sslmode=require&PassWord=xxxxx&sslpassword=xxxxx"},
		{"postgres://u@host/x?SSLPASSWORD=b&application_name=y", "postgres://u@host/x?SSLPASSWORD=xxxxx&application_name=y"},
		{"postgres://u@host/x?pass%77ord=s3cr3t", "postgres://u@host/x?pass%77ord=xxxxx"},
		{"postgres://u@host/x?password=s3cr%zz", "postgres://u@host/x?password=xxxxx"},
		{"postgres://u:p%zz@host/x", "postgres://u:xxxxx@host/x"},
		{"postgres://u:p@ss@host/x", "postgres://u:xxxxx@host/x"},
		{"postgres://u:pa/ss@host/x", "postgres://u:xxxxx@host/x"},
		// An unencoded '?' in the password: mask generously.
		{"postgres://u:pa?ss@host/x", "postgres://u:xxxxx@host/x"},
		{"postgres://u:pw@host/x?application_name=a@b&password=c", "postgres://u:xxxxx@host/x?application_name=a@b&password=xxxxx"},
		{"postgres://u@host/x?application_name=a@b&password=c", "postgres://u@host/x?application_name=a@b&password=xxxxx"},
		{"host=h port=5432 password=s3cr3t user=u", "host=h port=5432 password=xxxxx user=u"},
		{"host=h password='s3 cr\\'3t' sslpassword=z", "host=h password=xxxxx sslpassword=xxxxx"},
		{"host=h password = 'open quote", "host=h password = xxxxx"},
		{"host=h PASSWORD=a\\ b dbname=x", "host=h PASSWORD=xxxxx dbname=x"},
		{"host=h password=", "host=h password="},
	} {
		if got := RedactDSN(c.in); got != c.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRedactIn(t *testing.T) {
	dsn := "postgres://u:p%40ss@host/x?password=s3cr3tpw&sslpassword=k%2Fey"
	msg := dsn + ": cannot connect: password p@ss, s3cr3tpw or k/ey refused"
	got := RedactIn(msg, dsn)
	want := RedactDSN(dsn) + ": cannot connect: password xxxxx, xxxxx or xxxxx refused"
	if got != want {
		t.Errorf("RedactIn = %q, want %q", got, want)
	}
	kv := "host=h password='it''s' sslpassword='a\\'b'"
	if got := RedactIn("bad: a'b and 'a\\'b'", kv); strings.Contains(got, "a'b") {
		t.Errorf("RedactIn(key-value) = %q: shows the secret", got)
	}
}

// TestOpenPostgresRedacts opens a URL on a port that refuses: the error
// names the database but not its secrets.
func TestOpenPostgresRedacts(t *testing.T) {
	_, err := OpenPostgres(t.Context(), "postgres://u:pw1secret@127.0.0.1:1/x?password=s3cr3tpw&sslpassword=k3yk3y&connect_timeout=5", false)
	if err == nil {
		t.Fatal("opened a database on port 1")
	}
	for _, s := range []string{"pw1secret", "s3cr3tpw", "k3yk3y"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error shows the secret %q: %v", s, err)
		}
	}
	var inner interface{ Unwrap() error }
	if !errors.As(err, &inner) {
		t.Errorf("error %v does not unwrap to the driver's", err)
	}
}

// FuzzRedactDSN builds well-formed URLs and key-value DSNs around a
// fuzzed password and checks that it never shows.
func FuzzRedactDSN(f *testing.F) {
	f.Add("u", "s3cr3t", "password")
	f.Add("user", "p@ss/wo?rd", "SSLPassword")
	f.Add("", "a'b\\c d", "password")
	f.Fuzz(func(t *testing.T, user, pw, key string) {
		_ = RedactDSN(user + pw + key) // any text: no panic
		if pw == "" || !isSecretKey(key) || strings.ContainsAny(key, "&=?#") {
			return
		}
		u := url.URL{Scheme: "postgres", User: url.UserPassword(user, pw), Host: "127.0.0.1:5432", Path: "/x"}
		u.RawQuery = url.QueryEscape(key) + "=" + url.QueryEscape(pw) + "&sslmode=disable"
		got, err := url.Parse(RedactDSN(u.String()))
		if err != nil {
			t.Fatalf("RedactDSN(%q) = %q does not parse: %v", u.String(), RedactDSN(u.String()), err)
		}
		if p, _ := got.User.Password(); p != redactMask || got.User.Username() != user {
			t.Errorf("RedactDSN(%q) = %q: userinfo %v", u.String(), got, got.User)
		}
		for k, v := range got.Query() {
			if isSecretKey(k) && v[0] != redactMask {
				t.Errorf("RedactDSN(%q) = %q: %s=%q", u.String(), got, k, v[0])
			}
		}
		esc := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw)
		kv := "host=h " + strings.ToLower(key) + "='" + esc + "' dbname=x"
		if want := "host=h " + strings.ToLower(key) + "=xxxxx dbname=x"; RedactDSN(kv) != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", kv, RedactDSN(kv), want)
		}
		msg := "failed: <" + pw + ">"
		if got := RedactIn(msg, kv); got != "failed: <xxxxx>" && strings.Contains(got, pw) {
			t.Errorf("RedactIn(%q, %q) = %q", msg, kv, got)
		}
	})
}
