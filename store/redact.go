package store

import (
	"net/url"
	"slices"
	"strings"
)

// redactMask replaces every secret in a connection string shown to people.
const redactMask = "xxxxx"

// RedactDSN returns a --db value fit to print: the password of a URL's
// userinfo, the password and sslpassword parameters of a URL's query (in
// any case, percent-encoded or not) and of a key-value DSN
// (host=… password=…, quoted or not) become xxxxx. A malformed value is
// masked generously rather than parsed exactly: more may be hidden, never
// less. Anything else, a SQLite file path say, comes back unchanged.
func RedactDSN(dsn string) string {
	spans := secretSpans(dsn)
	if len(spans) == 0 {
		return dsn
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(dsn[last:sp[0]])
		b.WriteString(redactMask)
		last = sp[1]
	}
	b.WriteString(dsn[last:])
	return b.String()
}

// RedactIn masks in msg, an error message about dsn, the secrets that dsn
// carries: the whole of dsn where it appears, then each secret on its own,
// raw and percent-decoded, since drivers quote connection strings in their
// own ways.
func RedactIn(msg, dsn string) string {
	spans := secretSpans(dsn)
	if len(spans) == 0 {
		return msg
	}
	pairs := []string{dsn, RedactDSN(dsn)}
	var secrets []string
	for _, sp := range spans {
		s := dsn[sp[0]:sp[1]]
		secrets = append(secrets, s)
		if d, err := url.PathUnescape(s); err == nil {
			secrets = append(secrets, d)
		}
		if d, err := url.QueryUnescape(s); err == nil {
			secrets = append(secrets, d)
		}
		secrets = append(secrets, unquoteKV(s))
	}
	// Longest first, so that a secret that contains another is masked
	// whole.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if s != "" {
			pairs = append(pairs, s, redactMask)
		}
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

// redactedError is an error whose message has dsn's secrets masked; it
// still unwraps to the driver's error.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redactErr(err error, dsn string) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: RedactIn(err.Error(), dsn), err: err}
}

// secretSpans returns the byte ranges of dsn that hold secrets, in order
// and without overlaps.
func secretSpans(dsn string) [][2]int {
	if IsPostgres(dsn) {
		return urlSecretSpans(dsn)
	}
	return kvSecretSpans(dsn)
}

func isSecretKey(k string) bool {
	if d, err := url.QueryUnescape(k); err == nil {
		k = d
	}
	k = strings.ToLower(strings.TrimSpace(k))
	return k == "password" || k == "sslpassword"
}

func urlSecretSpans(dsn string) [][2]int {
	start := strings.Index(dsn, "://") + len("://")
	p := dsn[start:]
	var spans [][2]int
	// The userinfo ends at the last '@' before the query. A password with
	// an unencoded '?' hides that '@' in what looks like the query, so
	// then the last '@' anywhere ends it: that over-masks a query value
	// holding an '@', which is the safe way to be wrong.
	at := -1
	if q := strings.IndexByte(p, '?'); q >= 0 {
		at = strings.LastIndexByte(p[:q], '@')
	}
	if at < 0 {
		at = strings.LastIndexByte(p, '@')
	}
	rest := 0
	if at >= 0 {
		if c := strings.IndexByte(p[:at], ':'); c >= 0 && c+1 < at {
			spans = append(spans, [2]int{start + c + 1, start + at})
		}
		rest = at + 1
	}
	q := strings.IndexByte(p[rest:], '?')
	if q < 0 {
		return spans
	}
	off := start + rest + q + 1
	for _, part := range strings.Split(dsn[off:], "&") {
		if k, v, ok := strings.Cut(part, "="); ok && isSecretKey(k) && v != "" {
			vs := off + len(k) + 1
			spans = append(spans, [2]int{vs, vs + len(v)})
		}
		off += len(part) + 1
	}
	return spans
}

// kvSecretSpans scans a libpq key-value DSN (key=value pairs separated
// by spaces, a value optionally in single quotes with \' and \\ escapes).
// Text that is not of that shape has no secrets.
func kvSecretSpans(dsn string) [][2]int {
	var spans [][2]int
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' }
	i, n := 0, len(dsn)
	for i < n {
		for i < n && isSpace(dsn[i]) {
			i++
		}
		ks := i
		for i < n && dsn[i] != '=' && !isSpace(dsn[i]) {
			i++
		}
		key := dsn[ks:i]
		for i < n && isSpace(dsn[i]) {
			i++
		}
		if i >= n || dsn[i] != '=' {
			continue // not a key=value pair: a word of something else
		}
		i++
		for i < n && isSpace(dsn[i]) {
			i++
		}
		vs := i
		if i < n && dsn[i] == '\'' {
			i++
			for i < n && dsn[i] != '\'' {
				if dsn[i] == '\\' {
					i++
				}
				i++
			}
			i = min(i+1, n) // the closing quote; an unclosed one runs to the end
		} else {
			for i < n && !isSpace(dsn[i]) {
				if dsn[i] == '\\' {
					i++
				}
				i++
			}
			i = min(i, n)
		}
		if isSecretKey(key) && i > vs {
			spans = append(spans, [2]int{vs, i})
		}
	}
	return spans
}

// unquoteKV undoes a key-value DSN's quoting and escapes, as a driver
// would before quoting the value in a message.
func unquoteKV(s string) string {
	s = strings.TrimPrefix(s, "'")
	s = strings.TrimSuffix(s, "'")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
