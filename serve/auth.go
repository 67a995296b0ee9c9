package serve

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"sync"
	"time"
)

// tokens are the access tokens given out: in memory only, so a restart
// asks clients to authenticate again (601), as Marketo clients do.
type tokens struct {
	mu sync.Mutex
	m  map[string]tokenInfo
}

type tokenInfo struct {
	user    *User
	expires time.Time
}

func newTokens() *tokens { return &tokens{m: map[string]tokenInfo{}} }

// issue makes a new token for a user.
func (t *tokens) issue(u *User, now time.Time, ttl time.Duration) string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	tok := hex.EncodeToString(b[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	// Expired tokens are forgotten as new ones are given.
	for k, v := range t.m {
		if !now.Before(v.expires) {
			delete(t.m, k)
		}
	}
	t.m[tok] = tokenInfo{user: u, expires: now.Add(ttl)}
	return tok
}

// check finds a token's user: 601 when the token is unknown, 602 when it
// has expired.
func (t *tokens) check(tok string, now time.Time) (*User, *apiError) {
	t.mu.Lock()
	defer t.mu.Unlock()
	info, ok := t.m[tok]
	if !ok {
		return nil, errCode("601", "Access token invalid")
	}
	if !now.Before(info.expires) {
		return nil, errCode("602", "Access token expired")
	}
	return info.user, nil
}

// authenticate finds the user of a client id and secret, comparing the
// secret in constant time.
func (s *Service) authenticate(id, secret string) *User {
	u := s.users[id]
	if u == nil {
		// Compare anyway, so that the time taken does not say whether the
		// client id exists.
		subtle.ConstantTimeCompare([]byte(secret), []byte("x"))
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(u.Secret)) != 1 {
		return nil
	}
	return u
}

// limiter counts each API user's calls in a sliding window (Marketo: 100
// calls in 20 seconds).
type limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	calls  map[string][]time.Time
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{limit: limit, window: window, calls: map[string][]time.Time{}}
}

// allow records a call of user at now, unless the user has made limit
// calls in the window before now.
func (l *limiter) allow(user string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs := l.calls[user]
	i := 0
	for i < len(cs) && !cs[i].After(now.Add(-l.window)) {
		i++
	}
	cs = cs[i:]
	if len(cs) >= l.limit {
		l.calls[user] = cs
		return false
	}
	l.calls[user] = append(cs, now)
	return true
}
